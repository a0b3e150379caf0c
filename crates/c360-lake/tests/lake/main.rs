//! Integration tests of the lake: real Delta tables in temp dirs.

use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use c360_lake::{Lake, LakeError, Layer, WriteMode};

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]))
}

pub(crate) fn batch(ids: std::ops::Range<i64>) -> RecordBatch {
    let names: Vec<String> = ids.clone().map(|i| format!("n{i}")).collect();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from_iter_values(ids)),
            Arc::new(StringArray::from(names)),
        ],
    )
    .unwrap()
}

pub(crate) async fn write(
    lake: &Lake,
    mode: WriteMode,
    parts: Vec<Vec<RecordBatch>>,
) -> c360_lake::WriteOutcome {
    let mut writer = lake
        .writer(Layer::Bronze, "things", schema())
        .mode(mode)
        .begin()
        .await
        .unwrap();
    for (i, batches) in parts.into_iter().enumerate() {
        let mut sink = writer.file_sink().unwrap();
        for b in batches {
            sink.write(b).await.unwrap();
        }
        writer.stage(i, sink.finish().await.unwrap());
    }
    writer.commit().await.unwrap()
}

#[tokio::test]
async fn append_then_overwrite_keeps_history() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    let first = write(
        &lake,
        WriteMode::Append,
        vec![vec![batch(0..10)], vec![batch(10..15)]],
    )
    .await;
    assert_eq!(
        (first.version, first.rows_written, first.files_added),
        (0, 15, 2)
    );
    let second = write(&lake, WriteMode::Append, vec![vec![batch(15..20)]]).await;
    assert_eq!(second.version, 1);
    let info = lake
        .table_info(Layer::Bronze, "things")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((info.version, info.rows, info.files), (1, 20, 3));

    let third = write(&lake, WriteMode::Overwrite, vec![vec![batch(100..103)]]).await;
    assert_eq!((third.version, third.files_removed), (2, 3));
    let info = lake
        .table_info(Layer::Bronze, "things")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((info.version, info.rows), (2, 3));

    // Time travel: version 1 is still readable with its 20 rows.
    let mut stream = lake.scan(Layer::Bronze, "things", Some(1)).await.unwrap();
    let mut rows = 0;
    use futures::StreamExt;
    while let Some(b) = stream.next().await {
        rows += b.unwrap().num_rows();
    }
    assert_eq!(rows, 20);
}

#[tokio::test]
async fn content_hash_ignores_layout_but_not_content() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    let (la, lb, lc) = (
        Lake::new(a.path()),
        Lake::new(b.path()),
        Lake::new(c.path()),
    );
    write(&la, WriteMode::Append, vec![vec![batch(0..50)]]).await;
    write(
        &lb,
        WriteMode::Append,
        vec![vec![batch(25..50)], vec![batch(0..25)]],
    )
    .await;
    write(
        &lc,
        WriteMode::Append,
        vec![vec![batch(0..49)], vec![batch(50..51)]],
    )
    .await;
    let ha = la.content_hash(Layer::Bronze, "things").await.unwrap();
    let hb = lb.content_hash(Layer::Bronze, "things").await.unwrap();
    let hc = lc.content_hash(Layer::Bronze, "things").await.unwrap();
    assert_eq!(ha, hb);
    assert_eq!(ha.0, 50);
    assert_ne!(ha.1, hc.1);
}

#[tokio::test]
async fn idempotency_keys_are_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    for attempt in 0..2 {
        let mut writer = lake
            .writer(Layer::Bronze, "things", schema())
            .idempotency_key("c360.load:abc", 1)
            .begin()
            .await
            .unwrap();
        if attempt == 0 {
            assert!(!writer.is_applied("c360.load:abc"));
            let mut sink = writer.file_sink().unwrap();
            sink.write(batch(0..5)).await.unwrap();
            writer.stage(0, sink.finish().await.unwrap());
            writer.commit().await.unwrap();
        } else {
            assert!(writer.is_applied("c360.load:abc"));
        }
    }
}

#[tokio::test]
async fn appending_a_different_schema_is_an_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    write(&lake, WriteMode::Append, vec![vec![batch(0..5)]]).await;
    let other = Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, true)]));
    let err = lake
        .writer(Layer::Bronze, "things", other)
        .begin()
        .await
        .err()
        .expect("schema mismatch");
    assert!(matches!(err, LakeError::SchemaMismatch { .. }), "{err}");
    assert!(err.to_string().contains("bronze.things"));
    let info = lake
        .table_info(Layer::Bronze, "things")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((info.version, info.rows), (0, 5));
}

/// Delta's `mergeSchema` for appends: columns added after the existing ones evolve the table,
/// and the rows written before read them as null.
#[tokio::test]
async fn an_append_adding_columns_evolves_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    write(&lake, WriteMode::Append, vec![vec![batch(0..3)]]).await;
    let mut fields: Vec<Field> = schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("peak", DataType::Int64, true));
    let wider = Arc::new(Schema::new(fields));
    let mut columns = batch(3..5).columns().to_vec();
    columns.push(Arc::new(Int64Array::from(vec![7, 8])));
    lake.writer(Layer::Bronze, "things", wider.clone())
        .write_batches([RecordBatch::try_new(wider, columns).unwrap()])
        .await
        .unwrap();

    let rows = lake
        .query("SELECT id, peak FROM bronze.things ORDER BY id", None)
        .await
        .unwrap();
    let text = arrow::util::pretty::pretty_format_batches(&rows)
        .unwrap()
        .to_string();
    let peaks: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("| ") && !l.contains("peak"))
        .map(|l| l.split('|').nth(2).unwrap().trim())
        .collect();
    assert_eq!(peaks, ["", "", "", "7", "8"], "{text}");
}

#[tokio::test]
async fn an_uncommitted_write_is_invisible() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    write(&lake, WriteMode::Append, vec![vec![batch(0..5)]]).await;
    {
        let writer = lake
            .writer(Layer::Bronze, "things", schema())
            .begin()
            .await
            .unwrap();
        let mut sink = writer.file_sink().unwrap();
        sink.write(batch(5..500)).await.unwrap();
        let _files = sink.finish().await.unwrap();
        // dropped without commit
    }
    let info = lake
        .table_info(Layer::Bronze, "things")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((info.version, info.rows), (0, 5));
    assert_eq!(
        lake.content_hash(Layer::Bronze, "things").await.unwrap().0,
        5
    );
}

#[tokio::test]
async fn commit_metadata_is_readable_latest_first() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    for n in 0..3 {
        lake.writer(Layer::Bronze, "things", schema())
            .commit_metadata("c360.test", serde_json::json!({ "n": n }))
            .write_batches([batch(n..n + 1)])
            .await
            .unwrap();
    }
    let (_, value) = lake
        .latest_commit_metadata(Layer::Bronze, "things", "c360.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(value["n"], 2);
    assert!(lake
        .latest_commit_metadata(Layer::Silver, "absent", "c360.test")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn listing_an_empty_lake_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    assert!(Lake::new(dir.path().join("nothing"))
        .list_tables()
        .await
        .unwrap()
        .is_empty());
}

mod median;
mod merge;
mod stream;
