//! `[server.sharing]` of `c360.toml`: which lake tables are shared, under which share and schema
//! names, with which row filter per recipient and which columns left out or masked.
//!
//! ```toml
//! [server.sharing]
//! url_minutes = 15                             # how long a file URL works (default 15)
//! public_url = "https://c360.example.com"      # default: http:// + the request's Host
//!
//! [[server.sharing.shares]]
//! name = "partners"
//! recipients = ["acme"]                       # who may read this share
//!
//! [[server.sharing.shares.schemas]]
//! name = "customer360"
//!
//! [[server.sharing.shares.schemas.tables]]
//! name = "profiles"                            # the name recipients see
//! source = "gold.customer_360_profile"          # any lake table, layer.table
//! exclude_columns = ["email", "first_name", "last_name"]   # left out
//! mask_columns = ["full_name"]                  # text → first character + "***"; others → NULL
//! row_filter = "FALSE"                          # default for recipients without their own
//! row_filters = { acme = "state IN ('CA','NV')" }
//! ```
//!
//! Row filters are SQL boolean expressions over the source table's columns, written by whoever
//! administers `c360.toml` (never by a recipient). A recipient sees only shares that list it.
//! A table without `row_filter` or `row_filters` shares every row.

use std::collections::BTreeMap;

use c360_lake::Layer;
use serde::Deserialize;

use crate::error::SharingError;

/// `[server.sharing]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharingConfig {
    /// Minutes a pre-signed file URL stays valid (default 15).
    #[serde(default = "default_url_minutes")]
    pub url_minutes: u32,
    /// The address clients reach the server at, for file URLs (default: `http://` and the
    /// request's Host; set `https://…` behind a TLS proxy).
    #[serde(default)]
    pub public_url: Option<String>,
    /// The shares.
    #[serde(default)]
    pub shares: Vec<ShareConfig>,
}

fn default_url_minutes() -> u32 {
    15
}

impl Default for SharingConfig {
    fn default() -> Self {
        SharingConfig {
            url_minutes: default_url_minutes(),
            public_url: None,
            shares: Vec::new(),
        }
    }
}

/// One share.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareConfig {
    /// Share name.
    pub name: String,
    /// Recipients that may read it.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Its schemas.
    #[serde(default)]
    pub schemas: Vec<SchemaConfig>,
}

/// One schema of a share.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaConfig {
    /// Schema name.
    pub name: String,
    /// Its tables.
    #[serde(default)]
    pub tables: Vec<TableConfig>,
}

/// One shared table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    /// Name recipients see.
    pub name: String,
    /// The lake table, `layer.table`.
    pub source: String,
    /// Columns left out.
    #[serde(default)]
    pub exclude_columns: Vec<String>,
    /// Columns masked: text keeps its first character followed by `***`, other types become NULL.
    #[serde(default)]
    pub mask_columns: Vec<String>,
    /// Row filter for recipients without one in `row_filters` (default: every row).
    #[serde(default)]
    pub row_filter: Option<String>,
    /// Row filter per recipient.
    #[serde(default)]
    pub row_filters: BTreeMap<String, String>,
}

/// Columns of the c360 lake derived from others, with their sources: `full_name` is
/// `concat_ws(' ', first_name, last_name)` (`customer_360_profile.sql`) and emails are built
/// from the names. Hiding one side while sharing the other in clear gives the hidden values
/// away (a masked `J***` beside `first_name = 'Jeffrey'`).
pub const DERIVED_COLUMNS: &[(&str, &[&str])] = &[
    ("full_name", &["first_name", "last_name"]),
    ("email", &["first_name", "last_name"]),
];

impl TableConfig {
    /// Whether `column` is left out or masked.
    fn hides(&self, column: &str) -> bool {
        self.exclude_columns
            .iter()
            .chain(&self.mask_columns)
            .any(|c| c == column)
    }

    /// `(hidden, clear)` pairs: a column this table hides and a column of `columns` (the
    /// source's) it shares in clear that the hidden one is derived from, or that is derived
    /// from it ([`DERIVED_COLUMNS`]).
    pub fn exposures(&self, columns: &[String]) -> Vec<(String, String)> {
        let present = |c: &str| columns.iter().any(|x| x == c);
        let mut out = Vec::new();
        for (derived, sources) in DERIVED_COLUMNS {
            for source in *sources {
                for (hidden, clear) in [(*derived, *source), (*source, *derived)] {
                    let pair = (hidden.to_string(), clear.to_string());
                    if self.hides(hidden)
                        && present(clear)
                        && !self.hides(clear)
                        && !out.contains(&pair)
                    {
                        out.push(pair);
                    }
                }
            }
        }
        out
    }

    /// The source table's layer and name.
    pub fn source(&self) -> Result<(Layer, &str), SharingError> {
        let bad = || {
            SharingError::Config(format!(
                "table '{}': source '{}' is not layer.table",
                self.name, self.source
            ))
        };
        let (layer, name) = self.source.split_once('.').ok_or_else(bad)?;
        let layer = Layer::from_name(layer).ok_or_else(bad)?;
        if !is_name(name) {
            return Err(bad());
        }
        Ok((layer, name))
    }

    /// The row filter that applies to `recipient` (`None`: every row).
    pub fn filter_for(&self, recipient: &str) -> Option<&str> {
        self.row_filters
            .get(recipient)
            .or(self.row_filter.as_ref())
            .map(String::as_str)
    }
}

/// Names of shares, schemas, tables, columns and recipients: letters, digits, `_` and `-`,
/// starting with a letter or `_`, at most 128 (no dots, slashes or spaces: nothing that could
/// reach a path).
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
}

impl SharingConfig {
    /// Parses `[server.sharing]` (strict) and checks names, sources and uniqueness.
    pub fn from_toml(table: toml::Table) -> Result<SharingConfig, SharingError> {
        let config: SharingConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| SharingError::Config(e.message().to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks names, sources and uniqueness (also for configs built in code).
    pub fn validate(&self) -> Result<(), SharingError> {
        let bad = |what: String| Err(SharingError::Config(what));
        if self.url_minutes == 0 || self.url_minutes > 7 * 24 * 60 {
            return bad("url_minutes must be 1 to 10080".into());
        }
        if let Some(url) = &self.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return bad(format!(
                    "public_url '{url}' must start with http:// or https://"
                ));
            }
        }
        let mut shares = std::collections::BTreeSet::new();
        for share in &self.shares {
            if !is_name(&share.name) || !shares.insert(&share.name) {
                return bad(format!(
                    "share name '{}' is invalid or used twice",
                    share.name
                ));
            }
            for r in &share.recipients {
                if !is_name(r) {
                    return bad(format!(
                        "share '{}': recipient name '{r}' is invalid",
                        share.name
                    ));
                }
            }
            let mut schemas = std::collections::BTreeSet::new();
            for schema in &share.schemas {
                if !is_name(&schema.name) || !schemas.insert(&schema.name) {
                    return bad(format!(
                        "share '{}': schema name '{}' is invalid or used twice",
                        share.name, schema.name
                    ));
                }
                let mut tables = std::collections::BTreeSet::new();
                for table in &schema.tables {
                    if !is_name(&table.name) || !tables.insert(&table.name) {
                        return bad(format!(
                            "share '{}': table name '{}' is invalid or used twice",
                            share.name, table.name
                        ));
                    }
                    table.source()?;
                    for c in table.exclude_columns.iter().chain(&table.mask_columns) {
                        if !is_name(c) {
                            return bad(format!(
                                "table '{}': column name '{c}' is invalid",
                                table.name
                            ));
                        }
                    }
                    for r in table.row_filters.keys() {
                        if !is_name(r) {
                            return bad(format!(
                                "table '{}': recipient '{r}' is invalid",
                                table.name
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Share `name` if `recipient` may read it.
    pub fn share_for(&self, name: &str, recipient: &str) -> Option<&ShareConfig> {
        self.shares
            .iter()
            .find(|s| s.name == name && s.recipients.iter().any(|r| r == recipient))
    }

    /// The shares `recipient` may read.
    pub fn shares_for<'a>(&'a self, recipient: &'a str) -> impl Iterator<Item = &'a ShareConfig> {
        self.shares
            .iter()
            .filter(move |s| s.recipients.iter().any(|r| r == recipient))
    }
}

impl ShareConfig {
    /// Schema `name`.
    pub fn schema(&self, name: &str) -> Option<&SchemaConfig> {
        self.schemas.iter().find(|s| s.name == name)
    }
}

impl SchemaConfig {
    /// Table `name`.
    pub fn table(&self, name: &str) -> Option<&TableConfig> {
        self.tables.iter().find(|t| t.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        let text = r#"
            [[shares]]
            name = "partners"
            recipients = ["acme"]
            [[shares.schemas]]
            name = "c360"
            [[shares.schemas.tables]]
            name = "profiles"
            source = "gold.customer_360_profile"
            exclude_columns = ["email"]
            row_filters = { acme = "state IN ('CA','NV')" }
        "#;
        let config = SharingConfig::from_toml(toml::from_str(text).unwrap()).unwrap();
        let share = config.share_for("partners", "acme").unwrap();
        let table = share.schema("c360").unwrap().table("profiles").unwrap();
        assert_eq!(table.filter_for("acme"), Some("state IN ('CA','NV')"));
        assert_eq!(table.filter_for("other"), None);
        assert!(config.share_for("partners", "other").is_none());
        assert_eq!(
            table.source().unwrap(),
            (Layer::Gold, "customer_360_profile")
        );
        for bad in ["../gold.x", "gold.../x", "gold", "platinum.x", "gold.a/b"] {
            let text = text.replace("gold.customer_360_profile", bad);
            assert!(
                SharingConfig::from_toml(toml::from_str(&text).unwrap()).is_err(),
                "{bad}"
            );
        }
        let columns: Vec<String> = [
            "customer_id",
            "full_name",
            "first_name",
            "last_name",
            "email",
        ]
        .map(String::from)
        .to_vec();
        let mut leaky = table.clone();
        leaky.mask_columns = vec!["full_name".into()];
        assert_eq!(
            leaky.exposures(&columns),
            [
                ("full_name".to_string(), "first_name".to_string()),
                ("full_name".to_string(), "last_name".to_string()),
                ("email".to_string(), "first_name".to_string()),
                ("email".to_string(), "last_name".to_string()),
            ]
        );
        leaky.exclude_columns = ["email", "first_name", "last_name"]
            .map(String::from)
            .to_vec();
        assert!(leaky.exposures(&columns).is_empty());
        // Hiding a name while the full name is shared gives it away too.
        leaky.mask_columns.clear();
        leaky.exclude_columns = vec!["last_name".into()];
        assert_eq!(
            leaky.exposures(&columns),
            [
                ("last_name".to_string(), "full_name".to_string()),
                ("last_name".to_string(), "email".to_string())
            ]
        );
        let text2 = text.replace("name = \"profiles\"", "name = \"../x\"");
        assert!(SharingConfig::from_toml(toml::from_str(&text2).unwrap()).is_err());
        assert!(SharingConfig::from_toml(toml::from_str("bogus = 1").unwrap()).is_err());
    }
}
