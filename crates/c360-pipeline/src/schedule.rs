//! Cron schedules in a time zone, and the clock that drives them.
//!
//! A schedule is a cron pattern (`croner`: 5 fields, or 6 with seconds first; `@hourly` and
//! friends) read in an IANA time zone (`chrono-tz`). Daylight-saving changes follow croner's
//! rules (the Open Cron Pattern Specification): a fixed-time job whose local time does not
//! exist on a spring-forward day runs at the first instant after the gap; on a fall-back day a
//! fixed-time job runs once, at the first of the two instants; interval jobs (`*/5 * * * *`)
//! keep their real-time rhythm.
//!
//! Nothing here reads the wall clock: [`Clock`] is passed in, [`SystemClock`] in production.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};
use croner::Cron;

/// A cron pattern and the time zone it is read in.
#[derive(Clone)]
pub struct CronSchedule {
    pattern: String,
    timezone: Tz,
    cron: Cron,
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronSchedule({} {})", self.pattern, self.timezone)
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern && self.timezone == other.timezone
    }
}

impl CronSchedule {
    /// Parses `pattern` in the IANA time zone `timezone` (`UTC`, `America/New_York`, ...).
    pub fn parse(pattern: &str, timezone: &str) -> Result<CronSchedule, String> {
        let timezone = Tz::from_str(timezone.trim())
            .map_err(|_| format!("'{timezone}' is not an IANA time zone (e.g. Europe/Paris)"))?;
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(pattern.trim())
            .map_err(|e| format!("'{pattern}' is not a cron pattern: {e}"))?;
        Ok(CronSchedule {
            pattern: pattern.trim().to_string(),
            timezone,
            cron,
        })
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The time zone it is read in.
    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// The first firing strictly after `after`; `None` if the pattern never fires again.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.timezone);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// Where "now" comes from.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn local(schedule: &CronSchedule, t: DateTime<Utc>) -> String {
        t.with_timezone(&schedule.timezone())
            .format("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    }

    #[test]
    fn a_daily_job_keeps_its_local_time_across_spring_forward() {
        // New York moves from EST (UTC-5) to EDT (UTC-4) on 2025-03-09 at 02:00.
        let s = CronSchedule::parse("0 6 * * *", "America/New_York").unwrap();
        let sat = s.next_after(utc("2025-03-07T12:00:00Z")).unwrap();
        let sun = s.next_after(sat).unwrap();
        let mon = s.next_after(sun).unwrap();
        assert_eq!(sat, utc("2025-03-08T11:00:00Z"));
        assert_eq!(sun, utc("2025-03-09T10:00:00Z"));
        assert_eq!(mon, utc("2025-03-10T10:00:00Z"));
        assert_eq!(local(&s, sun), "2025-03-09 06:00:00 EDT");
        assert_eq!((sun - sat).num_hours(), 23, "the night lost an hour");
    }

    #[test]
    fn a_job_inside_the_skipped_hour_runs_right_after_the_gap_once() {
        let s = CronSchedule::parse("30 2 * * *", "America/New_York").unwrap();
        let runs: Vec<String> =
            std::iter::successors(s.next_after(utc("2025-03-08T00:00:00Z")), |t| {
                s.next_after(*t)
            })
            .take(3)
            .map(|t| local(&s, t))
            .collect();
        assert_eq!(
            runs,
            [
                "2025-03-08 02:30:00 EST",
                "2025-03-09 03:00:00 EDT",
                "2025-03-10 02:30:00 EDT"
            ]
        );
    }

    #[test]
    fn a_job_inside_the_repeated_hour_runs_once_at_fall_back() {
        // 2025-11-02 01:00–02:00 happens twice in New York (EDT, then EST).
        let s = CronSchedule::parse("30 1 * * *", "America/New_York").unwrap();
        let first = s.next_after(utc("2025-10-31T12:00:00Z")).unwrap();
        let second = s.next_after(first).unwrap();
        let third = s.next_after(second).unwrap();
        assert_eq!(local(&s, first), "2025-11-01 01:30:00 EDT");
        assert_eq!(local(&s, second), "2025-11-02 01:30:00 EDT");
        assert_eq!(local(&s, third), "2025-11-03 01:30:00 EST");
        assert_eq!((third - second).num_hours(), 25);
    }

    #[test]
    fn five_minute_streams_keep_real_time_across_fall_back() {
        let s = CronSchedule::parse("*/5 * * * *", "Europe/Paris").unwrap();
        // Paris falls back on 2025-10-26 at 03:00 CEST → 02:00 CET (01:00 UTC).
        let mut t = utc("2025-10-26T00:50:00Z");
        let mut gaps = Vec::new();
        for _ in 0..6 {
            let next = s.next_after(t).unwrap();
            gaps.push((next - t).num_minutes());
            t = next;
        }
        assert!(gaps.iter().all(|g| *g == 5), "{gaps:?}");
    }

    #[test]
    fn seconds_and_time_zones_parse() {
        let s = CronSchedule::parse("*/3 * * * * *", "UTC").unwrap();
        let t = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 1).unwrap();
        assert_eq!(
            s.next_after(t).unwrap(),
            Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 3).unwrap()
        );
        assert!(CronSchedule::parse("* * *", "UTC").is_err());
        assert!(CronSchedule::parse("0 * * * *", "Nowhere/City").is_err());
    }
}
