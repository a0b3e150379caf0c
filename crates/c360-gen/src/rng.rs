//! Seed derivation and the small set of random draws the generator uses.
//!
//! Every random stream is a `ChaCha8Rng` whose seed is a splitmix64 hash of
//! `(config seed, purpose tag, customer index, extra)`: a stream never depends on which
//! other streams were used before it, so customers, chunks and simulated days can be
//! generated in any order or in parallel with identical results.
//!
//! The draws are written here on top of `next_u64` (instead of `rand`'s distributions) so
//! that the bytes of the data depend only on the ChaCha8 stream, which `rand_chacha`
//! guarantees to be stable, and not on the sampling algorithms of a `rand` version.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Purpose tags: one per independent random stream.
pub(crate) mod tag {
    pub const SEGMENTS: u64 = 0x5345_474d;
    pub const DECLINE: u64 = 0x4445_434c;
    pub const ATTRS: u64 = 0x4154_5452;
    pub const BEHAVIOUR: u64 = 0x4245_4841;
    pub const TXN: u64 = 0x5458_4e48;
    pub const TXN_DIRT: u64 = 0x5458_4e44;
    pub const CHANGE: u64 = 0x4348_4e47;
    pub const CUST_DIRT: u64 = 0x4355_5344;
    pub const SIM_TXN: u64 = 0x5349_4d54;
    pub const SIM_TXN_DIRT: u64 = 0x5349_4d44;
    pub const SIM_CHANGE_PICK: u64 = 0x5343_4850;
    pub const SIM_CHANGE: u64 = 0x5343_4847;
    pub const SIM_CUST_DIRT: u64 = 0x5343_4444;
}

/// The splitmix64 finaliser: a bijective 64-bit mix with good avalanche.
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit key for one random stream.
pub(crate) fn stream_key(seed: u64, tag: u64, a: u64, b: u64) -> u64 {
    let h = splitmix64(seed ^ splitmix64(tag));
    let h = splitmix64(h ^ a.wrapping_mul(0xD6E8_FEB8_6659_FD93));
    splitmix64(h ^ b.wrapping_mul(0xA076_1D64_78BD_642F))
}

/// A uniform number in `[0, 1)` straight from a key (for cheap per-day Bernoulli trials).
pub(crate) fn unit_from_key(key: u64) -> f64 {
    (key >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// One seeded random stream.
pub(crate) struct Rng {
    inner: ChaCha8Rng,
    spare_normal: Option<f64>,
}

impl Rng {
    pub(crate) fn new(seed: u64, tag: u64, a: u64, b: u64) -> Rng {
        Rng {
            inner: ChaCha8Rng::seed_from_u64(stream_key(seed, tag, a, b)),
            spare_normal: None,
        }
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        unit_from_key(self.next_u64())
    }

    /// Uniform in `[lo, hi)`.
    #[inline]
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in `[0, n)` (Lemire's multiply-shift; the bias is below 2^-32).
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform integer in `[lo, hi]`.
    #[inline]
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// `true` with probability `p`.
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A standard normal draw (Box–Muller, the second value of each pair kept for the next call).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
        self.spare_normal = Some(r * s);
        r * c
    }

    /// An index drawn with probability proportional to the increments of `cumulative`
    /// (a non-decreasing table whose last entry is the total weight).
    #[inline]
    pub(crate) fn pick_cumulative(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative[cumulative.len() - 1];
        let x = self.unit() * total;
        cumulative
            .iter()
            .position(|&c| x < c)
            .unwrap_or(cumulative.len() - 1)
    }

    /// Fisher–Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// Running sums of `weights`, for [`Rng::pick_cumulative`].
pub(crate) fn cumulative(weights: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map(|_| Rng::new(42, tag::TXN, 7, 0).next_u64())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::new(42, tag::TXN, 7, 0).next_u64(),
            Rng::new(42, tag::TXN, 8, 0).next_u64()
        );
        assert_ne!(
            Rng::new(42, tag::TXN, 7, 0).next_u64(),
            Rng::new(43, tag::TXN, 7, 0).next_u64()
        );
        assert_ne!(
            Rng::new(42, tag::TXN, 7, 0).next_u64(),
            Rng::new(42, tag::ATTRS, 7, 0).next_u64()
        );
    }

    #[test]
    fn draws_have_the_right_moments() {
        let mut r = Rng::new(1, 2, 3, 4);
        let n = 200_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let z = r.normal();
            s += z;
            s2 += z * z;
        }
        assert!((s / n as f64).abs() < 0.01);
        assert!((s2 / n as f64 - 1.0).abs() < 0.02);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[r.pick_cumulative(&[1.0, 3.0, 6.0])] += 1;
        }
        assert!(
            (counts[2] as f64 / 30_000.0 - 0.5).abs() < 0.02,
            "{counts:?}"
        );
        assert!((0..1000).all(|_| (3..=5).contains(&r.between(3, 5))));
    }
}
