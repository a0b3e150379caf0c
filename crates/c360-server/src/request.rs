//! Query-string parameters, checked strictly: unknown keys, repeated single values, values out
//! of range and text outside its whitelist are 400s before any SQL is planned. The audience
//! filter over the profile, shared by the segment explorer, the campaign simulator, the metrics
//! explorer and their CSV exports, lives here too.

use std::collections::BTreeSet;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::data::Params;
use crate::error::{AppError, AppResult};

/// Longest accepted parameter value.
const MAX_VALUE_LEN: usize = 200;

/// The parsed query string of one request.
#[derive(Debug, Default, Clone)]
pub struct Args {
    pairs: Vec<(String, String)>,
}

impl Args {
    /// Parses `raw` (without `?`), refusing keys outside `allowed`.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> AppResult<Args> {
        let mut pairs = Vec::new();
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if !allowed.contains(&key.as_ref()) {
                let mut known: Vec<&str> = allowed.to_vec();
                known.sort();
                return Err(AppError::bad(format!(
                    "unknown parameter '{}' (accepted: {})",
                    truncate(&key),
                    known.join(", ")
                )));
            }
            if value.len() > MAX_VALUE_LEN {
                return Err(AppError::bad(format!(
                    "parameter '{key}' is longer than {MAX_VALUE_LEN} characters"
                )));
            }
            if value.chars().any(|c| c.is_control()) {
                return Err(AppError::bad(format!(
                    "parameter '{key}' contains control characters"
                )));
            }
            let value = value.trim();
            if !value.is_empty() {
                pairs.push((key.into_owned(), value.to_string()));
            }
        }
        Ok(Args { pairs })
    }

    /// Every non-empty value of `key` (the key may repeat).
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The value of `key`, which must appear at most once.
    pub fn one(&self, key: &str) -> AppResult<Option<&str>> {
        let values = self.all(key);
        match values.as_slice() {
            [] => Ok(None),
            [v] => Ok(Some(v)),
            _ => Err(AppError::bad(format!(
                "parameter '{key}' given more than once"
            ))),
        }
    }

    /// An integer in `min..=max`, `default` when absent.
    pub fn int(&self, key: &str, default: i64, min: i64, max: i64) -> AppResult<i64> {
        let Some(text) = self.one(key)? else {
            return Ok(default);
        };
        let n: i64 = text
            .parse()
            .map_err(|_| AppError::bad(format!("parameter '{key}' must be a whole number")))?;
        if n < min || n > max {
            return Err(AppError::bad(format!(
                "parameter '{key}' must be between {min} and {max}"
            )));
        }
        Ok(n)
    }

    /// An exact decimal in `min..=max`, `None` when absent.
    pub fn decimal(&self, key: &str, min: Decimal, max: Decimal) -> AppResult<Option<Decimal>> {
        let Some(text) = self.one(key)? else {
            return Ok(None);
        };
        let ok = text.len() <= 24
            && text
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-');
        let value = ok
            .then(|| Decimal::from_str(text).ok())
            .flatten()
            .ok_or_else(|| AppError::bad(format!("parameter '{key}' must be a number")))?;
        if value < min || value > max {
            return Err(AppError::bad(format!(
                "parameter '{key}' must be between {min} and {max}"
            )));
        }
        Ok(Some(value.normalize()))
    }

    /// One of `choices` (exact), `None` when absent.
    pub fn choice<'a>(&self, key: &str, choices: &[&'a str]) -> AppResult<Option<&'a str>> {
        let Some(text) = self.one(key)? else {
            return Ok(None);
        };
        choices
            .iter()
            .find(|c| **c == text)
            .copied()
            .map(Some)
            .ok_or_else(|| {
                AppError::bad(format!(
                    "parameter '{key}' must be one of: {}",
                    choices.join(", ")
                ))
            })
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The segments of SPEC §4.4, in rule order.
pub const SEGMENTS: [&str; 5] = [
    "High-Value Travelers",
    "Declining",
    "New & Growing",
    "Budget-Conscious",
    "Stable Mid-Spenders",
];

/// Churn-risk categories (SPEC §5, §6).
pub const RISK_CATEGORIES: [&str; 4] = ["High", "Medium", "Low", "Not Scored"];

/// The keys of [`AudienceFilter`].
pub const AUDIENCE_KEYS: [&str; 5] = ["segment", "state", "risk", "min_ltv", "card_type"];

/// Filters over `gold.customer_360_profile`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct AudienceFilter {
    /// Segments (any of).
    pub segments: Vec<String>,
    /// Two-letter states (any of).
    pub states: Vec<String>,
    /// Churn-risk categories (any of).
    pub risks: Vec<String>,
    /// Lifetime value at least this.
    pub min_ltv: Option<Decimal>,
    /// Card types (any of).
    pub card_types: Vec<String>,
}

impl AudienceFilter {
    /// Reads and checks the filter keys of `args`.
    pub fn from_args(args: &Args) -> AppResult<AudienceFilter> {
        let segments = whitelist(args, "segment", &SEGMENTS)?;
        let risks = whitelist(args, "risk", &RISK_CATEGORIES)?;
        let states = dedup(
            args.all("state")
                .into_iter()
                .map(|s| s.to_ascii_uppercase()),
        )
        .into_iter()
        .map(|s| {
            if s.len() == 2 && s.chars().all(|c| c.is_ascii_uppercase()) {
                Ok(s)
            } else {
                Err(AppError::bad(
                    "parameter 'state' must be a two-letter state code",
                ))
            }
        })
        .collect::<AppResult<Vec<_>>>()?;
        let card_types = dedup(args.all("card_type").into_iter().map(str::to_string))
            .into_iter()
            .map(|s| {
                let ok = s.len() <= 40
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
                if ok {
                    Ok(s)
                } else {
                    Err(AppError::bad(
                        "parameter 'card_type' may hold only letters, digits, spaces and '-'",
                    ))
                }
            })
            .collect::<AppResult<Vec<_>>>()?;
        let min_ltv = args.decimal(
            "min_ltv",
            Decimal::ZERO,
            Decimal::from(1_000_000_000_000i64),
        )?;
        Ok(AudienceFilter {
            segments,
            states,
            risks,
            min_ltv,
            card_types,
        })
    }

    /// `AND`-joined conditions on the profile's columns (prefixed by `alias.` when given), with
    /// every value bound in `params`; `TRUE` when no filter is set.
    pub fn where_sql(&self, params: &mut Params, alias: &str) -> String {
        let col = |c: &str| {
            if alias.is_empty() {
                c.to_string()
            } else {
                format!("{alias}.{c}")
            }
        };
        let mut conds = vec!["TRUE".to_string()];
        if !self.segments.is_empty() {
            conds.push(format!(
                "{} IN {}",
                col("customer_segment"),
                params.text_list(&self.segments)
            ));
        }
        if !self.states.is_empty() {
            conds.push(format!(
                "{} IN {}",
                col("state"),
                params.text_list(&self.states)
            ));
        }
        if !self.risks.is_empty() {
            conds.push(format!(
                "COALESCE({}, 'Not Scored') IN {}",
                col("churn_risk_category"),
                params.text_list(&self.risks)
            ));
        }
        if let Some(min) = self.min_ltv {
            conds.push(format!(
                "{} >= {}",
                col("lifetime_value"),
                params.decimal(min)
            ));
        }
        if !self.card_types.is_empty() {
            conds.push(format!(
                "{} IN {}",
                col("card_type"),
                params.text_list(&self.card_types)
            ));
        }
        conds.join(" AND ")
    }

    /// The filter as query-string pairs (for links to exports and other pages).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        out.extend(self.segments.iter().map(|v| ("segment", v.clone())));
        out.extend(self.states.iter().map(|v| ("state", v.clone())));
        out.extend(self.risks.iter().map(|v| ("risk", v.clone())));
        if let Some(m) = self.min_ltv {
            out.push(("min_ltv", m.to_string()));
        }
        out.extend(self.card_types.iter().map(|v| ("card_type", v.clone())));
        out
    }

    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self == &AudienceFilter::default()
    }
}

/// Encodes pairs as a query string.
pub fn encode(pairs: &[(&str, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn whitelist(args: &Args, key: &str, allowed: &[&str]) -> AppResult<Vec<String>> {
    let values = dedup(args.all(key).into_iter().map(str::to_string));
    for v in &values {
        if !allowed.contains(&v.as_str()) {
            return Err(AppError::bad(format!(
                "parameter '{key}' must be one of: {}",
                allowed.join(", ")
            )));
        }
    }
    Ok(values)
}

fn dedup(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    values.filter(|v| seen.insert(v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_repeated_keys_are_400s() {
        assert!(Args::parse(Some("page=1&evil=1"), &["page"]).is_err());
        let args = Args::parse(Some("page=1&page=2"), &["page"]).unwrap();
        assert!(args.int("page", 1, 1, 10).is_err());
        let args = Args::parse(Some("page=0"), &["page"]).unwrap();
        assert!(args.int("page", 1, 1, 10).is_err());
    }

    #[test]
    fn filters_bind_every_value() {
        let args = Args::parse(
            Some("segment=Declining&state=ca&risk=High&min_ltv=100.5&card_type=Premium"),
            &AUDIENCE_KEYS,
        )
        .unwrap();
        let filter = AudienceFilter::from_args(&args).unwrap();
        let mut params = Params::default();
        let sql = filter.where_sql(&mut params, "p");
        assert_eq!(
            sql,
            "TRUE AND p.customer_segment IN ($1) AND p.state IN ($2) AND \
             COALESCE(p.churn_risk_category, 'Not Scored') IN ($3) AND p.lifetime_value >= $4 \
             AND p.card_type IN ($5)"
        );
        assert_eq!(params.0.len(), 5);
    }

    #[test]
    fn injection_attempts_are_refused() {
        for q in [
            "segment=x'%20OR%201=1--",
            "state=CA'--",
            "risk=High'%20OR%20'1'='1",
            "min_ltv=1;DROP",
            "card_type=Premium';--",
        ] {
            let args = Args::parse(Some(q), &AUDIENCE_KEYS).unwrap();
            assert!(AudienceFilter::from_args(&args).is_err(), "{q}");
        }
    }
}
