//! Model configuration: the typed keys a model can set, how the levels combine, and the checks
//! that turn a combination into a [`ResolvedConfig`] the executor can act on.
//!
//! Levels, strongest first: `config(...)` in the model file, `config:` in a property YAML,
//! `[models.<folder>...]` in `c360.toml` (inner folders over outer ones), `[models]` itself.
//! Scalars take the strongest level that sets them; `tags` are the union of every level.
//! Every level is parsed with the same strict schema: an unknown key is an error, never ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use c360_lake::datafusion::config::ConfigOptions;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::closest;

/// How a model's result is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Materialization {
    /// A view: the query is kept, not its rows.
    View,
    /// A table rebuilt from scratch on every run.
    Table,
    /// A table updated by MERGE on `unique_key` (first run and full refresh: rebuilt).
    Incremental,
    /// A table whose runs append their rows (first run and full refresh: rebuilt).
    Append,
    /// Not stored: inlined as a CTE into every model that refers to it.
    Ephemeral,
    /// A table produced by a registered Rust function instead of SQL.
    Rust,
}

impl Materialization {
    /// The keyword, as written in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Materialization::View => "view",
            Materialization::Table => "table",
            Materialization::Incremental => "incremental",
            Materialization::Append => "append",
            Materialization::Ephemeral => "ephemeral",
            Materialization::Rust => "rust",
        }
    }

    /// Whether a run can add to the existing table instead of rebuilding it (and so whether
    /// `is_incremental()` and `stream()` make sense).
    pub fn is_incremental(self) -> bool {
        matches!(self, Materialization::Incremental | Materialization::Append)
    }
}

impl fmt::Display for Materialization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The lake layer a model (or seed) writes to. Bronze belongs to the loaders, never to models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelLayer {
    /// Cleaned and conformed data.
    Silver,
    /// Star schema, marts and everything built on them.
    Gold,
}

impl ModelLayer {
    /// The layer's name, also the schema part of `layer.table` relation names.
    pub fn name(self) -> &'static str {
        match self {
            ModelLayer::Silver => "silver",
            ModelLayer::Gold => "gold",
        }
    }

    /// The layer of a model in `models/<folder>/...`: silver or gold when the first folder is
    /// named so, gold otherwise.
    pub fn for_first_folder(folder: Option<&str>) -> ModelLayer {
        match folder {
            Some("silver") => ModelLayer::Silver,
            _ => ModelLayer::Gold,
        }
    }
}

impl fmt::Display for ModelLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Limits which target rows a MERGE may touch: only rows whose `column` is within `days` days
/// of the newest value among the incoming rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lookback {
    /// A date or timestamp column of the target.
    pub column: String,
    /// Days before the newest incoming value.
    pub days: u32,
}

/// One level of configuration, as written. Every field is optional; see [`ResolvedConfig`] for
/// the meaning of each key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `materialized`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub materialized: Option<Materialization>,
    /// `unique_key`: a column name or a list of them.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Option::is_none"
    )]
    pub unique_key: Option<Vec<String>>,
    /// `incremental_predicates`: SQL conditions on the target (`DBT_INTERNAL_DEST`-free: use
    /// the plain column names) that limit the rows a MERGE may touch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental_predicates: Option<Vec<String>>,
    /// `merge_lookback: {column, days}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_lookback: Option<Lookback>,
    /// `delete_flag_column`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_flag_column: Option<String>,
    /// `new_key_flag_column`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_key_flag_column: Option<String>,
    /// `partition_by`: a column or a list of them.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Option::is_none"
    )]
    pub partition_by: Option<Vec<String>>,
    /// `cluster_by`: a column or a list of them.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Option::is_none"
    )]
    pub cluster_by: Option<Vec<String>>,
    /// `tags`: a tag or a list of them.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Option::is_none"
    )]
    pub tags: Option<Vec<String>>,
    /// `enabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `layer` (alias `schema`).
    #[serde(default, alias = "schema", skip_serializing_if = "Option::is_none")]
    pub layer: Option<ModelLayer>,
    /// `full_refresh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_refresh: Option<bool>,
    /// `rust_function`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_function: Option<String>,
    /// `session_options`: DataFusion options for this model's query only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_options: Option<BTreeMap<String, String>>,
}

/// Every key [`ModelConfig`] accepts (kept in step with the struct by a unit test).
pub const CONFIG_KEYS: &[&str] = &[
    "materialized",
    "unique_key",
    "incremental_predicates",
    "merge_lookback",
    "delete_flag_column",
    "new_key_flag_column",
    "partition_by",
    "cluster_by",
    "tags",
    "enabled",
    "layer",
    "schema",
    "full_refresh",
    "rust_function",
    "session_options",
];

/// Why one level of configuration was refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ConfigIssue {
    UnknownKey {
        key: String,
        suggestion: Option<String>,
    },
    Invalid(String),
}

/// The first key of `keys` that is not a config key, with a suggestion.
pub(crate) fn unknown_key<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<ConfigIssue> {
    keys.into_iter()
        .find(|k| !CONFIG_KEYS.contains(k))
        .map(|k| ConfigIssue::UnknownKey {
            key: k.to_string(),
            suggestion: closest(k, CONFIG_KEYS.iter().copied()),
        })
}

impl ModelConfig {
    /// Parses one level from a JSON object (the keyword arguments of `config(...)`).
    pub(crate) fn from_json(value: serde_json::Value) -> Result<ModelConfig, ConfigIssue> {
        if let serde_json::Value::Object(map) = &value {
            if let Some(issue) = unknown_key(map.keys().map(String::as_str)) {
                return Err(issue);
            }
        }
        serde_json::from_value(value).map_err(|e| ConfigIssue::Invalid(e.to_string()))
    }

    /// This level with `over` laid on top: `over`'s scalars win, tags are united.
    pub fn merged(&self, over: &ModelConfig) -> ModelConfig {
        let tags = match (&self.tags, &over.tags) {
            (None, None) => None,
            (a, b) => {
                let all: BTreeSet<&String> = a.iter().chain(b.iter()).flatten().collect();
                Some(all.into_iter().cloned().collect())
            }
        };
        ModelConfig {
            materialized: over.materialized.or(self.materialized),
            unique_key: over.unique_key.clone().or_else(|| self.unique_key.clone()),
            incremental_predicates: over
                .incremental_predicates
                .clone()
                .or_else(|| self.incremental_predicates.clone()),
            merge_lookback: over
                .merge_lookback
                .clone()
                .or_else(|| self.merge_lookback.clone()),
            delete_flag_column: over
                .delete_flag_column
                .clone()
                .or_else(|| self.delete_flag_column.clone()),
            new_key_flag_column: over
                .new_key_flag_column
                .clone()
                .or_else(|| self.new_key_flag_column.clone()),
            partition_by: over
                .partition_by
                .clone()
                .or_else(|| self.partition_by.clone()),
            cluster_by: over.cluster_by.clone().or_else(|| self.cluster_by.clone()),
            tags,
            enabled: over.enabled.or(self.enabled),
            layer: over.layer.or(self.layer),
            full_refresh: over.full_refresh.or(self.full_refresh),
            rust_function: over
                .rust_function
                .clone()
                .or_else(|| self.rust_function.clone()),
            session_options: match (&self.session_options, &over.session_options) {
                (None, None) => None,
                // per option, the stronger level wins
                (a, b) => Some(
                    a.iter()
                        .chain(b.iter())
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
            },
        }
    }

    /// Applies defaults (`view`, `default_layer`, enabled) and checks that the keys fit the
    /// materialization. The message names the offending key.
    pub fn resolve(&self, default_layer: ModelLayer) -> Result<ResolvedConfig, String> {
        let ModelConfig {
            materialized,
            unique_key,
            incremental_predicates,
            merge_lookback,
            delete_flag_column,
            new_key_flag_column,
            partition_by,
            cluster_by,
            tags,
            enabled,
            layer,
            full_refresh,
            rust_function,
            session_options,
        } = self.clone();
        let materialized = materialized.unwrap_or(Materialization::View);
        let m = materialized.name();
        let unique_key = unique_key.unwrap_or_default();
        let incremental_predicates = incremental_predicates.unwrap_or_default();
        let merges = materialized == Materialization::Incremental;
        if merges && unique_key.is_empty() {
            return Err(
                "materialized='incremental' needs a unique_key (use 'append' to only add rows)"
                    .into(),
            );
        }
        for (key, set) in [
            ("unique_key", !unique_key.is_empty()),
            ("incremental_predicates", !incremental_predicates.is_empty()),
            ("merge_lookback", merge_lookback.is_some()),
            ("delete_flag_column", delete_flag_column.is_some()),
            ("new_key_flag_column", new_key_flag_column.is_some()),
        ] {
            if set && !merges {
                return Err(format!(
                    "{key} applies only to materialized='incremental', not '{m}'"
                ));
            }
        }
        if merge_lookback.as_ref().is_some_and(|l| l.days == 0) {
            return Err("merge_lookback.days must be at least 1".into());
        }
        let partition_by = partition_by.unwrap_or_default();
        let cluster_by = cluster_by.unwrap_or_default();
        let stores_rows = !matches!(
            materialized,
            Materialization::View | Materialization::Ephemeral
        );
        if !stores_rows && (!partition_by.is_empty() || !cluster_by.is_empty()) {
            return Err(format!(
                "partition_by and cluster_by need a stored table, not '{m}'"
            ));
        }
        match (materialized, &rust_function) {
            (Materialization::Rust, None) => {
                return Err(
                    "materialized='rust' needs rust_function (the registered function's name)"
                        .into(),
                )
            }
            (other, Some(_)) if other != Materialization::Rust => {
                return Err(format!(
                    "rust_function applies only to materialized='rust', not '{m}'"
                ))
            }
            _ => {}
        }
        let session_options = session_options.unwrap_or_default();
        if !session_options.is_empty() && !stores_rows {
            return Err(format!("session_options need a stored table, not '{m}'"));
        }
        let mut options = ConfigOptions::new();
        for (key, value) in &session_options {
            options
                .set(key, value)
                .map_err(|e| format!("session_options: {key} = '{value}': {e}"))?;
        }
        Ok(ResolvedConfig {
            materialized,
            layer: layer.unwrap_or(default_layer),
            unique_key,
            incremental_predicates,
            merge_lookback,
            delete_flag_column,
            new_key_flag_column,
            partition_by,
            cluster_by,
            tags: tags.unwrap_or_default().into_iter().collect(),
            enabled: enabled.unwrap_or(true),
            full_refresh,
            rust_function,
            session_options,
        })
    }
}

/// A model's configuration after every level is merged and checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedConfig {
    /// How the result is stored.
    pub materialized: Materialization,
    /// The layer the model writes to.
    pub layer: ModelLayer,
    /// Incremental: the MERGE key (one or more columns).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unique_key: Vec<String>,
    /// Incremental: extra conditions on target rows a MERGE may touch.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incremental_predicates: Vec<String>,
    /// Incremental: only target rows within this many days of the newest incoming row may be
    /// touched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_lookback: Option<Lookback>,
    /// Incremental: incoming rows with this boolean column true delete the matching target row
    /// instead of updating it (and are never inserted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_flag_column: Option<String>,
    /// Incremental: incoming rows with this boolean column true carry a key the table does not
    /// hold yet (the model's promise): the MERGE inserts them without looking their key up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_key_flag_column: Option<String>,
    /// Columns the stored table is partitioned by.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partition_by: Vec<String>,
    /// Columns the stored table is clustered (Z-ordered) by.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cluster_by: Vec<String>,
    /// Tags, for selection.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<String>,
    /// Disabled models are left out of the manifest; a `ref()` to one is an error.
    pub enabled: bool,
    /// `Some(true)`: always rebuild; `Some(false)`: never rebuild, even on `--full-refresh`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_refresh: Option<bool>,
    /// Rust models: the registered function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rust_function: Option<String>,
    /// DataFusion session options (`datafusion.<group>.<name>` → value) set for this model's
    /// query only; checked against DataFusion's options when the project compiles.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub session_options: BTreeMap<String, String>,
}

/// Accepts `"a"` or `["a", "b"]`.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    struct OneOrMany;
    impl<'de> Visitor<'de> for OneOrMany {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or a list of strings")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = seq.next_element::<String>()? {
                out.push(s);
            }
            Ok(out)
        }
    }
    d.deserialize_any(OneOrMany).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_keys_list_every_field() {
        let full = ModelConfig {
            materialized: Some(Materialization::Table),
            unique_key: Some(vec![]),
            incremental_predicates: Some(vec![]),
            merge_lookback: Some(Lookback {
                column: "d".into(),
                days: 1,
            }),
            delete_flag_column: Some(String::new()),
            new_key_flag_column: Some(String::new()),
            partition_by: Some(vec![]),
            cluster_by: Some(vec![]),
            tags: Some(vec![]),
            enabled: Some(true),
            layer: Some(ModelLayer::Gold),
            full_refresh: Some(true),
            rust_function: Some(String::new()),
            session_options: Some(BTreeMap::new()),
        };
        let value = serde_json::to_value(&full).unwrap();
        let mut fields: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.push("schema");
        fields.sort();
        let mut keys = CONFIG_KEYS.to_vec();
        keys.sort();
        assert_eq!(fields, keys);
        // and the list accepts nothing the struct refuses
        for key in CONFIG_KEYS {
            assert!(unknown_key([*key]).is_none());
        }
    }

    #[test]
    fn unknown_keys_are_refused_with_a_suggestion() {
        let err = ModelConfig::from_json(json!({"materialised": "table"})).unwrap_err();
        assert_eq!(
            err,
            ConfigIssue::UnknownKey {
                key: "materialised".into(),
                suggestion: Some("materialized".into())
            }
        );
        let err = ModelConfig::from_json(json!({"materialized": "tabel"})).unwrap_err();
        assert!(matches!(err, ConfigIssue::Invalid(m) if m.contains("tabel")));
    }

    #[test]
    fn stronger_levels_win_and_tags_unite() {
        let folder =
            ModelConfig::from_json(json!({"materialized": "table", "tags": "daily"})).unwrap();
        let file = ModelConfig::from_json(json!({
            "materialized": "incremental", "unique_key": "id", "tags": ["finance", "daily"]
        }))
        .unwrap();
        let merged = folder.merged(&file).resolve(ModelLayer::Silver).unwrap();
        assert_eq!(merged.materialized, Materialization::Incremental);
        assert_eq!(merged.unique_key, vec!["id".to_string()]);
        assert_eq!(
            merged.tags.iter().map(String::as_str).collect::<Vec<_>>(),
            ["daily", "finance"]
        );
        assert_eq!(merged.layer, ModelLayer::Silver);
        let schema = ModelConfig::from_json(json!({"schema": "gold"})).unwrap();
        assert_eq!(
            folder
                .merged(&schema)
                .resolve(ModelLayer::Silver)
                .unwrap()
                .layer,
            ModelLayer::Gold
        );
    }

    #[test]
    fn combinations_are_checked() {
        let check =
            |v: serde_json::Value| ModelConfig::from_json(v).unwrap().resolve(ModelLayer::Gold);
        assert!(check(json!({"materialized": "incremental"}))
            .unwrap_err()
            .contains("unique_key"));
        assert!(check(json!({"materialized": "table", "unique_key": "id"})).is_err());
        assert!(check(json!({"materialized": "append", "delete_flag_column": "d"})).is_err());
        assert!(check(json!({"materialized": "table", "new_key_flag_column": "n"})).is_err());
        assert!(check(json!({"materialized": "rust"}))
            .unwrap_err()
            .contains("rust_function"));
        assert!(check(json!({"materialized": "view", "partition_by": "d"})).is_err());
        let ok = check(json!({
            "materialized": "incremental", "unique_key": ["a", "b"],
            "merge_lookback": {"column": "d", "days": 3}, "delete_flag_column": "is_deleted"
        }))
        .unwrap();
        assert_eq!(
            ok.merge_lookback,
            Some(Lookback {
                column: "d".into(),
                days: 3
            })
        );
        assert!(
            ModelConfig::from_json(json!({"merge_lookback": {"column": "d", "dayz": 3}})).is_err()
        );
    }

    #[test]
    fn session_options_are_checked_and_merged_per_option() {
        const RATIO: &str = "datafusion.execution.skip_partial_aggregation_probe_ratio_threshold";
        let folder = ModelConfig::from_json(json!({
            "materialized": "table",
            "session_options": {RATIO: "0.5", "datafusion.execution.batch_size": "4096"}
        }))
        .unwrap();
        let file = ModelConfig::from_json(json!({"session_options": {RATIO: "0.1"}})).unwrap();
        let merged = folder.merged(&file).resolve(ModelLayer::Gold).unwrap();
        assert_eq!(merged.session_options[RATIO], "0.1");
        assert_eq!(
            merged.session_options["datafusion.execution.batch_size"],
            "4096"
        );
        let check =
            |v: serde_json::Value| ModelConfig::from_json(v).unwrap().resolve(ModelLayer::Gold);
        let unknown = check(json!({
            "materialized": "table", "session_options": {"datafusion.execution.no_such": "1"}
        }))
        .unwrap_err();
        assert!(
            unknown.contains("datafusion.execution.no_such"),
            "{unknown}"
        );
        let bad_value =
            check(json!({"materialized": "table", "session_options": {RATIO: "often"}}))
                .unwrap_err();
        assert!(bad_value.contains("often"), "{bad_value}");
        assert!(check(json!({"materialized": "view", "session_options": {RATIO: "0.1"}})).is_err());
    }
}
