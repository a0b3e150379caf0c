//! The kinds of injected dirt, their exact counts, and the dirty spellings used.
//!
//! Transaction-row kinds are mutually exclusive: one uniform draw per original transaction
//! row picks at most one kind (so every dirty row is dirty in exactly one way and the counts
//! add up). Customer rows have two kinds: `messy_customer` (per row) and `customer_change`
//! (the re-sent rows themselves).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::AddAssign;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One kind of injected dirt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DirtKind {
    /// An extra copy of a transaction row, re-ingested 1–72 h later; 20% with the status flipped.
    Duplicate,
    /// merchant_category NULL, `""` or `"  "`.
    BlankCategory,
    /// transaction_amount 0.00 or negative.
    BadAmount,
    /// customer_id of a customer that does not exist.
    UnknownCustomer,
    /// ingested_at 3–10 days before transaction_date.
    BadClock,
    /// A customer row with stray whitespace or wrong case in first/last name, email or state.
    MessyCustomer,
    /// channel or status with stray whitespace or wrong case.
    MessyTransaction,
    /// channel from `{"ATM", "Phone", "unknown", ""}`.
    BadChannel,
    /// status from `{"pending", "reversed", "?"}`.
    BadStatus,
    /// A customer record re-sent with changed attributes.
    CustomerChange,
}

impl DirtKind {
    /// Every kind, in display order.
    pub const ALL: [DirtKind; 10] = [
        DirtKind::Duplicate,
        DirtKind::BlankCategory,
        DirtKind::BadAmount,
        DirtKind::UnknownCustomer,
        DirtKind::BadClock,
        DirtKind::MessyCustomer,
        DirtKind::MessyTransaction,
        DirtKind::BadChannel,
        DirtKind::BadStatus,
        DirtKind::CustomerChange,
    ];

    /// The kinds drawn per transaction row (mutually exclusive), in the order of the draw.
    pub const TRANSACTION_ROW: [DirtKind; 8] = [
        DirtKind::Duplicate,
        DirtKind::BlankCategory,
        DirtKind::BadAmount,
        DirtKind::UnknownCustomer,
        DirtKind::BadClock,
        DirtKind::MessyTransaction,
        DirtKind::BadChannel,
        DirtKind::BadStatus,
    ];

    /// The name used in configs, stats and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            DirtKind::Duplicate => "duplicate",
            DirtKind::BlankCategory => "blank_category",
            DirtKind::BadAmount => "bad_amount",
            DirtKind::UnknownCustomer => "unknown_customer",
            DirtKind::BadClock => "bad_clock",
            DirtKind::MessyCustomer => "messy_customer",
            DirtKind::MessyTransaction => "messy_transaction",
            DirtKind::BadChannel => "bad_channel",
            DirtKind::BadStatus => "bad_status",
            DirtKind::CustomerChange => "customer_change",
        }
    }

    /// Parses a name (case- and space-insensitive; `-` accepted for `_`).
    pub fn from_name(name: &str) -> Option<DirtKind> {
        let norm = name.trim().to_ascii_lowercase().replace('-', "_");
        DirtKind::ALL.into_iter().find(|k| k.name() == norm)
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DirtKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Exact number of injected rows per dirt kind. Summable with `+=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirtCounts {
    counts: [u64; 10],
}

impl DirtCounts {
    /// The count of one kind.
    pub fn get(&self, kind: DirtKind) -> u64 {
        self.counts[kind.index()]
    }

    /// The count of the kind named `name` (0 for an unknown name).
    pub fn get_by_name(&self, name: &str) -> u64 {
        DirtKind::from_name(name).map_or(0, |k| self.get(k))
    }

    /// Adds `n` to one kind.
    pub fn add(&mut self, kind: DirtKind, n: u64) {
        self.counts[kind.index()] += n;
    }

    /// Sum over all kinds.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `(kind, count)` for every kind, in display order.
    pub fn iter(&self) -> impl Iterator<Item = (DirtKind, u64)> + '_ {
        DirtKind::ALL.into_iter().map(|k| (k, self.get(k)))
    }

    /// The counts as a name → count map (every kind present).
    pub fn to_map(&self) -> BTreeMap<String, u64> {
        self.iter()
            .map(|(k, n)| (k.name().to_string(), n))
            .collect()
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &DirtCounts) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
    }
}

impl AddAssign for DirtCounts {
    fn add_assign(&mut self, rhs: DirtCounts) {
        self.merge(&rhs);
    }
}

impl fmt::Display for DirtCounts {
    /// `duplicate=12 blank_category=3 …` (every kind, in display order).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, n)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{k}={n}")?;
        }
        Ok(())
    }
}

impl Serialize for DirtCounts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter().map(|(k, n)| (k.name(), n)))
    }
}

impl<'de> Deserialize<'de> for DirtCounts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DirtCounts, D::Error> {
        let map = BTreeMap::<String, u64>::deserialize(d)?;
        let mut out = DirtCounts::default();
        for (name, n) in map {
            let kind = DirtKind::from_name(&name)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown dirt kind `{name}`")))?;
            out.add(kind, n);
        }
        Ok(out)
    }
}

/// Messy spellings of each channel (same order as [`crate::reference::CHANNELS`]).
pub(crate) const MESSY_CHANNELS: [[&str; 6]; 3] = [
    [
        "online", "ONLINE", " Online", "Online  ", " online ", "ONLINE ",
    ],
    [
        "in-store",
        "IN-STORE",
        " In-Store",
        "In-Store  ",
        "in-store ",
        " IN-STORE",
    ],
    [
        "mobile", "MOBILE", " Mobile", "Mobile  ", " mobile ", "MOBILE ",
    ],
];

/// Messy spellings of `approved` and `declined`.
pub(crate) const MESSY_STATUSES: [[&str; 6]; 2] = [
    [
        "APPROVED",
        "Approved",
        " approved",
        "approved  ",
        "APPROVED ",
        " Approved ",
    ],
    [
        "DECLINED",
        "Declined",
        " declined",
        "declined  ",
        "DECLINED ",
        " Declined ",
    ],
];

/// Channels no normalisation can map to `{Online, In-Store, Mobile}`.
pub(crate) const BAD_CHANNELS: [&str; 4] = ["ATM", "Phone", "unknown", ""];
/// Statuses no normalisation can map to `{approved, declined}`.
pub(crate) const BAD_STATUSES: [&str; 3] = ["pending", "reversed", "?"];
/// Blank merchant categories (`None` is NULL).
pub(crate) const BLANK_CATEGORIES: [Option<&str>; 3] = [None, Some(""), Some("  ")];

/// Makes `value` messy with one of six styles (whitespace or case); the result always
/// differs from `value` and is equal to it after trimming and case-folding.
pub(crate) fn mess(value: &str, style: u64) -> String {
    let out = match style % 6 {
        0 => format!(" {value}"),
        1 => format!("{value}  "),
        2 => format!("  {value} "),
        3 => value.to_uppercase(),
        4 => value.to_lowercase(),
        _ => {
            let mut c = value.chars();
            match c.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        }
    };
    if out == value {
        format!(" {value}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_display_and_serialize() {
        let mut a = DirtCounts::default();
        a.add(DirtKind::Duplicate, 2);
        let mut b = DirtCounts::default();
        b.add(DirtKind::Duplicate, 1);
        b.add(DirtKind::BadClock, 5);
        a += b;
        assert_eq!(a.get(DirtKind::Duplicate), 3);
        assert_eq!(a.get_by_name("bad_clock"), 5);
        assert_eq!(a.total(), 8);
        assert!(a.to_string().starts_with("duplicate=3 blank_category=0"));
        let json = serde_json::to_string(&a).unwrap();
        let back: DirtCounts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn messy_values_differ_but_normalise_back() {
        for v in ["John", "CA", "john.smith@gmail.com", "x"] {
            for style in 0..6 {
                let m = mess(v, style);
                assert_ne!(m, v);
                assert_eq!(m.trim().to_lowercase(), v.to_lowercase());
            }
        }
        for (i, variants) in MESSY_CHANNELS.iter().enumerate() {
            for m in variants {
                assert_ne!(*m, crate::reference::CHANNELS[i]);
                assert!(m.trim().eq_ignore_ascii_case(crate::reference::CHANNELS[i]));
            }
        }
    }
}
