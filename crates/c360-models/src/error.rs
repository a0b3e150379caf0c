//! Errors of the model engine, sorted by who is at fault: the project's configuration
//! (`c360.toml`, property YAML, `config()`), the project's SQL and templates, the selection
//! given on the command line, or the environment (I/O). Every error about a project file names
//! the file (relative to the project root) and, when known, the line.

use std::fmt;
use std::path::{Path, PathBuf};

/// Result alias of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// What can go wrong while loading, rendering, planning or selecting models.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    // ---- the project's configuration -------------------------------------------------------
    /// `c360.toml` is malformed or has a key the schema does not know.
    #[error("{}: {message}", At(file, line))]
    ProjectFile {
        /// The project file.
        file: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A property YAML file is malformed or has a key the schema does not know.
    #[error("{}: {message}", At(file, line))]
    PropertyFile {
        /// The YAML file.
        file: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A model, seed, macro or test whose name is not a plain identifier.
    #[error("{}: invalid {what} name '{name}': use letters, digits and '_' (not starting with a digit)", file.display())]
    InvalidName {
        /// The offending file.
        file: PathBuf,
        /// What kind of thing (`model`, `seed`, ...).
        what: &'static str,
        /// The rejected name.
        name: String,
    },
    /// Two definitions of one name.
    #[error("{what} '{name}' is defined twice: {} and {}", first.display(), second.display())]
    DuplicateName {
        /// What kind of thing (`model`, `source`, `macro`, ...).
        what: &'static str,
        /// The name.
        name: String,
        /// Where it was first defined.
        first: PathBuf,
        /// Where it was defined again.
        second: PathBuf,
    },
    /// A property file describes a model (or seed) that has no `.sql` (or `.csv`) file.
    #[error(
        "{}: properties for unknown {what} '{name}'{}",
        At(file, line),
        DidYouMean(suggestion)
    )]
    UnknownNodeInProperties {
        /// The YAML file.
        file: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// `model` or `seed`.
        what: &'static str,
        /// The unknown name.
        name: String,
        /// The closest existing name.
        suggestion: Option<String>,
    },
    /// A configuration key that no materialization knows.
    #[error(
        "{}: {}unknown config key '{key}'{}",
        At(file, line),
        InModel(model),
        DidYouMean(suggestion)
    )]
    UnknownConfigKey {
        /// Where the key was written.
        file: PathBuf,
        /// 1-based line, when known (for `config()` in a model, the line of the call).
        line: Option<usize>,
        /// The model, when the key was set for one.
        model: Option<String>,
        /// The unknown key.
        key: String,
        /// The closest known key.
        suggestion: Option<String>,
    },
    /// A configuration value, or a combination of values, that is not valid.
    #[error("{}: {}invalid config: {message}", At(file, line), InModel(model))]
    InvalidConfig {
        /// Where the configuration was written.
        file: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// The model, when the configuration is a model's.
        model: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A generic test that cannot be built (wrong place, bad `to:`).
    #[error("{}: test '{test}': {message}", At(file, line))]
    InvalidTest {
        /// The YAML file that declares the test.
        file: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// The test (kind and column).
        test: String,
        /// What is wrong.
        message: String,
    },

    // ---- the project's SQL and templates ---------------------------------------------------
    /// Jinja that does not parse or fails while rendering.
    #[error("{}: {}{message}", At(file, line), InModel(&Some(node.clone())))]
    Template {
        /// The template file (a model, test or macro file).
        file: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// The model or test being rendered.
        node: String,
        /// minijinja's description.
        message: String,
    },
    /// `ref('x')` where no model or seed `x` exists.
    #[error("{}: {}model '{name}' not found{}", At(file, line), InModel(&Some(node.clone())), DidYouMean(suggestion))]
    ModelNotFound {
        /// The file with the `ref()`.
        file: PathBuf,
        /// 1-based line of the `ref()`.
        line: Option<usize>,
        /// The model or test being rendered.
        node: String,
        /// The name that was referenced.
        name: String,
        /// The closest existing name.
        suggestion: Option<String>,
    },
    /// `ref('x')` where `x` is disabled (`enabled = false`).
    #[error("{}: {}model '{name}' is disabled", At(file, line), InModel(&Some(node.clone())))]
    ModelDisabled {
        /// The file with the `ref()`.
        file: PathBuf,
        /// 1-based line of the `ref()`, when known.
        line: Option<usize>,
        /// The model or test being rendered.
        node: String,
        /// The disabled model.
        name: String,
    },
    /// `source('s', 't')` or `stream('s', 't')` that no `sources:` YAML declares.
    #[error("{}: {}source '{table}' is not declared in any sources YAML{}", At(file, line), InModel(&Some(node.clone())), DidYouMean(suggestion))]
    SourceNotFound {
        /// The file with the call.
        file: PathBuf,
        /// 1-based line of the call.
        line: Option<usize>,
        /// The model or test being rendered.
        node: String,
        /// The table asked for, as `source.table`.
        table: String,
        /// The closest declared `source.table`.
        suggestion: Option<String>,
    },
    /// `stream()` in a model that is not incremental or append.
    #[error("{}: {}stream() is only allowed in incremental or append models (this one is {materialized})", At(file, line), InModel(&Some(node.clone())))]
    StreamNotAllowed {
        /// The file with the call.
        file: PathBuf,
        /// 1-based line of the call, when known.
        line: Option<usize>,
        /// The model or test being rendered.
        node: String,
        /// The node's materialization (or `test`).
        materialized: String,
    },
    /// `stream(x)` with one argument that is not a `ref()` to a model stored as a table.
    #[error("{}: {}stream({relation}) streams a model's table: write stream(ref('model')) for a model that is not ephemeral", At(file, line), InModel(&Some(node.clone())))]
    StreamOfNoTable {
        /// The file with the call.
        file: PathBuf,
        /// 1-based line of the call, when known.
        line: Option<usize>,
        /// The model or test being rendered.
        node: String,
        /// What the call was given.
        relation: String,
    },
    /// `var('x')` without a default, and `x` set neither in `c360.toml` nor by `--var`.
    #[error("{}: {}variable '{name}' is not set (add it to [vars] in c360.toml, pass --var {name}=VALUE, or give var() a default)", At(file, line), InModel(&Some(node.clone())))]
    MissingVar {
        /// The file with the call.
        file: PathBuf,
        /// 1-based line of the call.
        line: Option<usize>,
        /// The model or test being rendered.
        node: String,
        /// The variable.
        name: String,
    },
    /// Models (and seeds, sources) that depend on each other in a circle.
    #[error("dependency cycle: {cycle}")]
    Cycle {
        /// The cycle, e.g. `a -> b -> a`.
        cycle: String,
    },

    // ---- the command line ------------------------------------------------------------------
    /// A selector that does not parse.
    #[error("invalid selector '{selector}': {message}")]
    InvalidSelector {
        /// The selector as given.
        selector: String,
        /// What is wrong.
        message: String,
    },
    /// A selector naming a model, tag or path that matches nothing.
    #[error("selector '{selector}' matches no node{}", DidYouMean(suggestion))]
    SelectorNotFound {
        /// The selector as given.
        selector: String,
        /// The closest existing name.
        suggestion: Option<String>,
    },
    /// A `--var` that is not `KEY=VALUE`.
    #[error("invalid --var '{text}': expected KEY=VALUE")]
    InvalidVar {
        /// The argument as given.
        text: String,
    },

    // ---- the environment -------------------------------------------------------------------
    /// The lake could not be opened or registered before a run (failures of single models
    /// are recorded in the run results instead).
    #[error("lake: {0}")]
    Lake(#[from] c360_lake::LakeError),
    /// A file-system failure while reading the project.
    #[error("I/O error at {}: {source}", path.display())]
    Io {
        /// Where.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl ModelError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ModelError {
        ModelError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `file:line` or `file`.
struct At<'a>(&'a PathBuf, &'a Option<usize>);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(line) => write!(f, "{}:{line}", self.0.display()),
            None => write!(f, "{}", self.0.display()),
        }
    }
}

/// ` (did you mean 'x'?)` or nothing.
struct DidYouMean<'a>(&'a Option<String>);

impl fmt::Display for DidYouMean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(s) => write!(f, " (did you mean '{s}'?)"),
            None => Ok(()),
        }
    }
}

/// `model 'x': ` or nothing.
struct InModel<'a>(&'a Option<String>);

impl fmt::Display for InModel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(m) => write!(f, "in '{m}': "),
            None => Ok(()),
        }
    }
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo
/// (ties: the first in `candidates` order, which callers keep sorted).
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (name.chars().count() / 3).max(2);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(name, c);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// 1-based line of a byte offset in `text`.
pub(crate) fn line_of_offset(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_pick_the_closest_likely_typo() {
        let names = ["stg_customers", "stg_transactions", "dim_customer"];
        assert_eq!(closest("stg_customer", names), Some("stg_customers".into()));
        assert_eq!(
            closest("stg_transaction", names),
            Some("stg_transactions".into())
        );
        assert_eq!(closest("revenue", names), None);
    }

    #[test]
    fn messages_name_file_line_and_model() {
        let err = ModelError::ModelNotFound {
            file: "models/gold/a.sql".into(),
            line: Some(3),
            node: "a".into(),
            name: "stg_customer".into(),
            suggestion: Some("stg_customers".into()),
        };
        assert_eq!(
            err.to_string(),
            "models/gold/a.sql:3: in 'a': model 'stg_customer' not found (did you mean 'stg_customers'?)"
        );
    }
}
