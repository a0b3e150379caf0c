//! Text → typed value parsers, one per bronze column type, shared by every file format.
//!
//! Each parser takes a field as it arrived and returns `Ok(None)` for an empty or
//! whitespace-only field (bronze keeps the gap; silver decides whether it matters),
//! `Ok(Some(value))` when it parses, and a [`Problem`] naming the value when it does not.
//! Surrounding spaces are ignored by every typed parser. Nothing is ever rounded: a value
//! that cannot be stored exactly is rejected.
//!
//! ```
//! use c360_ingest::coerce::{parse_money, parse_timestamp};
//! assert_eq!(parse_money(" $1,234.5 ").unwrap(), Some(123_450));
//! assert_eq!(parse_money("").unwrap(), None);
//! assert_eq!(parse_money("1.234").unwrap_err().kind.key(), "decimal_places");
//! // 2025-01-01T05:00:00Z in microseconds since the epoch
//! assert_eq!(parse_timestamp("2025-01-01T00:00:00-05:00").unwrap(), Some(1_735_707_600_000_000));
//! ```

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::rejects::{Problem, RejectKind};

/// Longest piece of a rejected value quoted in a reason; longer values are cut with `…`.
const MAX_QUOTED: usize = 64;

/// `10^12` cents = `10^10` dollars: the first value a `DECIMAL(12,2)` cannot hold.
const MONEY_LIMIT_CENTS: i128 = 1_000_000_000_000;

/// The value as quoted in a reason: at most [`MAX_QUOTED`] characters.
pub(crate) fn quote(value: &str) -> String {
    match value.char_indices().nth(MAX_QUOTED) {
        None => format!("'{value}'"),
        Some((cut, _)) => format!("'{}…'", &value[..cut]),
    }
}

fn blank(value: &str) -> bool {
    value.trim().is_empty()
}

/// Parses an `INT` such as `age`: an optional sign and digits; a fraction of zeros (`34.0`) is
/// allowed.
pub fn parse_int32(value: &str) -> Result<Option<i32>, Problem> {
    if blank(value) {
        return Ok(None);
    }
    let bad = || {
        Problem::new(
            RejectKind::BadInteger,
            format!("bad integer {}", quote(value)),
        )
    };
    let s = value.trim();
    let (negative, rest) = split_sign(s);
    let (int, frac) = match rest.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (rest, None),
    };
    if int.is_empty() || !all_digits(int) {
        return Err(bad());
    }
    if let Some(frac) = frac {
        if !frac.bytes().all(|b| b == b'0') {
            return Err(bad());
        }
    }
    let magnitude: i64 = match int.trim_start_matches('0') {
        "" => 0,
        digits if digits.len() > 10 => i64::MAX,
        digits => digits.parse().map_err(|_| bad())?,
    };
    let signed = if negative { -magnitude } else { magnitude };
    i32::try_from(signed).map(Some).map_err(|_| {
        Problem::new(
            RejectKind::OutOfRange,
            format!("{} out of range for INT", quote(value)),
        )
    })
}

/// Parses a money value into cents of a `DECIMAL(12,2)`.
///
/// Accepted: surrounding spaces, a sign and a `$` in either order (`-$5`, `$-5`), thousands
/// separators in groups of three (`1,234.56`; in a CSV file they only survive inside quotes),
/// up to two decimal places (further decimals are accepted only when they are zeros, so
/// `12.500` is 12.50 but `12.345` is rejected, never rounded). Rejected: scientific notation,
/// anything else that is not a number, and magnitudes of 10^10 or more. Zero and negative
/// amounts are accepted (silver quarantines them).
pub fn parse_money(value: &str) -> Result<Option<i128>, Problem> {
    if blank(value) {
        return Ok(None);
    }
    let bad = || {
        Problem::new(
            RejectKind::BadNumber,
            format!("bad number {}", quote(value)),
        )
    };
    let s = value.trim();
    let (negative, rest) = match s.strip_prefix('$') {
        Some(after_dollar) => split_sign(after_dollar),
        None => {
            let (negative, rest) = split_sign(s);
            (negative, rest.strip_prefix('$').unwrap_or(rest))
        }
    };
    let (int, frac) = match rest.split_once('.') {
        Some((int, frac)) => (int, frac),
        None => (rest, ""),
    };
    if (int.is_empty() && frac.is_empty()) || !all_digits(frac) || !valid_grouping(int) {
        return Err(bad());
    }
    let (kept, extra) = frac.split_at(frac.len().min(2));
    if !extra.bytes().all(|b| b == b'0') {
        return Err(Problem::new(
            RejectKind::DecimalPlaces,
            format!("more than 2 decimal places in {}", quote(value)),
        ));
    }
    let out_of_range = || {
        Problem::new(
            RejectKind::OutOfRange,
            format!("{} out of range for DECIMAL(12,2)", quote(value)),
        )
    };
    let mut cents: i128 = 0;
    for b in int.bytes().filter(|b| b.is_ascii_digit()) {
        cents = cents * 10 + i128::from(b - b'0');
        if cents >= MONEY_LIMIT_CENTS {
            return Err(out_of_range());
        }
    }
    let mut frac_digits = kept.bytes();
    for _ in 0..2 {
        let digit = frac_digits.next().map_or(0, |b| i128::from(b - b'0'));
        cents = cents * 10 + digit;
    }
    if cents >= MONEY_LIMIT_CENTS {
        return Err(out_of_range());
    }
    Ok(Some(if negative { -cents } else { cents }))
}

/// Parses a `DATE` into days since 1970-01-01.
///
/// Accepted: `YYYY-MM-DD`, `YYYY/MM/DD`, `MM/DD/YYYY` (one-digit month and day allowed), and any
/// timestamp [`parse_timestamp`] accepts, truncated to the date as written (before any offset
/// is applied).
pub fn parse_date(value: &str) -> Result<Option<i32>, Problem> {
    if blank(value) {
        return Ok(None);
    }
    parse_date_time(value.trim())
        .map(|(local, _)| Some(days_since_epoch(local.date())))
        .ok_or_else(|| Problem::new(RejectKind::BadDate, format!("bad date {}", quote(value))))
}

/// Parses a `TIMESTAMP` into microseconds since the epoch, UTC.
///
/// Accepted: a date as [`parse_date`] takes it, optionally followed by `T` or a space and
/// `HH:MM[:SS[.fraction]]`, optionally followed by an offset (`Z`, `UTC`, `+05:00`, `+0500`,
/// `+05`). RFC 3339 values are converted to UTC; values without an offset are taken as UTC; a
/// bare date is midnight. Digits beyond microseconds are truncated.
pub fn parse_timestamp(value: &str) -> Result<Option<i64>, Problem> {
    if blank(value) {
        return Ok(None);
    }
    let (local, offset_secs) = parse_date_time(value.trim()).ok_or_else(|| {
        Problem::new(
            RejectKind::BadTimestamp,
            format!("bad timestamp {}", quote(value)),
        )
    })?;
    let utc = local
        .checked_sub_signed(chrono::Duration::seconds(i64::from(offset_secs)))
        .ok_or_else(|| {
            Problem::new(
                RejectKind::BadTimestamp,
                format!("bad timestamp {}", quote(value)),
            )
        })?;
    Ok(Some(utc.and_utc().timestamp_micros()))
}

fn days_since_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    // Dates chrono can represent are within ±262,143 years: always fits in i32 days.
    (date - epoch).num_days() as i32
}

/// `(sign is minus, the rest)` after an optional leading `+` or `-`.
fn split_sign(s: &str) -> (bool, &str) {
    if let Some(rest) = s.strip_prefix('-') {
        (true, rest)
    } else {
        (false, s.strip_prefix('+').unwrap_or(s))
    }
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// Digits, or digit groups separated by commas: 1–3 digits first, then groups of exactly 3.
fn valid_grouping(int: &str) -> bool {
    if !int.contains(',') {
        return all_digits(int);
    }
    let mut groups = int.split(',');
    let first = groups.next().unwrap_or("");
    (1..=3).contains(&first.len())
        && all_digits(first)
        && groups.all(|g| g.len() == 3 && all_digits(g))
}

/// Parses a date with an optional time of day and offset. Returns the local date-time as written
/// and the offset east of UTC in seconds (0 when none is given).
fn parse_date_time(s: &str) -> Option<(NaiveDateTime, i32)> {
    let split = s.find(['T', 't', ' ']).unwrap_or(s.len());
    let date = parse_date_only(&s[..split])?;
    let rest = s[split..].get(1..).unwrap_or("");
    if split == s.len() {
        return Some((date.and_time(NaiveTime::MIN), 0));
    }
    let (time, offset) = parse_time_and_offset(rest)?;
    Some((date.and_time(time), offset))
}

/// `YYYY-MM-DD`, `YYYY/MM/DD` or `MM/DD/YYYY` (four-digit years, one- or two-digit month and day).
fn parse_date_only(s: &str) -> Option<NaiveDate> {
    let sep = if s.contains('-') { '-' } else { '/' };
    let mut parts = s.split(sep);
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let short = |p: &str| (1..=2).contains(&p.len()) && all_digits(p);
    let year = |p: &str| p.len() == 4 && all_digits(p);
    let (y, m, d) = if year(a) && short(b) && short(c) {
        (a, b, c)
    } else if sep == '/' && short(a) && short(b) && year(c) {
        (c, a, b)
    } else {
        return None;
    };
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// `HH:MM[:SS[.fraction]]` then an optional offset, possibly after spaces.
fn parse_time_and_offset(s: &str) -> Option<(NaiveTime, i32)> {
    let time_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.' || c == ','))
        .unwrap_or(s.len());
    let (clock, offset) = s.split_at(time_end);
    let (hms, frac) = match clock.split_once(['.', ',']) {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (clock, None),
    };
    let mut fields = hms.split(':');
    let two = |p: Option<&str>| -> Option<u32> {
        let p = p?;
        (p.len() == 2 && all_digits(p))
            .then(|| p.parse().ok())
            .flatten()
    };
    let hour = two(fields.next())?;
    let minute = two(fields.next())?;
    let second = match fields.next() {
        None if frac.is_none() => 0,
        seconds => two(seconds)?,
    };
    if fields.next().is_some() {
        return None;
    }
    let nanos = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && all_digits(f) => {
            f.parse::<u32>().ok()? * 10u32.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    Some((time, parse_offset(offset.trim_start())?))
}

/// `""`, `Z`, `UTC`, `GMT`, `+HH:MM`, `+HHMM` or `+HH` (and `-`), as seconds east of UTC.
fn parse_offset(s: &str) -> Option<i32> {
    if s.is_empty()
        || ["z", "utc", "gmt"]
            .iter()
            .any(|z| s.eq_ignore_ascii_case(z))
    {
        return Some(0);
    }
    let (negative, rest) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => return None,
    };
    let digits: String = match rest.len() {
        5 if rest.as_bytes()[2] == b':' => format!("{}{}", &rest[..2], &rest[3..]),
        4 => rest.to_string(),
        2 => format!("{rest}00"),
        _ => return None,
    };
    if !all_digits(&digits) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    let secs = hours * 3600 + minutes * 60;
    Some(if negative { -secs } else { secs })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_micros()
    }

    fn days(y: i32, m: u32, d: u32) -> i32 {
        days_since_epoch(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    fn kind<T: std::fmt::Debug>(r: Result<Option<T>, Problem>) -> &'static str {
        r.unwrap_err().kind.key()
    }

    #[test]
    fn blank_fields_are_null_for_every_type() {
        for blank in ["", " ", "\t", "  \r "] {
            assert_eq!(parse_int32(blank).unwrap(), None);
            assert_eq!(parse_money(blank).unwrap(), None);
            assert_eq!(parse_date(blank).unwrap(), None);
            assert_eq!(parse_timestamp(blank).unwrap(), None);
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int32("34").unwrap(), Some(34));
        assert_eq!(parse_int32(" +34 ").unwrap(), Some(34));
        assert_eq!(parse_int32("-7").unwrap(), Some(-7));
        assert_eq!(parse_int32("34.0").unwrap(), Some(34));
        assert_eq!(parse_int32("34.").unwrap(), Some(34));
        assert_eq!(parse_int32("007").unwrap(), Some(7));
        assert_eq!(parse_int32("2147483647").unwrap(), Some(i32::MAX));
        assert_eq!(parse_int32("-2147483648").unwrap(), Some(i32::MIN));
        let err = parse_int32("34.5").unwrap_err();
        assert_eq!(err.kind, RejectKind::BadInteger);
        assert_eq!(err.reason, "bad integer '34.5'");
        for bad in ["abc", "3 4", "1e3", ".5", "-", "1,000", "0x10", "++1"] {
            assert_eq!(kind(parse_int32(bad)), "bad_integer", "{bad}");
        }
        for huge in ["2147483648", "99999999999999999999999"] {
            assert_eq!(kind(parse_int32(huge)), "out_of_range", "{huge}");
        }
    }

    #[test]
    fn money() {
        let ok = |s: &str| parse_money(s).unwrap().unwrap();
        assert_eq!(ok("12.34"), 1234);
        assert_eq!(ok("12.3"), 1230);
        assert_eq!(ok("12"), 1200);
        assert_eq!(ok("12."), 1200);
        assert_eq!(ok(".5"), 50);
        assert_eq!(ok("  $1,234.56 "), 123_456);
        assert_eq!(ok("1,234,567.8"), 123_456_780);
        assert_eq!(ok("-$5.00"), -500);
        assert_eq!(ok("$-5"), -500);
        assert_eq!(ok("+5"), 500);
        assert_eq!(ok("0"), 0);
        assert_eq!(ok("-0.00"), 0);
        assert_eq!(ok("12.500"), 1250);
        assert_eq!(ok("9999999999.99"), 999_999_999_999);
        assert_eq!(ok("-9999999999.99"), -999_999_999_999);
        assert_eq!(ok("0000000000012.00"), 1200);

        let err = parse_money("abc").unwrap_err();
        assert_eq!(
            (err.kind.key(), err.reason.as_str()),
            ("bad_number", "bad number 'abc'")
        );
        for bad in [
            "1e5", "1.5E2", "$", ".", "-", "12.3.4", "1,23.45", "1234,567", ",123", "$$1", "1 000",
            "NaN", "inf", "--1", "12.-3",
        ] {
            assert_eq!(kind(parse_money(bad)), "bad_number", "{bad}");
        }
        let err = parse_money("1.234").unwrap_err();
        assert_eq!(err.kind, RejectKind::DecimalPlaces);
        assert_eq!(err.reason, "more than 2 decimal places in '1.234'");
        assert_eq!(kind(parse_money("0.001")), "decimal_places");
        let err = parse_money("10000000000").unwrap_err();
        assert_eq!(err.kind, RejectKind::OutOfRange);
        assert_eq!(err.reason, "'10000000000' out of range for DECIMAL(12,2)");
        assert_eq!(kind(parse_money("-10000000000.00")), "out_of_range");
        assert_eq!(
            kind(parse_money("99999999999999999999999999999999999999999999")),
            "out_of_range"
        );
    }

    #[test]
    fn dates() {
        let ok = |s: &str| parse_date(s).unwrap().unwrap();
        assert_eq!(ok("1970-01-01"), 0);
        assert_eq!(ok("2025-11-14"), days(2025, 11, 14));
        assert_eq!(ok(" 2025/11/14 "), days(2025, 11, 14));
        assert_eq!(ok("11/14/2025"), days(2025, 11, 14));
        assert_eq!(ok("1/5/2025"), days(2025, 1, 5));
        assert_eq!(ok("2025-1-5"), days(2025, 1, 5));
        assert_eq!(ok("1969-12-31"), -1);
        assert_eq!(ok("2024-02-29"), days(2024, 2, 29));
        // A timestamp is truncated to the date as written.
        assert_eq!(ok("2025-11-14 23:59:59"), days(2025, 11, 14));
        assert_eq!(ok("2025-11-14T23:30:00-05:00"), days(2025, 11, 14));
        assert_eq!(ok("11/14/2025 10:30"), days(2025, 11, 14));

        let err = parse_date("2025-13-45").unwrap_err();
        assert_eq!(
            (err.kind.key(), err.reason.as_str()),
            ("bad_date", "bad date '2025-13-45'")
        );
        for bad in [
            "2025-02-30",
            "2023-02-29",
            "12/31/99",
            "14/11/2025",
            "2025-11",
            "2025-11-14-01",
            "20251114",
            "2025/11-14",
            "yesterday",
            "2025-11-14 25:00",
            "2025-11-14T",
        ] {
            assert_eq!(kind(parse_date(bad)), "bad_date", "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        let ok = |s: &str| parse_timestamp(s).unwrap().unwrap();
        let utc = micros("2025-11-14T10:30:15Z");
        assert_eq!(ok("2025-11-14T10:30:15Z"), utc);
        assert_eq!(ok("2025-11-14t10:30:15z"), utc);
        assert_eq!(ok("2025-11-14T10:30:15+00:00"), utc);
        assert_eq!(ok("2025-11-14T12:30:15+02:00"), utc);
        assert_eq!(ok("2025-11-14T05:30:15-05:00"), utc);
        assert_eq!(ok("2025-11-14T05:30:15-0500"), utc);
        assert_eq!(ok("2025-11-14T05:30:15-05"), utc);
        assert_eq!(ok("2025-11-14 10:30:15 UTC"), utc);
        assert_eq!(ok("2025-11-14 10:30:15"), utc);
        assert_eq!(ok("2025-11-14T10:30:15"), utc);
        assert_eq!(ok(" 2025-11-14 10:30:15 "), utc);
        assert_eq!(ok("11/14/2025 10:30:15"), utc);
        assert_eq!(ok("2025/11/14 10:30:15"), utc);
        assert_eq!(ok("11/14/2025 10:30"), micros("2025-11-14T10:30:00Z"));
        assert_eq!(ok("11/14/2025"), micros("2025-11-14T00:00:00Z"));
        assert_eq!(ok("2025-11-14"), micros("2025-11-14T00:00:00Z"));
        assert_eq!(ok("2025-11-14 10:30"), micros("2025-11-14T10:30:00Z"));
        assert_eq!(ok("2025-11-14 10:30:15.5"), utc + 500_000);
        assert_eq!(ok("2025-11-14 10:30:15.123456"), utc + 123_456);
        assert_eq!(ok("2025-11-14T10:30:15.123456789Z"), utc + 123_456);
        assert_eq!(ok("1969-12-31T23:59:59.5Z"), -500_000);
        // An offset that crosses midnight changes the UTC day.
        assert_eq!(
            ok("2025-01-01T00:00:00+01:00"),
            micros("2024-12-31T23:00:00Z")
        );

        let err = parse_timestamp("2025-11-14 24:00:00").unwrap_err();
        assert_eq!(err.kind, RejectKind::BadTimestamp);
        assert_eq!(err.reason, "bad timestamp '2025-11-14 24:00:00'");
        for bad in [
            "not a time",
            "2025-11-14 10",
            "2025-11-14 10:61",
            "2025-11-14 10:30:60",
            "2025-11-14 1:30",
            "2025-11-14 10:30:15.",
            "2025-11-14 10:30:15.1234567890",
            "2025-11-14T10:30:15+25:00",
            "2025-11-14T10:30:15 EST",
            "2025-11-14T10:30:15+5",
            "1731580215",
            "2025-11-14 10:30:15 +05:00 x",
            "2025-02-30 10:00:00",
        ] {
            assert_eq!(kind(parse_timestamp(bad)), "bad_timestamp", "{bad}");
        }
    }

    #[test]
    fn long_values_are_cut_in_reasons() {
        let long = "x".repeat(500);
        let reason = parse_money(&long).unwrap_err().reason;
        assert!(reason.len() < 100, "{reason}");
        assert!(reason.ends_with("…'"), "{reason}");
        assert_eq!(quote("é".repeat(70).as_str()).chars().count(), 64 + 3);
    }
}
