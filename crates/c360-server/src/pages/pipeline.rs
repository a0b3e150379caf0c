//! Pipeline and data quality: recent pipeline runs (`c360 pipeline`, `c360 schedule`) and the
//! task runs of the latest, recent model runs and the node runs of the latest one, data-test
//! results, quarantine counts by reason, every table's rows and version, the churn model's
//! metrics, and the model lineage graph from `target/manifest.json`. Admins and analysts only.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::Value;

use crate::auth::Principal;
use crate::data::{Frame, Params, Snapshot, Table, Unreadable};
use crate::error::{AppError, AppResult};
use crate::render::{self, Chart, Chrome, HtmlTable, Page};
use crate::request::Args;
use crate::AppState;

/// Most runs listed.
pub const MAX_RUNS: usize = 20;
/// Most node results listed for a run.
pub const MAX_NODES: usize = 1000;

/// The page's data.
#[derive(Debug, Serialize)]
pub struct Pipeline {
    /// Tables the page reads that are not in the lake.
    pub missing: Vec<String>,
    /// Recent pipeline runs, newest first: id, pipeline, trigger, status, start, seconds.
    pub pipeline_runs: Frame,
    /// The task runs of the latest pipeline run.
    pub pipeline_tasks: Frame,
    /// Recent runs, newest first: id, start, nodes, successes, failures, skips, seconds.
    pub runs: Frame,
    /// The latest run's node results (its task runs).
    pub latest_run: Frame,
    /// Data-test results of the latest run that ran tests.
    pub tests: Frame,
    /// Quarantined transactions per reason.
    pub quarantine_transactions: Frame,
    /// Quarantined customers per reason.
    pub quarantine_customers: Frame,
    /// Every table of the lake with version, rows, files and bytes.
    pub tables: Vec<c360_lake::TableInfo>,
    /// Tables that cannot be read at their latest version: the dashboard's (with the version
    /// it still serves) and any other table of the lake that fails to open.
    pub unreadable: Vec<Unreadable>,
    /// Churn model metrics (latest rows).
    pub model_metrics: Frame,
    /// The model lineage from the manifest (absent before the first compile).
    pub lineage: Option<Lineage>,
    /// The latest Delta Sharing reads (who read which table version when), newest first.
    pub sharing_access: Frame,
}

/// Nodes and edges of the project's DAG.
#[derive(Debug, Serialize)]
pub struct Lineage {
    /// Nodes: id, name, kind, layer, materialisation, depth.
    pub nodes: Vec<LineageNode>,
    /// Edges: from (dependency) → to (dependent).
    pub edges: Vec<(String, String)>,
}

/// One node of the lineage.
#[derive(Debug, Serialize)]
pub struct LineageNode {
    /// Node id (`model.x`).
    pub id: String,
    /// Name.
    pub name: String,
    /// `model`, `seed`, `source`, `test`.
    pub resource_type: String,
    /// Lake layer.
    pub layer: Option<String>,
    /// Materialisation.
    pub materialized: Option<String>,
    /// Longest path from a root.
    pub depth: usize,
}

fn require_role(who: &Principal) -> AppResult<()> {
    if who.role.sees_pipeline() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Reads the lineage of `target/manifest.json` (tests left out: they are leaves of every model).
pub fn lineage(project_dir: &std::path::Path) -> AppResult<Option<Lineage>> {
    let path = project_dir.join("target").join("manifest.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let manifest: Value = serde_json::from_str(&text)?;
    let Some(nodes) = manifest.get("nodes").and_then(|n| n.as_object()) else {
        return Ok(None);
    };
    let text_of = |v: &Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (id, node) in nodes {
        if text_of(node, "resource_type").as_deref() == Some("test") {
            continue;
        }
        let d = node
            .get("depends_on")
            .and_then(|d| d.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        deps.insert(id.clone(), d);
    }
    let mut depth: BTreeMap<String, usize> = BTreeMap::new();
    fn depth_of(
        id: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        memo: &mut BTreeMap<String, usize>,
        guard: usize,
    ) -> usize {
        if let Some(d) = memo.get(id) {
            return *d;
        }
        let d = if guard > 200 {
            0
        } else {
            deps.get(id)
                .map(|ds| {
                    ds.iter()
                        .filter(|x| deps.contains_key(*x))
                        .map(|x| depth_of(x, deps, memo, guard + 1) + 1)
                        .max()
                        .unwrap_or(0)
                })
                .unwrap_or(0)
        };
        memo.insert(id.to_string(), d);
        d
    }
    let mut out = Lineage {
        nodes: Vec::new(),
        edges: Vec::new(),
    };
    for id in deps.keys() {
        let d = depth_of(id, &deps, &mut depth, 0);
        let node = &nodes[id];
        out.nodes.push(LineageNode {
            id: id.clone(),
            name: text_of(node, "name").unwrap_or_else(|| id.clone()),
            resource_type: text_of(node, "resource_type").unwrap_or_default(),
            layer: text_of(node, "layer"),
            materialized: text_of(node, "materialized"),
            depth: d,
        });
        for dep in &deps[id] {
            if deps.contains_key(dep) {
                out.edges.push((dep.clone(), id.clone()));
            }
        }
    }
    Ok(Some(out))
}

/// Computes the page.
pub async fn load(state: &AppState, snap: &Snapshot) -> AppResult<Pipeline> {
    let mut out = Pipeline {
        missing: Vec::new(),
        pipeline_runs: Frame::default(),
        pipeline_tasks: Frame::default(),
        runs: Frame::default(),
        latest_run: Frame::default(),
        tests: Frame::default(),
        quarantine_transactions: Frame::default(),
        quarantine_customers: Frame::default(),
        tables: Vec::new(),
        unreadable: snap.unreadable().to_vec(),
        model_metrics: Frame::default(),
        lineage: lineage(state.project_dir())?,
        sharing_access: Frame::default(),
    };
    if snap.has(Table::PipelineRuns) {
        out.pipeline_runs = snap
            .query_page(
                &format!(
                    "SELECT run_id, pipeline, trigger, status, started_at, ROUND(duration_s, 1) AS seconds, message
                     FROM {} ORDER BY started_at DESC, run_id",
                    Table::PipelineRuns.sql()
                ),
                vec![],
                0,
                MAX_RUNS,
            )
            .await?;
        if snap.has(Table::PipelineTaskRuns) {
            if let Some(Value::String(latest)) =
                out.pipeline_runs.rows.first().map(|r| r[0].clone())
            {
                let mut p = Params::default();
                let id = p.text(&latest);
                out.pipeline_tasks = snap
                    .query_page(
                        &format!(
                            "SELECT task, action, status, attempts, started_at, ROUND(duration_s, 1) AS seconds, rows, error
                             FROM {} WHERE run_id = {id} ORDER BY started_at, task",
                            Table::PipelineTaskRuns.sql()
                        ),
                        p.into_values(),
                        0,
                        MAX_NODES,
                    )
                    .await?;
            }
        }
    }
    list_tables(state.db().lake(), &mut out).await;
    match crate::quiet::kernel_quiet(sharing_access(state.db().lake())).await {
        Ok(frame) => out.sharing_access = frame,
        Err(e) => {
            let table = format!(
                "{}.{}",
                c360_lake::Layer::Meta,
                c360_sharing::access_log::TABLE
            );
            push_unreadable(&mut out.unreadable, &table, &e);
        }
    }
    if snap.has(Table::RunHistory) {
        out.runs = snap
            .query_page(
                "SELECT run_id, MIN(run_started_at) AS started_at, MIN(project) AS project, COUNT(*) AS nodes,
                        SUM(CASE WHEN status IN ('success', 'pass') THEN 1 ELSE 0 END) AS succeeded,
                        SUM(CASE WHEN status IN ('error', 'fail') THEN 1 ELSE 0 END) AS failed,
                        SUM(CASE WHEN status = 'warn' THEN 1 ELSE 0 END) AS warned,
                        SUM(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END) AS skipped,
                        ROUND(SUM(execution_time), 2) AS seconds
                 FROM _c360.run_history GROUP BY run_id ORDER BY started_at DESC, run_id",
                vec![],
                0,
                MAX_RUNS,
            )
            .await?;
        if let Some(Value::String(latest)) = out.runs.rows.first().map(|r| r[0].clone()) {
            let mut p = Params::default();
            let id = p.text(&latest);
            out.latest_run = snap
                .query_page(
                    &format!(
                        "SELECT unique_id, resource_type, status, materialized, relation, rows_affected,
                                table_version, ROUND(execution_time, 3) AS seconds, message
                         FROM _c360.run_history WHERE run_id = {id} ORDER BY unique_id"
                    ),
                    p.into_values(),
                    0,
                    MAX_NODES,
                )
                .await?;
        }
        let test_run = snap
            .scalar(
                "SELECT run_id FROM _c360.run_history WHERE resource_type = 'test'
                 ORDER BY run_started_at DESC, run_id LIMIT 1",
                vec![],
            )
            .await?;
        if let Value::String(run) = test_run {
            let mut p = Params::default();
            let id = p.text(&run);
            out.tests = snap
                .query_page(
                    &format!(
                        "SELECT unique_id, status, failures, message FROM _c360.run_history
                         WHERE run_id = {id} AND resource_type = 'test'
                         ORDER BY CASE status WHEN 'fail' THEN 0 WHEN 'error' THEN 1 WHEN 'warn' THEN 2 ELSE 3 END, unique_id"
                    ),
                    p.into_values(),
                    0,
                    MAX_NODES,
                )
                .await?;
        }
    } else {
        out.missing.push(Table::RunHistory.sql());
    }
    for (table, target) in [
        (
            Table::QuarantineTransactions,
            &mut out.quarantine_transactions,
        ),
        (Table::QuarantineCustomers, &mut out.quarantine_customers),
    ] {
        if snap.has(table) {
            *target = snap
                .query(&format!("SELECT reason, COUNT(*) AS rows FROM {} GROUP BY reason ORDER BY rows DESC, reason", table.sql()), vec![])
                .await?;
        } else {
            out.missing.push(table.sql());
        }
    }
    if snap.has(Table::ModelMetrics) {
        out.model_metrics = snap
            .query_page(
                &format!("SELECT * FROM {}", Table::ModelMetrics.sql()),
                vec![],
                0,
                50,
            )
            .await?;
    } else {
        out.missing.push(Table::ModelMetrics.sql());
    }
    Ok(out)
}

/// Every table of the lake into `out.tables`, table by table: one that fails to open goes to
/// `out.unreadable` instead of failing the page (this is where one looks when a table breaks).
async fn list_tables(lake: &c360_lake::Lake, out: &mut Pipeline) {
    for layer in c360_lake::Layer::ALL {
        let Ok(entries) = std::fs::read_dir(lake.root().join(layer.name())) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| lake.table_exists(layer, name))
            .collect();
        names.sort();
        for name in names {
            match crate::quiet::kernel_quiet(lake.table_info(layer, &name)).await {
                Ok(Some(info)) => out.tables.push(info),
                Ok(None) => {}
                Err(e) => push_unreadable(
                    &mut out.unreadable,
                    &format!("{layer}.{name}"),
                    &AppError::from(e),
                ),
            }
        }
    }
}

/// Adds `table` to `list` unless the snapshot already reported it (with the version it serves).
fn push_unreadable(list: &mut Vec<Unreadable>, table: &str, err: &AppError) {
    if list.iter().any(|u| u.table == table) {
        return;
    }
    tracing::debug!("{table} cannot be read: {}", crate::data::describe(err));
    list.push(Unreadable {
        table: table.to_string(),
        version: None,
        serving: None,
        error: crate::data::describe(err),
    });
}

/// The latest 100 Delta Sharing reads. Read on demand from its own session, not kept in the
/// dashboard's snapshot: every read appends to the log, and a new version of a snapshot table
/// reloads the snapshot.
async fn sharing_access(lake: &c360_lake::Lake) -> AppResult<Frame> {
    use c360_lake::datafusion::prelude::SessionContext;
    let ctx = SessionContext::new();
    if !lake
        .register_table(
            &ctx,
            c360_lake::Layer::Meta,
            c360_sharing::access_log::TABLE,
        )
        .await?
    {
        return Ok(Frame::default());
    }
    let batches = ctx
        .sql(
            "SELECT accessed_at, recipient, share, schema, table_name, source_table, table_version, rows, files
             FROM _c360.sharing_access_log WHERE action = 'query' ORDER BY accessed_at DESC LIMIT 100",
        )
        .await?
        .collect()
        .await?;
    Frame::from_batches(&batches)
}

/// `GET /api/pipeline` (admin, analyst).
pub async fn api(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Pipeline>> {
    require_role(&who)?;
    Args::parse(raw.as_deref(), &[])?;
    let snap = state.db().snapshot().await?;
    Ok(Json(load(&state, &snap).await?))
}

#[derive(Serialize)]
struct Ctx<'a> {
    missing: &'a [String],
    unreadable: &'a [Unreadable],
    pipeline_runs: HtmlTable,
    pipeline_tasks: HtmlTable,
    runs: HtmlTable,
    latest_run: HtmlTable,
    tests: HtmlTable,
    test_counts: Vec<(String, usize)>,
    quarantine_transactions: HtmlTable,
    quarantine_customers: HtmlTable,
    tables: HtmlTable,
    model_metrics: HtmlTable,
    sharing_access: HtmlTable,
    charts: Vec<Chart>,
    has_lineage: bool,
}

/// `GET /pipeline` (admin, analyst).
pub async fn page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, Page> {
    require_role(&who)?;
    Args::parse(raw.as_deref(), &[])?;
    let snap = state.db().snapshot().await?;
    let data = load(&state, &snap).await?;
    let tables = Frame {
        columns: ["table", "version", "rows", "files", "bytes"]
            .map(String::from)
            .to_vec(),
        rows: data
            .tables
            .iter()
            .map(|t| {
                vec![
                    Value::String(format!("{}.{}", t.layer, t.name)),
                    Value::from(t.version),
                    Value::from(t.rows),
                    Value::from(t.files),
                    Value::from(t.bytes),
                ]
            })
            .collect(),
    };
    let mut test_counts: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..data.tests.rows.len() {
        *test_counts
            .entry(
                data.tests
                    .get(i, "status")
                    .as_str()
                    .unwrap_or("?")
                    .to_string(),
            )
            .or_default() += 1;
    }
    let mut charts = Vec::new();
    if !data.quarantine_transactions.rows.is_empty() {
        charts.push(Chart::bars(
            "quarantine",
            "Quarantined transactions by reason",
            &render::pairs(&data.quarantine_transactions, "reason", "rows"),
            "rows",
        ));
    }
    if let Some(l) = &data.lineage {
        charts.push(lineage_chart(l));
    }
    let ctx = Ctx {
        missing: &data.missing,
        unreadable: &data.unreadable,
        pipeline_runs: HtmlTable::from_frame(&data.pipeline_runs),
        pipeline_tasks: HtmlTable::from_frame(&data.pipeline_tasks),
        runs: HtmlTable::from_frame(&data.runs),
        latest_run: HtmlTable::from_frame(&data.latest_run),
        tests: HtmlTable::from_frame(&data.tests),
        test_counts: test_counts.into_iter().collect(),
        quarantine_transactions: HtmlTable::from_frame(&data.quarantine_transactions),
        quarantine_customers: HtmlTable::from_frame(&data.quarantine_customers),
        tables: HtmlTable::from_frame(&tables),
        model_metrics: HtmlTable::from_frame(&data.model_metrics),
        sharing_access: HtmlTable::from_frame(&data.sharing_access),
        charts,
        has_lineage: data.lineage.is_some(),
    };
    render::page(
        "pipeline.html",
        &Chrome::new(&who, "Pipeline & data quality", "pipeline").lake(&snap),
        &ctx,
    )
}

fn lineage_chart(l: &Lineage) -> Chart {
    let mut per_depth: BTreeMap<usize, usize> = BTreeMap::new();
    let kinds = ["source", "seed", "bronze", "silver", "gold", "model"];
    let nodes: Vec<Value> = l
        .nodes
        .iter()
        .map(|n| {
            let row = per_depth.entry(n.depth).or_default();
            *row += 1;
            let kind = match (n.resource_type.as_str(), n.layer.as_deref()) {
                ("source", _) => "source",
                ("seed", _) => "seed",
                (_, Some("bronze")) => "bronze",
                (_, Some("silver")) => "silver",
                (_, Some("gold")) => "gold",
                _ => "model",
            };
            serde_json::json!({
                "id": n.id, "name": n.name, "x": n.depth * 220, "y": *row * 46,
                "category": kinds.iter().position(|k| *k == kind).unwrap_or(5),
                "symbolSize": 14,
                "label": { "show": true, "position": "right", "fontSize": 11 },
                "tooltip": { "formatter": format!("{} ({})", n.id, n.materialized.clone().unwrap_or_default()) }
            })
        })
        .collect();
    let links: Vec<Value> = l
        .edges
        .iter()
        .map(|(a, b)| serde_json::json!({ "source": a, "target": b }))
        .collect();
    let option = serde_json::json!({
        "tooltip": {},
        "legend": { "data": kinds, "bottom": 0 },
        "series": [{
            "type": "graph", "layout": "none", "roam": true, "data": nodes, "links": links,
            "categories": kinds.iter().map(|k| serde_json::json!({ "name": k })).collect::<Vec<_>>(),
            "edgeSymbol": ["none", "arrow"], "edgeSymbolSize": 7,
            "lineStyle": { "opacity": 0.5, "curveness": 0.1 }
        }]
    });
    Chart::new("lineage", "Model lineage", option, l.nodes.is_empty())
}
