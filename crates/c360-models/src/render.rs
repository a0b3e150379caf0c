//! Jinja rendering of models and singular tests with minijinja.
//!
//! One [`Renderer`] holds every model, test and macro file as a template. Each render gets a
//! typed context (`this`, `model`) and a recorder object through which the c360 functions note
//! what the template asked for:
//!
//! | call | renders to | records |
//! | --- | --- | --- |
//! | `ref('m')` | `silver.m` (ephemeral: `__ephemeral_m`; seeds: `<seed layer>.m`) | a dependency |
//! | `source('bronze', 't')` | `bronze.t` | a source dependency |
//! | `stream('bronze', 't')` | `__stream_<model>__bronze_t` (incremental and append models only) | a stream |
//! | `stream(ref('m'))` | `__stream_<model>__<layer>_m`: the rows model `m`'s table wrote since (same) | a stream of a model |
//! | `var('k')`, `var('k', default)` | the value (`--var` > `[vars]` > default) | |
//! | `config(key=value, ...)` | nothing | the model's (or test's) in-file configuration |
//! | `is_incremental()` | whether this run merges/appends into an existing table | |
//!
//! User macros (`macros/*.sql`) are imported into every model and test, so `{{ cents('x') }}`
//! works without an import line. Undefined variables are errors, not empty strings.
//!
//! Rendering happens twice, as in dbt: a discovery pass (relations unknown yet, so `ref()`
//! renders the bare name) that collects configuration and dependencies, and after the DAG is
//! known a compile pass that renders the final SQL.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use minijinja::value::{Kwargs, Object};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior, Value};
use serde::Serialize;

use crate::config::{ConfigIssue, Materialization, ModelConfig, ModelLayer};
use crate::error::{closest, ModelError, Result};
use crate::project::Project;
use crate::tests_def::TestConfig;

/// Names c360 defines in every template; macros may not reuse them.
pub(crate) const RESERVED_NAMES: &[&str] = &[
    "ref",
    "source",
    "stream",
    "var",
    "config",
    "is_incremental",
    "this",
    "model",
];

const RECORDER: &str = "__c360";

/// The CTE name an ephemeral model is inlined as.
pub fn ephemeral_relation(model: &str) -> String {
    format!("__ephemeral_{model}")
}

/// The relation name under which the executor registers, for one model, the new rows of a
/// streamed source (one name per model, so models running at once never share a stream).
pub fn stream_relation(model: &str, source: &str, table: &str) -> String {
    format!("__stream_{model}__{source}_{table}")
}

/// What names resolve to during one pass.
#[derive(Debug, Default)]
pub(crate) struct Lookup {
    /// Models and seeds by name.
    pub refs: BTreeMap<String, RefTarget>,
    /// Declared `(source, table)` pairs.
    pub sources: BTreeSet<(String, String)>,
}

/// A model or seed as `ref()` sees it.
#[derive(Debug, Clone)]
pub(crate) struct RefTarget {
    pub id: String,
    /// `None` in the discovery pass.
    pub relation: Option<String>,
    pub enabled: bool,
}

/// The model being rendered (absent for singular tests).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ModelInfo {
    pub name: String,
    pub path: String,
    pub layer: ModelLayer,
    pub materialized: Materialization,
    /// `this`: the model's own relation.
    #[serde(skip)]
    pub this: String,
}

/// One render.
pub(crate) struct RenderRequest<'a> {
    /// Template name, the file's project-relative path.
    pub template: &'a str,
    /// Model or test name, for errors.
    pub node: &'a str,
    pub model: Option<ModelInfo>,
    pub is_incremental: bool,
    pub lookup: Arc<Lookup>,
}

/// What one render produced.
#[derive(Debug, Default, Clone)]
pub(crate) struct Rendered {
    pub sql: String,
    /// Node ids of `ref()`ed models and seeds.
    pub refs: BTreeSet<String>,
    /// Node ids of `source()`s.
    pub sources: BTreeSet<String>,
    /// Node ids of `stream()`ed sources.
    pub streams: BTreeSet<String>,
    pub model_config: Option<ModelConfig>,
    pub test_config: Option<TestConfig>,
}

/// A problem a c360 function found, kept typed until the render error gives it a line.
#[derive(Debug, Clone)]
pub(crate) enum Issue {
    ModelNotFound {
        name: String,
        suggestion: Option<String>,
    },
    ModelDisabled {
        name: String,
    },
    SourceNotFound {
        source: String,
        table: String,
        suggestion: Option<String>,
    },
    StreamNotAllowed {
        materialized: String,
    },
    StreamOfNoTable {
        relation: String,
    },
    MissingVar {
        name: String,
    },
    Config(ConfigIssue),
}

impl Issue {
    pub(crate) fn into_error(self, file: PathBuf, line: Option<usize>, node: &str) -> ModelError {
        let node = node.to_string();
        match self {
            Issue::ModelNotFound { name, suggestion } => ModelError::ModelNotFound {
                file,
                line,
                node,
                name,
                suggestion,
            },
            Issue::ModelDisabled { name } => ModelError::ModelDisabled {
                file,
                line,
                node,
                name,
            },
            Issue::SourceNotFound {
                source,
                table,
                suggestion,
            } => ModelError::SourceNotFound {
                file,
                line,
                node,
                table: format!("{source}.{table}"),
                suggestion,
            },
            Issue::StreamNotAllowed { materialized } => ModelError::StreamNotAllowed {
                file,
                line,
                node,
                materialized,
            },
            Issue::StreamOfNoTable { relation } => ModelError::StreamOfNoTable {
                file,
                line,
                node,
                relation,
            },
            Issue::MissingVar { name } => ModelError::MissingVar {
                file,
                line,
                node,
                name,
            },
            Issue::Config(ConfigIssue::UnknownKey { key, suggestion }) => {
                ModelError::UnknownConfigKey {
                    file,
                    line,
                    model: Some(node),
                    key,
                    suggestion,
                }
            }
            Issue::Config(ConfigIssue::Invalid(message)) => ModelError::InvalidConfig {
                file,
                line,
                model: Some(node),
                message,
            },
        }
    }
}

#[derive(Debug)]
struct Recorder {
    node: String,
    is_incremental: bool,
    /// `None` for tests.
    materialized: Option<Materialization>,
    lookup: Arc<Lookup>,
    vars: Arc<BTreeMap<String, Value>>,
    out: Mutex<(Rendered, Option<Issue>)>,
}

impl Object for Recorder {}

impl Recorder {
    fn fail(&self, issue: Issue) -> Error {
        let message = format!("{issue:?}");
        self.out.lock().unwrap().1.get_or_insert(issue);
        Error::new(ErrorKind::InvalidOperation, message)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Rendered) -> T) -> T {
        f(&mut self.out.lock().unwrap().0)
    }

    fn check_source(&self, source: &str, table: &str) -> Result<(), Error> {
        if self
            .lookup
            .sources
            .contains(&(source.to_string(), table.to_string()))
        {
            return Ok(());
        }
        let declared: Vec<String> = self
            .lookup
            .sources
            .iter()
            .map(|(s, t)| format!("{s}.{t}"))
            .collect();
        let suggestion = closest(
            &format!("{source}.{table}"),
            declared.iter().map(String::as_str),
        );
        Err(self.fail(Issue::SourceNotFound {
            source: source.into(),
            table: table.into(),
            suggestion,
        }))
    }
}

fn recorder(state: &State) -> Result<Arc<Recorder>, Error> {
    state
        .lookup(RECORDER)
        .and_then(|v| v.downcast_object::<Recorder>())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                "c360 functions need a model or test render",
            )
        })
}

fn ref_fn(state: &State, name: &str) -> Result<String, Error> {
    let rec = recorder(state)?;
    let Some(target) = rec.lookup.refs.get(name) else {
        let suggestion = closest(name, rec.lookup.refs.keys().map(String::as_str));
        return Err(rec.fail(Issue::ModelNotFound {
            name: name.into(),
            suggestion,
        }));
    };
    if !target.enabled {
        return Err(rec.fail(Issue::ModelDisabled { name: name.into() }));
    }
    rec.with(|r| r.refs.insert(target.id.clone()));
    Ok(target.relation.clone().unwrap_or_else(|| name.to_string()))
}

fn source_fn(state: &State, source: &str, table: &str) -> Result<String, Error> {
    let rec = recorder(state)?;
    rec.check_source(source, table)?;
    rec.with(|r| r.sources.insert(format!("source.{source}.{table}")));
    Ok(format!("{source}.{table}"))
}

/// `stream('source', 'table')`, or `stream(ref('model'))`: the rows a model's table wrote
/// since this model's offset on it (rows inserted or updated by its MERGEs, with the unchanged
/// rows of the files those rewrote; `c360_lake::Appends::OrMerges`).
fn stream_fn(state: &State, first: &str, table: Option<&str>) -> Result<String, Error> {
    let rec = recorder(state)?;
    let (id, layer, table) = match table {
        Some(table) => {
            rec.check_source(first, table)?;
            (
                format!("source.{first}.{table}"),
                first.to_string(),
                table.to_string(),
            )
        }
        None => {
            // `first` is what ref() rendered: the relation, or the bare name in discovery
            let target = rec.lookup.refs.iter().find(|(name, t)| {
                t.relation
                    .as_deref()
                    .map_or(name.as_str() == first, |r| r == first)
            });
            let Some((name, target)) = target.filter(|(_, t)| {
                t.id.starts_with("model.")
                    && !t.relation.as_deref().is_some_and(|r| r.starts_with("__"))
            }) else {
                return Err(rec.fail(Issue::StreamOfNoTable {
                    relation: first.to_string(),
                }));
            };
            let layer = target
                .relation
                .as_deref()
                .and_then(|r| r.split_once('.'))
                .map_or("model", |(layer, _)| layer);
            (target.id.clone(), layer.to_string(), name.clone())
        }
    };
    let materialized = rec
        .with(|r| r.model_config.as_ref().and_then(|c| c.materialized))
        .or(rec.materialized);
    match materialized {
        Some(m) if m.is_incremental() => {}
        other => {
            let materialized = other.map_or("a test".to_string(), |m| m.name().to_string());
            return Err(rec.fail(Issue::StreamNotAllowed { materialized }));
        }
    }
    rec.with(|r| r.streams.insert(id));
    Ok(stream_relation(&rec.node, &layer, &table))
}

fn var_fn(state: &State, name: &str, default: Option<Value>) -> Result<Value, Error> {
    let rec = recorder(state)?;
    match rec.vars.get(name).cloned().or(default) {
        Some(v) => Ok(v),
        None => Err(rec.fail(Issue::MissingVar { name: name.into() })),
    }
}

fn config_fn(state: &State, kwargs: Kwargs) -> Result<String, Error> {
    let rec = recorder(state)?;
    let mut map = serde_json::Map::new();
    let keys: Vec<String> = kwargs.args().map(str::to_string).collect();
    for key in keys {
        let value: Value = kwargs.get(&key)?;
        let json = serde_json::to_value(&value)
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
        map.insert(key, json);
    }
    let json = serde_json::Value::Object(map);
    if rec.materialized.is_none() {
        let parsed: TestConfig = serde_json::from_value(json)
            .map_err(|e| rec.fail(Issue::Config(ConfigIssue::Invalid(e.to_string()))))?;
        rec.with(|r| r.test_config = Some(parsed));
    } else {
        let parsed =
            ModelConfig::from_json(json).map_err(|issue| rec.fail(Issue::Config(issue)))?;
        rec.with(|r| {
            r.model_config = Some(match &r.model_config {
                Some(earlier) => earlier.merged(&parsed),
                None => parsed,
            })
        });
    }
    Ok(String::new())
}

fn is_incremental_fn(state: &State) -> Result<bool, Error> {
    Ok(recorder(state)?.is_incremental)
}

/// The typed context of every render.
#[derive(Serialize)]
struct TemplateContext<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    this: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a ModelInfo>,
    #[serde(rename = "__c360")]
    recorder: Value,
}

/// The Jinja environment of one project and one set of variables.
pub(crate) struct Renderer {
    env: Environment<'static>,
    vars: Arc<BTreeMap<String, Value>>,
}

impl Renderer {
    /// Registers every model, singular test and macro file of `project` as a template.
    pub(crate) fn new(
        project: &Project,
        vars: &BTreeMap<String, serde_json::Value>,
    ) -> Result<Renderer> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env.add_function("ref", ref_fn);
        env.add_function("source", source_fn);
        env.add_function("stream", stream_fn);
        env.add_function("var", var_fn);
        env.add_function("config", config_fn);
        env.add_function("is_incremental", is_incremental_fn);

        // No newline after the imports: line numbers in errors stay those of the file.
        let prelude: String = project
            .macros
            .iter()
            .filter(|m| !m.names.is_empty())
            .map(|m| format!("{{% from {:?} import {} %}}", m.path, m.names.join(", ")))
            .collect();
        let add = |env: &mut Environment<'static>, name: &str, source: String, node: &str| {
            env.add_template_owned(name.to_string(), source)
                .map_err(|e| template_error(&e, name, node))
        };
        for m in &project.macros {
            add(&mut env, &m.path, m.source.clone(), &m.path)?;
        }
        for model in project.models.values() {
            add(
                &mut env,
                &model.path,
                format!("{prelude}{}", model.raw_sql),
                &model.name,
            )?;
        }
        for test in project.singular_tests.values() {
            add(
                &mut env,
                &test.path,
                format!("{prelude}{}", test.raw_sql),
                &test.name,
            )?;
        }
        let vars = vars
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_serialize(v)))
            .collect();
        Ok(Renderer {
            env,
            vars: Arc::new(vars),
        })
    }

    /// Renders one model or singular test.
    pub(crate) fn render(&self, req: RenderRequest<'_>) -> Result<Rendered> {
        let rec = Arc::new(Recorder {
            node: req.node.to_string(),
            is_incremental: req.is_incremental,
            materialized: req.model.as_ref().map(|m| m.materialized),
            lookup: req.lookup.clone(),
            vars: self.vars.clone(),
            out: Mutex::new(Default::default()),
        });
        let tmpl = self
            .env
            .get_template(req.template)
            .map_err(|e| template_error(&e, req.template, req.node))?;
        let ctx = TemplateContext {
            this: req.model.as_ref().map(|m| m.this.as_str()),
            model: req.model.as_ref(),
            recorder: Value::from_dyn_object(rec.clone()),
        };
        let result = tmpl.render(&ctx);
        let (mut rendered, issue) = std::mem::take(&mut *rec.out.lock().unwrap());
        match result {
            Ok(sql) => {
                rendered.sql = sql;
                Ok(rendered)
            }
            Err(err) => match issue {
                Some(issue) => {
                    let file = PathBuf::from(err.name().unwrap_or(req.template));
                    Err(issue.into_error(file, err.line(), req.node))
                }
                None => Err(template_error(&err, req.template, req.node)),
            },
        }
    }
}

fn template_error(err: &Error, template: &str, node: &str) -> ModelError {
    let mut message = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        message.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    ModelError::Template {
        file: PathBuf::from(err.name().unwrap_or(template)),
        line: err.line(),
        node: node.to_string(),
        message,
    }
}

/// The 1-based line of the first call `func(` in a template's text (for problems found after
/// rendering, when minijinja's line is no longer at hand).
pub(crate) fn call_line(source: &str, func: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = source[from..].find(func) {
        let start = from + i;
        let before_ok = source[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after = source[start + func.len()..].trim_start();
        if before_ok && after.starts_with('(') {
            return Some(crate::error::line_of_offset(source, start));
        }
        from = start + func.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let p = Project::load(dir.path()).unwrap();
        (dir, p)
    }

    fn lookup() -> Arc<Lookup> {
        let mut l = Lookup::default();
        l.refs.insert(
            "a".into(),
            RefTarget {
                id: "model.a".into(),
                relation: Some("silver.a".into()),
                enabled: true,
            },
        );
        l.sources.insert(("bronze".into(), "t".into()));
        Arc::new(l)
    }

    fn model(name: &str, materialized: Materialization) -> Option<ModelInfo> {
        Some(ModelInfo {
            name: name.into(),
            path: format!("models/{name}.sql"),
            layer: ModelLayer::Gold,
            materialized,
            this: format!("gold.{name}"),
        })
    }

    fn render(
        p: &Project,
        name: &str,
        materialized: Materialization,
        incremental: bool,
    ) -> Result<Rendered> {
        let vars = BTreeMap::from([("x".to_string(), serde_json::json!(7))]);
        let r = Renderer::new(p, &vars).unwrap();
        let path = format!("models/{name}.sql");
        r.render(RenderRequest {
            template: &path,
            node: name,
            model: model(name, materialized),
            is_incremental: incremental,
            lookup: lookup(),
        })
    }

    #[test]
    fn functions_render_and_record() {
        let (_d, p) = project(&[
            ("c360.toml", "name = \"p\"\n"),
            ("macros/m.sql", "{% macro twice(c) %}({{ c }} * 2 + {{ var('x') }}){% endmacro %}"),
            (
                "models/b.sql",
                "{{ config(materialized='append', tags=['t']) }}select {{ twice('n') }}, '{{ var('y', 'd') }}' \
                 from {{ ref('a') }} join {{ source('bronze', 't') }} join {{ stream('bronze', 't') }} \
                 join {{ stream(ref('a')) }}\
                 {% if is_incremental() %} where n > (select max(n) from {{ this }}){% endif %}\n",
            ),
        ]);
        let out = render(&p, "b", Materialization::View, true).unwrap();
        assert_eq!(
            out.sql,
            "select (n * 2 + 7), 'd' from silver.a join bronze.t join __stream_b__bronze_t join __stream_b__silver_a where n > (select max(n) from gold.b)\n"
        );
        assert_eq!(out.refs, BTreeSet::from(["model.a".to_string()]));
        assert_eq!(out.sources, BTreeSet::from(["source.bronze.t".to_string()]));
        assert_eq!(
            out.streams,
            BTreeSet::from(["model.a".to_string(), "source.bronze.t".to_string()])
        );
        assert_eq!(
            out.model_config.unwrap().materialized,
            Some(Materialization::Append)
        );
    }

    #[test]
    fn mistakes_are_typed_errors_with_lines() {
        let (_d, p) = project(&[
            ("c360.toml", "name = \"p\"\n"),
            ("models/r.sql", "select 1\nfrom {{ ref('aa') }}\n"),
            (
                "models/s.sql",
                "\n\nselect * from {{ source('bronze', 'tt') }}",
            ),
            ("models/st.sql", "select * from {{ stream('bronze', 't') }}"),
            ("models/sr.sql", "{{ config(materialized='incremental') }}\nselect * from {{ stream('silver.nope') }}"),
            ("models/v.sql", "\n{{ var('nope') }}"),
            ("models/c.sql", "\n\n\n{{ config(materialisd='table') }}"),
            ("models/u.sql", "{{ undefined_thing }}"),
        ]);
        let err = render(&p, "r", Materialization::View, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "models/r.sql:2: in 'r': model 'aa' not found (did you mean 'a'?)"
        );
        let err = render(&p, "s", Materialization::View, false).unwrap_err();
        assert!(
            matches!(&err, ModelError::SourceNotFound { line: Some(3), suggestion: Some(s), .. } if s == "bronze.t"),
            "{err}"
        );
        let err = render(&p, "st", Materialization::Table, false).unwrap_err();
        assert!(
            matches!(err, ModelError::StreamNotAllowed { line: Some(1), .. }),
            "{err}"
        );
        let err = render(&p, "sr", Materialization::Incremental, true).unwrap_err();
        assert!(
            matches!(&err, ModelError::StreamOfNoTable { line: Some(2), relation, .. } if relation == "silver.nope"),
            "{err}"
        );
        let err = render(&p, "v", Materialization::View, false).unwrap_err();
        assert!(
            matches!(err, ModelError::MissingVar { line: Some(2), .. }),
            "{err}"
        );
        let err = render(&p, "c", Materialization::View, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "models/c.sql:4: in 'c': unknown config key 'materialisd' (did you mean 'materialized'?)"
        );
        let err = render(&p, "u", Materialization::View, false).unwrap_err();
        assert!(
            matches!(err, ModelError::Template { line: Some(1), .. }),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c360.toml"), "name = \"p\"\n").unwrap();
        std::fs::create_dir_all(dir.path().join("models")).unwrap();
        std::fs::write(dir.path().join("models/x.sql"), "select\n{{ ref('a' }}").unwrap();
        let p = Project::load(dir.path()).unwrap();
        let err = Renderer::new(&p, &BTreeMap::new()).err().unwrap();
        assert!(
            err.to_string()
                .starts_with("models/x.sql:2: in 'x': syntax error"),
            "{err}"
        );
    }

    #[test]
    fn the_model_context_is_typed() {
        let (_d, p) = project(&[
            ("c360.toml", "name = \"p\"\n"),
            (
                "models/n.sql",
                "{{ model.name }}/{{ model.layer }}/{{ model.materialized }}/{{ this }}",
            ),
        ]);
        let out = render(&p, "n", Materialization::Table, false).unwrap();
        assert_eq!(out.sql, "n/gold/table/gold.n");
    }

    #[test]
    fn call_lines_skip_longer_names() {
        assert_eq!(
            call_line("a\nmy_config(x)\n{{ config (y) }}", "config"),
            Some(3)
        );
    }
}
