//! Sign-in throttling: exponential backoff on failed passwords, per user name and per client
//! address, so a password cannot be guessed at the speed of the server.
//!
//! Every attempt is counted **before** its password is checked (so parallel guesses cannot all
//! slip in before the first failure is recorded); a successful sign-in forgets the user's and
//! the address's count. After `free` counted attempts, each further one locks the key for
//! 1 s, 2 s, 4 s … up to `max_lockout`; while a key is locked, attempts are refused with
//! `429 Too Many Requests` and `Retry-After`, without checking the password — the right
//! password is refused too. An address gets four times a user's free attempts (several people
//! may sign in from behind one proxy). A key is forgotten an hour after its last attempt.
//! Unknown user names are throttled exactly like known ones, so the lock does not tell them
//! apart.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept at most; beyond, the stalest are dropped (bounds memory under a spray of names).
const MAX_KEYS: usize = 10_000;
/// How long a key is remembered after its last attempt.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// How many times a user's free attempts an address gets.
const ADDRESS_FACTOR: u32 = 4;
/// Longest user name kept as a key (longer names are cut; no user name is that long).
const MAX_NAME: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    attempts: u32,
    last: Instant,
    locked_until: Instant,
}

/// The backoff state of every user name and address that recently failed to sign in.
#[derive(Debug)]
pub struct SignInThrottle {
    entries: Mutex<HashMap<Key, Entry>>,
    free: u32,
    max_lockout: Duration,
}

impl SignInThrottle {
    /// A throttle letting `free` attempts per user through before backing off, locking at most
    /// `max_lockout` at a time. `free == 0` turns throttling off.
    pub fn new(free: u32, max_lockout: Duration) -> SignInThrottle {
        SignInThrottle {
            entries: Mutex::new(HashMap::new()),
            free,
            max_lockout,
        }
    }

    fn keys(user: &str, address: Option<IpAddr>) -> Vec<(Key, u32)> {
        let name: String = user.chars().take(MAX_NAME).collect();
        let mut keys = vec![(Key::User(name), 1)];
        keys.extend(address.map(|a| (Key::Address(a), ADDRESS_FACTOR)));
        keys
    }

    /// Counts an attempt to sign in as `user` from `address` at `now`, or refuses it with how
    /// long to wait when the user or the address is locked.
    pub fn attempt(
        &self,
        user: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Duration> {
        if self.free == 0 {
            return Ok(());
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let keys = Self::keys(user, address);
        let wait = keys
            .iter()
            .filter_map(|(k, _)| entries.get(k))
            .filter(|e| now.duration_since(e.last) < FORGET_AFTER)
            .map(|e| e.locked_until.saturating_duration_since(now))
            .max()
            .unwrap_or_default();
        if !wait.is_zero() {
            return Err(wait);
        }
        if entries.len() >= MAX_KEYS {
            prune(&mut entries, now);
        }
        for (key, factor) in keys {
            let entry = entries.entry(key).or_insert(Entry {
                attempts: 0,
                last: now,
                locked_until: now,
            });
            if now.duration_since(entry.last) >= FORGET_AFTER {
                entry.attempts = 0;
            }
            entry.attempts = entry.attempts.saturating_add(1);
            entry.last = now;
            let free = self.free.saturating_mul(factor);
            if entry.attempts > free {
                entry.locked_until = now + self.lockout(entry.attempts - free);
            }
        }
        Ok(())
    }

    /// 1 s for the first attempt over the free ones, doubling, at most `max_lockout`.
    fn lockout(&self, over: u32) -> Duration {
        let secs = 1u64.checked_shl(over.saturating_sub(1)).unwrap_or(u64::MAX);
        Duration::from_secs(secs).min(self.max_lockout)
    }

    /// `user` signed in from `address`: both are forgotten.
    pub fn succeeded(&self, user: &str, address: Option<IpAddr>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        for (key, _) in Self::keys(user, address) {
            entries.remove(&key);
        }
    }
}

/// Drops forgotten keys, then the stalest half if the map is still full.
fn prune(entries: &mut HashMap<Key, Entry>, now: Instant) {
    entries.retain(|_, e| now.duration_since(e.last) < FORGET_AFTER);
    if entries.len() >= MAX_KEYS {
        let mut lasts: Vec<Instant> = entries.values().map(|e| e.last).collect();
        lasts.sort();
        let cut = lasts[lasts.len() / 2];
        entries.retain(|_, e| e.last > cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_secs(900);

    #[test]
    fn backs_off_exponentially_after_the_free_attempts() {
        let t = SignInThrottle::new(5, MAX);
        let start = Instant::now();
        for _ in 0..5 {
            t.attempt("ana", None, start).unwrap();
        }
        // The sixth is counted and locks for 1 s; the seventh must wait.
        t.attempt("ana", None, start).unwrap();
        assert_eq!(t.attempt("ana", None, start), Err(Duration::from_secs(1)));
        let later = start + Duration::from_secs(1);
        t.attempt("ana", None, later).unwrap();
        assert_eq!(t.attempt("ana", None, later), Err(Duration::from_secs(2)));
        // Other users are not affected; success forgets.
        t.attempt("bob", None, later).unwrap();
        t.succeeded("ana", None);
        t.attempt("ana", None, later).unwrap();
    }

    #[test]
    fn the_lockout_is_capped_and_forgotten_after_an_hour() {
        let t = SignInThrottle::new(1, MAX);
        let mut now = Instant::now();
        for _ in 0..40 {
            if let Err(wait) = t.attempt("x", None, now) {
                assert!(wait <= MAX);
                now += wait;
            }
        }
        assert_eq!(t.attempt("x", None, now), Err(MAX));
        now += FORGET_AFTER + MAX;
        t.attempt("x", None, now).unwrap();
        t.attempt("x", None, now).unwrap();
    }

    #[test]
    fn an_address_is_locked_across_user_names() {
        let t = SignInThrottle::new(2, MAX);
        let addr: IpAddr = "192.0.2.7".parse().unwrap();
        let now = Instant::now();
        for i in 0..9 {
            t.attempt(&format!("user{i}"), Some(addr), now).unwrap();
        }
        assert!(t.attempt("someone-else", Some(addr), now).is_err());
        t.attempt("someone-else", Some("192.0.2.8".parse().unwrap()), now)
            .unwrap();
    }

    #[test]
    fn zero_free_attempts_turns_it_off() {
        let t = SignInThrottle::new(0, MAX);
        for _ in 0..100 {
            t.attempt("x", None, Instant::now()).unwrap();
        }
    }
}
