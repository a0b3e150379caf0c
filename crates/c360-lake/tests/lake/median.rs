//! `median_of_lists`, the aggregate every lake session has, run through SQL on a real
//! session: grouped (partial and final phases over several partitions, and partial
//! aggregation skipped), ungrouped, with a FILTER, and refused for a non-list argument; and
//! over lists stored in a lake table (delta-encoded).

use std::sync::Arc;

use arrow::array::{Array, Float64Array, ListArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use c360_lake::datafusion::datasource::MemTable;
use c360_lake::datafusion::prelude::SessionContext;
use c360_lake::{Lake, Layer, WriteMode};

fn session_context() -> c360_lake::datafusion::prelude::SessionContext {
    Lake::new("unused").session_context()
}
use deltalake::parquet::basic::Encoding;
use deltalake::parquet::file::reader::{FileReader, SerializedFileReader};

/// Three partitions of (g, cents) rows: group a has [3, 1], NULL and [2]; b has [4, NULL, 1]
/// and []; c only NULL; d [-5].
fn amounts() -> Arc<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("g", DataType::Utf8, false),
        Field::new(
            "cents",
            DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
            true,
        ),
    ]));
    let part = |groups: Vec<&str>, lists: Vec<Option<Vec<Option<i64>>>>| {
        vec![RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(groups)),
                Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(lists)),
            ],
        )
        .unwrap()]
    };
    let partitions = vec![
        part(
            vec!["a", "b"],
            vec![Some(vec![Some(3), Some(1)]), Some(vec![])],
        ),
        part(vec!["a", "c", "d"], vec![None, None, Some(vec![Some(-5)])]),
        part(
            vec!["b", "a"],
            vec![Some(vec![Some(4), None, Some(1)]), Some(vec![Some(2)])],
        ),
    ];
    Arc::new(MemTable::try_new(schema, partitions).unwrap())
}

async fn medians_by_group(ctx: &SessionContext) -> Vec<(String, Option<f64>)> {
    ctx.register_table("amounts", amounts()).unwrap();
    medians_of(ctx, "amounts").await
}

async fn medians_of(ctx: &SessionContext, table: &str) -> Vec<(String, Option<f64>)> {
    let batches = ctx
        .sql(&format!(
            "select arrow_cast(g, 'Utf8') as g, median_of_lists(cents) as m from {table} \
             group by g order by g"
        ))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut out = Vec::new();
    for batch in batches {
        let g = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        let m = batch
            .column(1)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        for i in 0..batch.num_rows() {
            out.push((g.value(i).to_string(), m.is_valid(i).then(|| m.value(i))));
        }
    }
    out
}

fn expected() -> Vec<(String, Option<f64>)> {
    vec![
        ("a".into(), Some(2.0)),
        ("b".into(), Some(2.5)),
        ("c".into(), None),
        ("d".into(), Some(-5.0)),
    ]
}

#[tokio::test]
async fn grouped_medians_take_every_element_of_a_groups_lists_and_skip_nulls() {
    assert_eq!(medians_by_group(&session_context()).await, expected());
}

/// The lake writes integer lists delta-encoded (`write.rs`): stored and read back, the lists
/// give the same medians.
#[tokio::test]
async fn integer_lists_are_stored_delta_encoded_and_read_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    let ctx = session_context();
    ctx.register_table("amounts", amounts()).unwrap();
    let rows = ctx
        .sql("select g, cents from amounts")
        .await
        .unwrap()
        .execute_stream()
        .await
        .unwrap();
    lake.write_stream(Layer::Gold, "amounts", WriteMode::Overwrite, rows)
        .await
        .unwrap();

    let mut row_groups = 0;
    for entry in std::fs::read_dir(dir.path().join("gold").join("amounts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        let file = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        for row_group in file.metadata().row_groups() {
            let elements = row_group
                .columns()
                .iter()
                .find(|c| c.column_path().string() == "cents.list.element")
                .expect("a column of list elements");
            assert!(
                elements
                    .encodings()
                    .any(|e| e == Encoding::DELTA_BINARY_PACKED),
                "{path:?}"
            );
            row_groups += 1;
        }
    }
    assert!(row_groups > 0);

    let stored = session_context();
    lake.register_all(&stored).await.unwrap();
    assert_eq!(medians_of(&stored, "gold.amounts").await, expected());
}

#[tokio::test]
async fn grouped_medians_are_the_same_when_partial_aggregation_is_skipped() {
    let ctx = session_context();
    ctx.sql("set datafusion.execution.skip_partial_aggregation_probe_rows_threshold = 1")
        .await
        .unwrap();
    ctx.sql("set datafusion.execution.skip_partial_aggregation_probe_ratio_threshold = 0.0")
        .await
        .unwrap();
    assert_eq!(medians_by_group(&ctx).await, expected());
}

#[tokio::test]
async fn an_ungrouped_median_and_a_filtered_one() {
    let ctx = session_context();
    ctx.register_table("amounts", amounts()).unwrap();
    let batches = ctx
        .sql(
            "select median_of_lists(cents), median_of_lists(cents) filter (where g <> 'a') \
             from amounts",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let value = |column: usize| {
        let m = batches[0]
            .column(column)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        m.value(0)
    };
    // all: -5 1 1 2 3 4; without a: -5 1 4
    assert_eq!((value(0), value(1)), (1.5, 1.0));
}

#[tokio::test]
async fn a_non_list_argument_is_refused_with_the_functions_name() {
    let ctx = session_context();
    let error = match ctx
        .sql("select median_of_lists(x) from (values (1.5)) as t(x)")
        .await
    {
        Ok(frame) => frame.collect().await.unwrap_err().to_string(),
        Err(e) => e.to_string(),
    };
    assert!(
        error.contains("median_of_lists takes one list of BIGINT"),
        "{error}"
    );
}
