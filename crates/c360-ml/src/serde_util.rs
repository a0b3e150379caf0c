//! Serde helpers of the model file, chosen so that the workspace's shared dependencies keep
//! their features (enabling `serde_json/float_roundtrip` or `chrono/serde` would rebuild all
//! of Arrow and DataFusion):
//! - [`exact_f64`]: a float as a string in Rust's shortest round-trip form, parsed back with the
//!   correctly rounded `str::parse`, so a model read from its file scores bit-identically;
//! - [`iso_date`]: a date as `YYYY-MM-DD`.

/// `f64` ⇄ `"0.123…"` (exact round trip).
pub mod exact_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `v` as its shortest round-trip decimal string.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    /// Reads a string written by [`serialize`] (a plain JSON number is accepted too).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Number(f64),
        }
        match Repr::deserialize(d)? {
            Repr::Text(text) => text.parse().map_err(serde::de::Error::custom),
            Repr::Number(n) => Ok(n),
        }
    }
}

/// `NaiveDate` ⇄ `"YYYY-MM-DD"`.
pub mod iso_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `YYYY-MM-DD`.
    pub fn serialize<S: Serializer>(v: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.format("%Y-%m-%d").to_string())
    }

    /// Reads `YYYY-MM-DD`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let text = String::deserialize(d)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(serde::de::Error::custom)
    }
}
