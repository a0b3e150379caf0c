//! The generator's settings: scale, seed, history window, dirt rates and batching.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{dirt::DirtKind, GenError, Result};

/// Largest supported number of customers: ids are `CUST` + 8 digits and transaction ids
/// `TXN` + 13 digits (`customer index × 100,000 + sequence`).
pub const MAX_CUSTOMERS: u32 = 99_999_999;
/// Largest supported history, in months.
pub const MAX_MONTHS: u32 = 120;

/// Everything that determines the generated data. Same config ⇒ same bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenConfig {
    /// Number of customers (`CUST00000001` …).
    pub customers: u32,
    /// Seed of every random stream.
    pub seed: u64,
    /// Last day of the history (no transaction after it).
    #[serde(with = "iso_date")]
    pub end_date: NaiveDate,
    /// Length of the history, in calendar months.
    pub months: u32,
    /// Rates of injected dirt.
    pub dirt: DirtRates,
    /// Customers per transaction chunk (the unit of parallel generation).
    pub chunk_customers: u32,
    /// Maximum rows per transaction batch.
    pub batch_rows: usize,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            customers: 50_000,
            seed: 42,
            end_date: NaiveDate::from_ymd_opt(2025, 11, 14).expect("valid date"),
            months: 18,
            dirt: DirtRates::default(),
            chunk_customers: 1_000,
            batch_rows: 65_536,
        }
    }
}

impl GenConfig {
    /// Checks every field; [`crate::Generator::new`] calls this.
    pub fn validate(&self) -> Result<()> {
        let invalid =
            |field: &'static str, reason: String| Err(GenError::InvalidConfig { field, reason });
        if self.customers == 0 || self.customers > MAX_CUSTOMERS {
            return invalid(
                "customers",
                format!("{} is not in 1..={MAX_CUSTOMERS}", self.customers),
            );
        }
        if self.months == 0 || self.months > MAX_MONTHS {
            return invalid(
                "months",
                format!("{} is not in 1..={MAX_MONTHS}", self.months),
            );
        }
        if self.chunk_customers == 0 {
            return invalid("chunk_customers", "must be at least 1".into());
        }
        if self.batch_rows == 0 {
            return invalid("batch_rows", "must be at least 1".into());
        }
        // Accounts open up to 5 years before the end; keep every date well inside 2000..2200.
        if self.end_date.year() < 2010 || self.end_date.year() > 2199 {
            return invalid(
                "end_date",
                format!("{} is not in the years 2010..=2199", self.end_date),
            );
        }
        self.dirt.validate()
    }
}

/// Rates of injected dirt, each the probability that one row (of the table the kind applies
/// to) is made dirty in that way. See SPEC §2 and [`DirtKind`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DirtRates {
    /// Transaction rows re-sent with the same id, later (20% with a corrected status).
    pub duplicate: f64,
    /// Transaction rows with a NULL or blank merchant_category.
    pub blank_category: f64,
    /// Transaction rows with a zero or negative amount.
    pub bad_amount: f64,
    /// Transaction rows whose customer_id does not exist.
    pub unknown_customer: f64,
    /// Transaction rows ingested 3–10 days before their own transaction_date.
    pub bad_clock: f64,
    /// Customer rows with stray whitespace or wrong case in names, email or state.
    pub messy_customer: f64,
    /// Transaction rows with stray whitespace or wrong case in channel or status.
    pub messy_transaction: f64,
    /// Transaction rows with an unusable channel.
    pub bad_channel: f64,
    /// Transaction rows with an unusable status.
    pub bad_status: f64,
    /// Customers re-sent with changed attributes (per customer over the history; per
    /// customer-day equivalent in simulations).
    pub customer_change: f64,
}

impl Default for DirtRates {
    fn default() -> Self {
        DirtRates {
            duplicate: 0.002,
            blank_category: 0.0005,
            bad_amount: 0.0002,
            unknown_customer: 0.0001,
            bad_clock: 0.0001,
            messy_customer: 0.02,
            messy_transaction: 0.01,
            bad_channel: 0.0001,
            bad_status: 0.0001,
            customer_change: 0.01,
        }
    }
}

impl DirtRates {
    /// No dirt at all.
    pub fn clean() -> DirtRates {
        DirtRates {
            duplicate: 0.0,
            blank_category: 0.0,
            bad_amount: 0.0,
            unknown_customer: 0.0,
            bad_clock: 0.0,
            messy_customer: 0.0,
            messy_transaction: 0.0,
            bad_channel: 0.0,
            bad_status: 0.0,
            customer_change: 0.0,
        }
    }

    /// The names of the dirt kinds, as accepted by [`DirtRates::set`].
    pub fn kinds() -> Vec<&'static str> {
        DirtKind::ALL.iter().map(|k| k.name()).collect()
    }

    /// The rate of one kind.
    pub fn get(&self, kind: DirtKind) -> f64 {
        *self.slot(kind)
    }

    /// Sets the rate of the kind named `kind` (see [`DirtRates::kinds`]).
    pub fn set(&mut self, kind: &str, rate: f64) -> Result<()> {
        let k = DirtKind::from_name(kind).ok_or_else(|| GenError::UnknownDirtKind {
            kind: kind.to_string(),
            valid: DirtRates::kinds().join(", "),
        })?;
        if !(0.0..=1.0).contains(&rate) {
            return Err(GenError::InvalidDirtRate {
                kind: k.name(),
                rate,
            });
        }
        *self.slot_mut(k) = rate;
        Ok(())
    }

    /// Checks that every rate is in `[0, 1]` and that the transaction-row kinds, which are
    /// mutually exclusive, add up to at most 1.
    pub fn validate(&self) -> Result<()> {
        for k in DirtKind::ALL {
            let rate = self.get(k);
            if !(0.0..=1.0).contains(&rate) {
                return Err(GenError::InvalidDirtRate {
                    kind: k.name(),
                    rate,
                });
            }
        }
        let sum: f64 = DirtKind::TRANSACTION_ROW.iter().map(|&k| self.get(k)).sum();
        if sum > 1.0 + 1e-12 {
            return Err(GenError::InvalidConfig {
                field: "dirt",
                reason: format!("the transaction dirt rates add up to {sum}, more than 1"),
            });
        }
        Ok(())
    }

    fn slot(&self, kind: DirtKind) -> &f64 {
        match kind {
            DirtKind::Duplicate => &self.duplicate,
            DirtKind::BlankCategory => &self.blank_category,
            DirtKind::BadAmount => &self.bad_amount,
            DirtKind::UnknownCustomer => &self.unknown_customer,
            DirtKind::BadClock => &self.bad_clock,
            DirtKind::MessyCustomer => &self.messy_customer,
            DirtKind::MessyTransaction => &self.messy_transaction,
            DirtKind::BadChannel => &self.bad_channel,
            DirtKind::BadStatus => &self.bad_status,
            DirtKind::CustomerChange => &self.customer_change,
        }
    }

    fn slot_mut(&mut self, kind: DirtKind) -> &mut f64 {
        match kind {
            DirtKind::Duplicate => &mut self.duplicate,
            DirtKind::BlankCategory => &mut self.blank_category,
            DirtKind::BadAmount => &mut self.bad_amount,
            DirtKind::UnknownCustomer => &mut self.unknown_customer,
            DirtKind::BadClock => &mut self.bad_clock,
            DirtKind::MessyCustomer => &mut self.messy_customer,
            DirtKind::MessyTransaction => &mut self.messy_transaction,
            DirtKind::BadChannel => &mut self.bad_channel,
            DirtKind::BadStatus => &mut self.bad_status,
            DirtKind::CustomerChange => &mut self.customer_change,
        }
    }
}

/// `NaiveDate` as `"YYYY-MM-DD"` (the workspace's chrono has no serde feature).
mod iso_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(&d.format("%Y-%m-%d"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<NaiveDate, D::Error> {
        let s = String::deserialize(d)?;
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_validates_kind_and_rate() {
        let mut d = DirtRates::default();
        d.set("bad_clock", 0.5).unwrap();
        assert_eq!(d.bad_clock, 0.5);
        let err = d.set("typo", 0.1).unwrap_err().to_string();
        assert!(
            err.contains("duplicate") && err.contains("customer_change"),
            "{err}"
        );
        assert!(d.set("duplicate", 1.5).is_err());
        assert!(d.set("duplicate", -0.1).is_err());
        assert_eq!(DirtRates::kinds().len(), 10);
    }

    #[test]
    fn config_round_trips_through_json() {
        let cfg = GenConfig {
            customers: 12,
            ..GenConfig::default()
        };
        let json = serde_json::to_string(&cfg).unwrap();
        assert!(json.contains("\"end_date\":\"2025-11-14\""), "{json}");
        let back: GenConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cfg);
        let partial: GenConfig = serde_json::from_str(r#"{"customers": 5}"#).unwrap();
        assert_eq!(partial.seed, 42);
    }

    #[test]
    fn validation_rejects_bad_values() {
        let ok = GenConfig::default();
        assert!(ok.validate().is_ok());
        assert!(GenConfig {
            customers: 0,
            ..ok.clone()
        }
        .validate()
        .is_err());
        assert!(GenConfig {
            months: 0,
            ..ok.clone()
        }
        .validate()
        .is_err());
        assert!(GenConfig {
            months: 121,
            ..ok.clone()
        }
        .validate()
        .is_err());
        assert!(GenConfig {
            chunk_customers: 0,
            ..ok.clone()
        }
        .validate()
        .is_err());
        let mut dirt = DirtRates::clean();
        dirt.duplicate = 0.7;
        dirt.bad_amount = 0.7;
        assert!(GenConfig { dirt, ..ok }.validate().is_err());
    }
}
