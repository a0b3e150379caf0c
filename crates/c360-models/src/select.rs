//! Node selection, as `--select` and `--exclude` write it:
//!
//! | selector | selects |
//! | --- | --- |
//! | `m` | the model, seed or test named `m` |
//! | `+m` / `m+` / `+m+` | `m` and everything upstream / downstream / both |
//! | `tag:x` | nodes tagged `x` |
//! | `path:models/gold` | nodes whose file is under that folder (or is that file) |
//! | `source:bronze` / `source:bronze.transactions` | a source's tables (useful as `source:bronze+`) |
//!
//! Several selectors (space or comma separated, or repeated flags) are a union. Tests follow
//! the nodes they test ("eager", as dbt): a test is selected when any node it reads is, and
//! excluded when any node it reads is excluded. A selector that matches nothing is an error.
//! The result holds models, seeds and tests — never sources, which nothing runs.

use std::collections::BTreeSet;
use std::str::FromStr;

use crate::error::{closest, ModelError, Result};
use crate::manifest::{Manifest, ResourceType};

/// One parsed selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// What it matches before graph operators.
    pub method: SelectMethod,
    /// `+m`: also everything `m` depends on.
    pub ancestors: bool,
    /// `m+`: also everything that depends on `m`.
    pub descendants: bool,
    text: String,
}

/// The matching part of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectMethod {
    /// A node name.
    Name(String),
    /// `tag:x`.
    Tag(String),
    /// `path:dir` (or a file).
    Path(String),
    /// `source:s` or `source:s.t`.
    Source(String),
}

impl FromStr for Selector {
    type Err = ModelError;

    fn from_str(text: &str) -> Result<Selector> {
        let invalid = |message: &str| ModelError::InvalidSelector {
            selector: text.to_string(),
            message: message.to_string(),
        };
        let (ancestors, rest) = match text.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (descendants, body) = match rest.strip_suffix('+') {
            Some(body) => (true, body),
            None => (false, rest),
        };
        if body.is_empty() || body.contains('+') {
            return Err(invalid(
                "expected m, +m, m+, +m+, tag:x, path:dir or source:s[.t]",
            ));
        }
        let method = match body.split_once(':') {
            None => SelectMethod::Name(body.to_string()),
            Some((_, "")) => return Err(invalid("nothing after ':'")),
            Some(("tag", v)) => SelectMethod::Tag(v.to_string()),
            Some(("path", v)) => {
                SelectMethod::Path(v.trim_start_matches("./").trim_end_matches('/').to_string())
            }
            Some(("source", v)) => SelectMethod::Source(v.to_string()),
            Some((m, _)) => {
                return Err(invalid(&format!(
                    "unknown method '{m}' (use tag:, path: or source:)"
                )))
            }
        };
        Ok(Selector {
            method,
            ancestors,
            descendants,
            text: text.to_string(),
        })
    }
}

/// Parses selector arguments; each may hold several selectors separated by spaces or commas.
pub fn parse_selectors<S: AsRef<str>>(args: &[S]) -> Result<Vec<Selector>> {
    args.iter()
        .flat_map(|a| {
            a.as_ref()
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .map(|s| s.parse())
        .collect()
}

/// The ids of the models, seeds and tests to run: `include` (everything when empty) minus
/// `exclude`, tests following their nodes.
pub fn select(
    manifest: &Manifest,
    include: &[Selector],
    exclude: &[Selector],
) -> Result<BTreeSet<String>> {
    let mut chosen = if include.is_empty() {
        manifest.nodes.keys().cloned().collect()
    } else {
        with_tests(manifest, union(manifest, include)?)
    };
    if !exclude.is_empty() {
        let excluded = with_tests(manifest, union(manifest, exclude)?);
        chosen.retain(|id| !excluded.contains(id));
    }
    chosen.retain(|id| manifest.nodes[id].resource_type != ResourceType::Source);
    Ok(chosen)
}

fn union(manifest: &Manifest, selectors: &[Selector]) -> Result<BTreeSet<String>> {
    let dag = manifest.dag();
    let mut out = BTreeSet::new();
    for sel in selectors {
        let matched = matches(manifest, sel)?;
        for id in &matched {
            if sel.ancestors {
                out.extend(dag.ancestors(id));
            }
            if sel.descendants {
                out.extend(dag.descendants(id));
            }
        }
        out.extend(matched);
    }
    Ok(out)
}

/// Adds every test that reads a node of `ids`.
fn with_tests(manifest: &Manifest, mut ids: BTreeSet<String>) -> BTreeSet<String> {
    let tests: Vec<String> = manifest
        .nodes
        .iter()
        .filter(|(_, n)| {
            n.resource_type == ResourceType::Test && n.depends_on.iter().any(|d| ids.contains(d))
        })
        .map(|(id, _)| id.clone())
        .collect();
    ids.extend(tests);
    ids
}

fn matches(manifest: &Manifest, sel: &Selector) -> Result<BTreeSet<String>> {
    let nodes = manifest.nodes.iter();
    let found: BTreeSet<String> = match &sel.method {
        SelectMethod::Name(name) => nodes
            .filter(|(_, n)| n.resource_type != ResourceType::Source && &n.name == name)
            .map(|(id, _)| id.clone())
            .collect(),
        SelectMethod::Tag(tag) => nodes
            .filter(|(_, n)| n.tags.contains(tag))
            .map(|(id, _)| id.clone())
            .collect(),
        SelectMethod::Path(prefix) => nodes
            .filter(|(_, n)| n.resource_type != ResourceType::Source)
            .filter(|(_, n)| {
                n.path == *prefix
                    || n.path
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
            .map(|(id, _)| id.clone())
            .collect(),
        SelectMethod::Source(s) => nodes
            .filter(|(_, n)| n.resource_type == ResourceType::Source)
            .filter(|(_, n)| n.name == *s || n.name.split('.').next() == Some(s.as_str()))
            .map(|(id, _)| id.clone())
            .collect(),
    };
    if found.is_empty() {
        let suggestion = match &sel.method {
            SelectMethod::Name(name) => {
                let names: BTreeSet<&str> = manifest
                    .nodes
                    .values()
                    .filter(|n| n.resource_type != ResourceType::Source)
                    .map(|n| n.name.as_str())
                    .collect();
                closest(name, names)
            }
            SelectMethod::Tag(tag) => {
                let tags: BTreeSet<&str> = manifest
                    .nodes
                    .values()
                    .flat_map(|n| n.tags.iter().map(String::as_str))
                    .collect();
                closest(tag, tags).map(|t| format!("tag:{t}"))
            }
            SelectMethod::Source(s) => {
                let names: BTreeSet<&str> = manifest
                    .nodes
                    .values()
                    .filter(|n| n.resource_type == ResourceType::Source)
                    .map(|n| n.name.as_str())
                    .collect();
                closest(s, names).map(|t| format!("source:{t}"))
            }
            SelectMethod::Path(_) => None,
        };
        return Err(ModelError::SelectorNotFound {
            selector: sel.text.clone(),
            suggestion,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse() {
        let s: Selector = "+stg_customers+".parse().unwrap();
        assert_eq!(s.method, SelectMethod::Name("stg_customers".into()));
        assert!(s.ancestors && s.descendants);
        let s: Selector = "path:./models/gold/".parse().unwrap();
        assert_eq!(s.method, SelectMethod::Path("models/gold".into()));
        let all = parse_selectors(&["a b,tag:x", "source:bronze+"]).unwrap();
        assert_eq!(all.len(), 4);
        assert!(matches!(
            "++".parse::<Selector>(),
            Err(ModelError::InvalidSelector { .. })
        ));
        assert!(matches!(
            "config:x".parse::<Selector>(),
            Err(ModelError::InvalidSelector { .. })
        ));
        assert!(matches!(
            "a+b".parse::<Selector>(),
            Err(ModelError::InvalidSelector { .. })
        ));
    }
}
