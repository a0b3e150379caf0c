//! The compile phase: renders every model and test to its final SQL and assembles the
//! [`Manifest`].
//!
//! Steps: discovery render of each model (configuration, `ref`/`source`/`stream` calls; an
//! incremental model is rendered with `is_incremental()` both false and true so dependencies in
//! either branch count) → configuration resolved and checked → DAG over sources, seeds and
//! enabled models (cycles are errors) → compile render in topological order, ephemeral models
//! inlined as CTEs into their dependents → data tests expanded and compiled.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{Materialization, ModelLayer, ResolvedConfig};
use crate::dag::{Dag, DagError};
use crate::error::{closest, ModelError, Result};
use crate::inline::{ephemeral_closure, inline_ctes};
use crate::manifest::{ColumnInfo, Manifest, ManifestNode, ResourceType, TestInfo};
use crate::project::{ModelFile, Project, PROJECT_FILE};
use crate::properties::ColumnProperties;
use crate::render::{
    call_line, ephemeral_relation, Lookup, ModelInfo, RefTarget, RenderRequest, Renderer,
};
use crate::tests_def::{dedupe_names, expand, TestNode, TestTarget};

/// What the discovery pass learnt about a model.
struct Planned<'a> {
    file: &'a ModelFile,
    config: ResolvedConfig,
    deps: BTreeSet<String>,
    streams: BTreeSet<String>,
}

/// Compiles `project`. `vars` override `[vars]` (as strings, like `--var`);
/// `is_incremental(model)` says whether an incremental or append model will add to an existing
/// table on this run (the executor answers from the lake and `--full-refresh`). A model with
/// `full_refresh = true` is never compiled incrementally.
pub fn compile(
    project: &Project,
    vars: &BTreeMap<String, String>,
    is_incremental: &dyn Fn(&str) -> bool,
) -> Result<Manifest> {
    let mut all_vars = project.vars.clone();
    for (k, v) in vars {
        all_vars.insert(k.clone(), serde_json::Value::String(v.clone()));
    }
    let renderer = Renderer::new(project, &all_vars)?;
    let seed_relation = |name: &str| format!("{}.{name}", project.seed_layer.name());
    let sources: BTreeSet<(String, String)> = project
        .sources
        .values()
        .flat_map(|s| s.tables.keys().map(|t| (s.name.clone(), t.clone())))
        .collect();

    // Pass 1: discovery.
    let mut discover = Lookup {
        refs: BTreeMap::new(),
        sources: sources.clone(),
    };
    for name in project.models.keys() {
        discover.refs.insert(
            name.clone(),
            RefTarget {
                id: format!("model.{name}"),
                relation: None,
                enabled: true,
            },
        );
    }
    for name in project.seeds.keys() {
        let target = RefTarget {
            id: format!("seed.{name}"),
            relation: Some(seed_relation(name)),
            enabled: true,
        };
        discover.refs.insert(name.clone(), target);
    }
    let discover = Arc::new(discover);
    let mut planned: BTreeMap<String, Planned> = BTreeMap::new();
    for model in project.models.values() {
        planned.insert(
            model.name.clone(),
            discover_model(project, &renderer, model, &discover)?,
        );
    }

    // The DAG of sources, seeds and enabled models.
    let enabled = |id: &str| {
        id.strip_prefix("model.")
            .is_none_or(|m| planned[m].config.enabled)
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (s, t) in &sources {
        graph.insert(format!("source.{s}.{t}"), BTreeSet::new());
    }
    for name in project.seeds.keys() {
        graph.insert(format!("seed.{name}"), BTreeSet::new());
    }
    for (name, p) in planned.iter().filter(|(_, p)| p.config.enabled) {
        graph.insert(
            format!("model.{name}"),
            p.deps.iter().filter(|d| enabled(d)).cloned().collect(),
        );
    }
    let dag = Dag::new(graph).map_err(cycle_error)?;

    // Pass 2: compile in topological order.
    let mut lookup = Lookup {
        refs: BTreeMap::new(),
        sources: sources.clone(),
    };
    for (name, p) in &planned {
        let target = RefTarget {
            id: format!("model.{name}"),
            relation: Some(model_relation(name, &p.config)),
            enabled: p.config.enabled,
        };
        lookup.refs.insert(name.clone(), target);
    }
    for (name, target) in &discover.refs {
        if target.id.starts_with("seed.") {
            lookup.refs.insert(name.clone(), target.clone());
        }
    }
    let lookup = Arc::new(lookup);
    let order = dag.topo_order();
    let position: BTreeMap<&String, usize> =
        order.iter().enumerate().map(|(i, id)| (id, i)).collect();
    let is_ephemeral = |id: &str| {
        id.strip_prefix("model.")
            .is_some_and(|m| planned[m].config.materialized == Materialization::Ephemeral)
    };
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    let mut nodes: BTreeMap<String, ManifestNode> = BTreeMap::new();
    for id in &order {
        let Some(name) = id.strip_prefix("model.") else {
            continue;
        };
        let p = &planned[name];
        let incremental = p.config.materialized.is_incremental()
            && p.config.full_refresh != Some(true)
            && is_incremental(name);
        let rendered = renderer.render(RenderRequest {
            template: &p.file.path,
            node: name,
            model: Some(model_info(p.file, p.config.materialized, p.config.layer)),
            is_incremental: incremental,
            lookup: lookup.clone(),
        })?;
        let ctes = ephemeral_closure(&dag, dag.parents(id), &is_ephemeral, &position);
        let compiled = inline_ctes(&rendered.sql, &ctes, &bodies);
        // The executor may still have to rebuild (the table is gone, a stream's source was
        // rewritten): keep the full-build SQL beside the incremental one.
        let rebuild_sql = if incremental {
            let full = renderer.render(RenderRequest {
                template: &p.file.path,
                node: name,
                model: Some(model_info(p.file, p.config.materialized, p.config.layer)),
                is_incremental: false,
                lookup: lookup.clone(),
            })?;
            Some(inline_ctes(&full.sql, &ctes, &bodies))
        } else {
            None
        };
        bodies.insert(id.clone(), rendered.sql);
        let props = p.file.properties.as_ref();
        nodes.insert(
            id.clone(),
            ManifestNode {
                name: name.to_string(),
                resource_type: ResourceType::Model,
                path: p.file.path.clone(),
                relation: Some(model_relation(name, &p.config)),
                layer: Some(p.config.layer.name().to_string()),
                materialized: Some(p.config.materialized),
                depends_on: dag.parents(id).cloned().collect(),
                streams: p.streams.clone(),
                ephemeral_ctes: ctes,
                is_incremental: incremental,
                config: Some(p.config.clone()),
                test: None,
                compiled_sql: Some(compiled),
                rebuild_sql,
                columns: props.map(|pr| columns(&pr.columns)).unwrap_or_default(),
                description: props.map(|pr| pr.description.clone()).unwrap_or_default(),
                tags: p.config.tags.clone(),
            },
        );
    }
    for seed in project.seeds.values() {
        let props = seed.properties.as_ref();
        nodes.insert(
            format!("seed.{}", seed.name),
            ManifestNode {
                relation: Some(seed_relation(&seed.name)),
                layer: Some(project.seed_layer.name().to_string()),
                columns: props.map(|pr| columns(&pr.columns)).unwrap_or_default(),
                description: props.map(|pr| pr.description.clone()).unwrap_or_default(),
                ..bare(&seed.name, ResourceType::Seed, &seed.path)
            },
        );
    }
    for source in project.sources.values() {
        for table in source.tables.values() {
            nodes.insert(
                format!("source.{}.{}", source.name, table.name),
                ManifestNode {
                    relation: Some(format!("{}.{}", source.name, table.name)),
                    layer: Some(source.name.clone()),
                    columns: columns(&table.columns),
                    description: table.description.clone(),
                    ..bare(
                        &format!("{}.{}", source.name, table.name),
                        ResourceType::Source,
                        &source.path,
                    )
                },
            );
        }
    }

    // Tests.
    let tests = compile_tests(project, &renderer, &lookup, &planned)?;
    let mut graph: BTreeMap<String, BTreeSet<String>> = nodes
        .iter()
        .map(|(id, n)| (id.clone(), n.depends_on.clone()))
        .collect();
    for t in &tests {
        graph.insert(format!("test.{}", t.name), t.depends_on.clone());
    }
    let full_dag = Dag::new(graph).map_err(cycle_error)?;
    for t in tests {
        let ctes = ephemeral_closure(&full_dag, t.depends_on.iter(), &is_ephemeral, &position);
        let sql = inline_ctes(&t.sql, &ctes, &bodies);
        let info = TestInfo {
            kind: t.kind.clone(),
            args: t.args.clone(),
            attached_node: t.attached_node.clone(),
            column: t.column.clone(),
            settings: t.settings.clone(),
        };
        nodes.insert(
            format!("test.{}", t.name),
            ManifestNode {
                depends_on: t.depends_on,
                ephemeral_ctes: ctes,
                test: Some(info),
                compiled_sql: Some(sql),
                rebuild_sql: None,
                ..bare(&t.name, ResourceType::Test, &t.path)
            },
        );
    }
    Ok(Manifest::new(
        project.name.clone(),
        all_vars,
        nodes,
        full_dag,
    ))
}

/// Discovery render(s) of one model and its resolved configuration.
fn discover_model<'a>(
    project: &Project,
    renderer: &Renderer,
    model: &'a ModelFile,
    lookup: &Arc<Lookup>,
) -> Result<Planned<'a>> {
    let base = project.base_config(model);
    let default_layer = project.default_layer(model);
    let render = |materialized: Materialization, layer: ModelLayer, incremental: bool| {
        renderer.render(RenderRequest {
            template: &model.path,
            node: &model.name,
            model: Some(model_info(model, materialized, layer)),
            is_incremental: incremental,
            lookup: lookup.clone(),
        })
    };
    // The first render sees the configuration without the file's own config().
    let first = render(
        base.materialized.unwrap_or(Materialization::View),
        base.layer.unwrap_or(default_layer),
        false,
    )?;
    let file_config = first.model_config.clone();
    let merged = match &file_config {
        Some(own) => base.merged(own),
        None => base,
    };
    let config = merged.resolve(default_layer).map_err(|message| {
        let (file, line) = match (
            &file_config,
            &model.properties_at,
            model.properties.as_ref().and_then(|p| p.config.as_ref()),
        ) {
            (Some(_), _, _) => (model.path.clone(), call_line(&model.raw_sql, "config")),
            (None, Some((yml, line)), Some(_)) => (yml.clone(), *line),
            _ => (PROJECT_FILE.to_string(), None),
        };
        ModelError::InvalidConfig {
            file: file.into(),
            line,
            model: Some(model.name.clone()),
            message,
        }
    })?;
    let mut deps: BTreeSet<String> = first
        .refs
        .iter()
        .chain(&first.sources)
        .chain(&first.streams)
        .cloned()
        .collect();
    let mut streams = first.streams;
    if config.materialized.is_incremental() {
        let second = render(config.materialized, config.layer, true)?;
        deps.extend(
            second
                .refs
                .into_iter()
                .chain(second.sources)
                .chain(second.streams.iter().cloned()),
        );
        streams.extend(second.streams);
    } else if !streams.is_empty() {
        return Err(ModelError::StreamNotAllowed {
            file: PathBuf::from(&model.path),
            line: call_line(&model.raw_sql, "stream"),
            node: model.name.clone(),
            materialized: config.materialized.name().to_string(),
        });
    }
    Ok(Planned {
        file: model,
        config,
        deps,
        streams,
    })
}

/// Generic tests of models, seeds and sources, then singular tests; names made unique.
fn compile_tests(
    project: &Project,
    renderer: &Renderer,
    lookup: &Arc<Lookup>,
    planned: &BTreeMap<String, Planned>,
) -> Result<Vec<TestNode>> {
    let mut tests = Vec::new();
    for test in project.singular_tests.values() {
        let rendered = renderer.render(RenderRequest {
            template: &test.path,
            node: &test.name,
            model: None,
            is_incremental: false,
            lookup: lookup.clone(),
        })?;
        tests.push(TestNode {
            name: test.name.clone(),
            path: test.path.clone(),
            kind: "singular".into(),
            args: None,
            attached_node: None,
            column: None,
            depends_on: rendered
                .refs
                .iter()
                .chain(&rendered.sources)
                .cloned()
                .collect(),
            sql: rendered.sql,
            settings: rendered.test_config.unwrap_or_default().resolve(),
        });
    }
    let resolve_to = |to: &str| resolve_to(to, lookup);
    let mut targets = Vec::new();
    for (name, p) in planned.iter().filter(|(_, p)| p.config.enabled) {
        if let (Some(props), Some((path, line))) = (&p.file.properties, &p.file.properties_at) {
            let target = TestTarget {
                id: format!("model.{name}"),
                name_part: name.clone(),
                relation: model_relation(name, &p.config),
                path: path.clone(),
                columns: &props.columns,
                node_tests: &props.tests,
            };
            targets.push((target, *line));
        }
    }
    for seed in project.seeds.values() {
        if let (Some(props), Some(path)) = (&seed.properties, &seed.properties_path) {
            let target = TestTarget {
                id: format!("seed.{}", seed.name),
                name_part: seed.name.clone(),
                relation: format!("{}.{}", project.seed_layer.name(), seed.name),
                path: path.clone(),
                columns: &props.columns,
                node_tests: &props.tests,
            };
            targets.push((target, None));
        }
    }
    for source in project.sources.values() {
        for table in source.tables.values() {
            let target = TestTarget {
                id: format!("source.{}.{}", source.name, table.name),
                name_part: format!("source_{}_{}", source.name, table.name),
                relation: format!("{}.{}", source.name, table.name),
                path: source.path.clone(),
                columns: &table.columns,
                node_tests: &table.tests,
            };
            targets.push((target, None));
        }
    }
    for (target, line) in &targets {
        let expanded = expand(target, &resolve_to).map_err(|issue| ModelError::InvalidTest {
            file: PathBuf::from(&target.path),
            line: *line,
            test: issue.test,
            message: issue.message,
        })?;
        tests.extend(expanded);
    }
    dedupe_names(&mut tests);
    Ok(tests)
}

/// `ref('x')` or `source('s', 't')` of a relationships test → (node id, relation).
fn resolve_to(to: &str, lookup: &Lookup) -> std::result::Result<(String, String), String> {
    let args = |inner: &str| -> Vec<String> {
        inner
            .split(',')
            .map(|a| a.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
            .collect()
    };
    let t = to
        .trim()
        .trim_start_matches("{{")
        .trim_end_matches("}}")
        .trim();
    if let Some(inner) = t.strip_prefix("ref(").and_then(|r| r.strip_suffix(')')) {
        let name = args(inner).remove(0);
        return match lookup.refs.get(&name) {
            Some(target) if !target.enabled => Err(format!("model '{name}' is disabled")),
            Some(target) => Ok((
                target.id.clone(),
                target.relation.clone().unwrap_or_default(),
            )),
            None => {
                let hint = closest(&name, lookup.refs.keys().map(String::as_str))
                    .map(|s| format!(" (did you mean '{s}'?)"))
                    .unwrap_or_default();
                Err(format!("model '{name}' not found{hint}"))
            }
        };
    }
    if let Some(inner) = t.strip_prefix("source(").and_then(|r| r.strip_suffix(')')) {
        if let [s, table] = args(inner).as_slice() {
            if lookup.sources.contains(&(s.clone(), table.clone())) {
                return Ok((format!("source.{s}.{table}"), format!("{s}.{table}")));
            }
            return Err(format!(
                "source '{s}.{table}' is not declared in any sources YAML"
            ));
        }
    }
    Err(format!(
        "'to: {to}' must be ref('model') or source('name', 'table')"
    ))
}

fn model_relation(name: &str, config: &ResolvedConfig) -> String {
    relation(name, config.materialized, config.layer)
}

fn relation(name: &str, materialized: Materialization, layer: ModelLayer) -> String {
    if materialized == Materialization::Ephemeral {
        ephemeral_relation(name)
    } else {
        format!("{}.{name}", layer.name())
    }
}

fn model_info(model: &ModelFile, materialized: Materialization, layer: ModelLayer) -> ModelInfo {
    ModelInfo {
        name: model.name.clone(),
        path: model.path.clone(),
        layer,
        materialized,
        this: relation(&model.name, materialized, layer),
    }
}

fn columns(cols: &[ColumnProperties]) -> Vec<ColumnInfo> {
    cols.iter()
        .map(|c| ColumnInfo {
            name: c.name.clone(),
            description: c.description.clone(),
            data_type: c.data_type.clone(),
        })
        .collect()
}

fn bare(name: &str, resource_type: ResourceType, path: &str) -> ManifestNode {
    ManifestNode {
        name: name.to_string(),
        resource_type,
        path: path.to_string(),
        relation: None,
        layer: None,
        materialized: None,
        depends_on: BTreeSet::new(),
        streams: BTreeSet::new(),
        ephemeral_ctes: Vec::new(),
        is_incremental: false,
        config: None,
        test: None,
        compiled_sql: None,
        rebuild_sql: None,
        columns: Vec::new(),
        description: String::new(),
        tags: BTreeSet::new(),
    }
}

/// A DAG cycle as an error naming nodes by name (`a -> b -> a`).
fn cycle_error(err: DagError<String>) -> ModelError {
    let short = |id: &String| {
        id.split_once('.')
            .map_or(id.clone(), |(_, rest)| rest.to_string())
    };
    match err {
        DagError::Cycle(ids) => ModelError::Cycle {
            cycle: ids.iter().map(short).collect::<Vec<_>>().join(" -> "),
        },
        DagError::UnknownDependency { node, dependency } => ModelError::Cycle {
            cycle: format!(
                "{} depends on unknown {} (internal error)",
                short(&node),
                short(&dependency)
            ),
        },
    }
}
