//! MERGE on a unique key: updates, inserts, deletes by flag, key checks, target limits.

use std::sync::Arc;

use arrow::array::{BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use c360_lake::datafusion::execution::SendableRecordBatchStream;
use c360_lake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use c360_lake::{Appends, Changes, Lake, LakeError, Layer, WriteMode};

fn schema(flag: bool) -> SchemaRef {
    let mut fields = vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
    ];
    if flag {
        fields.push(Field::new("gone", DataType::Boolean, true));
    }
    Arc::new(Schema::new(fields))
}

fn rows(ids: &[Option<i64>], names: &[&str], gone: Option<&[bool]>) -> RecordBatch {
    let mut columns: Vec<arrow::array::ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.to_vec())),
        Arc::new(StringArray::from(names.to_vec())),
    ];
    if let Some(g) = gone {
        columns.push(Arc::new(BooleanArray::from(g.to_vec())));
    }
    RecordBatch::try_new(schema(gone.is_some()), columns).unwrap()
}

fn stream(batch: RecordBatch) -> SendableRecordBatchStream {
    let schema = batch.schema();
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        futures::stream::iter(vec![Ok(batch)]),
    ))
}

async fn create(lake: &Lake, parts: Vec<RecordBatch>) {
    let mut writer = lake
        .writer(Layer::Silver, "t", schema(false))
        .mode(WriteMode::Overwrite)
        .begin()
        .await
        .unwrap();
    for (i, b) in parts.into_iter().enumerate() {
        let mut sink = writer.file_sink().unwrap();
        sink.write(b).await.unwrap();
        writer.stage(i, sink.finish().await.unwrap());
    }
    writer.commit().await.unwrap();
}

/// Two files: ids 1-2 (a, b) and 10-11 (j, k).
async fn create_two_files(lake: &Lake) {
    create(
        lake,
        vec![
            rows(&[Some(1), Some(2)], &["a", "b"], None),
            rows(&[Some(10), Some(11)], &["j", "k"], None),
        ],
    )
    .await;
}

async fn contents(lake: &Lake) -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = Vec::new();
    for b in lake.read_all(Layer::Silver, "t").await.unwrap() {
        let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let names = arrow::compute::cast(b.column(1), &DataType::Utf8).unwrap();
        let names = names.as_any().downcast_ref::<StringArray>().unwrap();
        for i in 0..b.num_rows() {
            out.push((ids.value(i), names.value(i).to_string()));
        }
    }
    out.sort();
    out
}

/// The table holds exactly `want` (id, name), in any order.
async fn assert_contents(lake: &Lake, want: &[(i64, &str)]) {
    let want: Vec<(i64, String)> = want.iter().map(|(i, n)| (*i, n.to_string())).collect();
    assert_eq!(contents(lake).await, want);
}

#[tokio::test]
async fn updates_inserts_and_deletes_rewriting_only_touched_files() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    // Three files: ids 1-3, 10-12, 20-22.
    create(
        &lake,
        vec![
            rows(&[Some(1), Some(2), Some(3)], &["a", "b", "c"], None),
            rows(&[Some(10), Some(11), Some(12)], &["j", "k", "l"], None),
            rows(&[Some(20), Some(21), Some(22)], &["t", "u", "v"], None),
        ],
    )
    .await;
    let out = lake
        .merge(Layer::Silver, "t", vec!["id".into()])
        .delete_flag("gone")
        .stream_offset("c360.stream.test", 7)
        .execute(stream(rows(
            &[Some(11), Some(12), Some(13), Some(14)],
            &["K", "x", "m", "y"],
            Some(&[false, true, false, true]),
        )))
        .await
        .unwrap();
    assert_eq!((out.inserted, out.updated, out.deleted), (1, 1, 1));
    // Only the file holding 10-12 is rewritten; the key range 11-14 skips the others.
    assert_eq!(out.files_rewritten, 1);
    assert_contents(
        &lake,
        &[
            (1, "a"),
            (2, "b"),
            (3, "c"),
            (10, "j"),
            (11, "K"),
            (13, "m"),
            (20, "t"),
            (21, "u"),
            (22, "v"),
        ],
    )
    .await;
    assert_eq!(
        lake.app_version(Layer::Silver, "t", "c360.stream.test")
            .await
            .unwrap(),
        Some(7)
    );
    // The delete flag is not stored.
    let info = lake.table_info(Layer::Silver, "t").await.unwrap().unwrap();
    assert_eq!(info.rows, 9);
}

#[tokio::test]
async fn a_clustered_lookup_still_finds_rows_whose_clustering_value_changed() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    // Laid out by name: a-b, m-n, x-y.
    create(
        &lake,
        vec![
            rows(&[Some(1), Some(2)], &["a", "b"], None),
            rows(&[Some(10), Some(11)], &["m", "n"], None),
            rows(&[Some(20), Some(21)], &["x", "y"], None),
        ],
    )
    .await;
    // 11 is sent again as it is (found among the files of names b..n), 20 moves from x to b
    // (not there: found by the search of every file), 30 is new (searched for, not found).
    let out = lake
        .merge(Layer::Silver, "t", vec!["id".into()])
        .clustered_by("name")
        .execute(stream(rows(
            &[Some(11), Some(20), Some(30)],
            &["n", "b", "c"],
            None,
        )))
        .await
        .unwrap();
    assert_eq!((out.inserted, out.updated, out.deleted), (1, 1, 0));
    assert_eq!(out.files_rewritten, 1);
    assert_contents(
        &lake,
        &[
            (1, "a"),
            (2, "b"),
            (10, "m"),
            (11, "n"),
            (20, "b"),
            (21, "y"),
            (30, "c"),
        ],
    )
    .await;
}

#[tokio::test]
async fn unchanged_rows_are_left_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    create(
        &lake,
        vec![
            rows(&[Some(1), Some(2), Some(3)], &["a", "b", "c"], None),
            rows(&[Some(10), Some(11)], &["j", "k"], None),
        ],
    )
    .await;
    let before = lake.content_hash(Layer::Silver, "t").await.unwrap();
    // Re-sending rows as they are: nothing to do, no commit.
    let out = lake
        .merge(Layer::Silver, "t", vec!["id".into()])
        .execute(stream(rows(&[Some(2), Some(10)], &["b", "j"], None)))
        .await
        .unwrap();
    assert_eq!(out, c360_lake::MergeOutcome::default());
    assert_eq!(lake.content_hash(Layer::Silver, "t").await.unwrap(), before);

    // One unchanged row (2), one changed (3) in the same file, one unchanged in another file
    // (10), one new (4): only the first file is rewritten, and row 2 stays once.
    let out = lake
        .merge(Layer::Silver, "t", vec!["id".into()])
        .execute(stream(rows(
            &[Some(2), Some(3), Some(10), Some(4)],
            &["b", "C", "j", "d"],
            None,
        )))
        .await
        .unwrap();
    assert_eq!(
        (out.inserted, out.updated, out.deleted, out.files_rewritten),
        (1, 1, 0, 1)
    );
    assert_contents(
        &lake,
        &[(1, "a"), (2, "b"), (3, "C"), (4, "d"), (10, "j"), (11, "k")],
    )
    .await;
}

#[tokio::test]
async fn null_and_duplicate_keys_are_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    create(&lake, vec![rows(&[Some(1), Some(2)], &["a", "b"], None)]).await;
    let before = lake.content_hash(Layer::Silver, "t").await.unwrap();

    let err = lake
        .merge(Layer::Silver, "t", vec!["id".into()])
        .execute(stream(rows(&[Some(1), None], &["x", "y"], None)))
        .await
        .unwrap_err();
    assert!(matches!(err, LakeError::MergeKey { .. }), "{err}");
    assert!(err.to_string().contains("NULL"), "{err}");

    let err = lake
        .merge(Layer::Silver, "t", vec!["id".into()])
        .execute(stream(rows(&[Some(3), Some(3)], &["x", "y"], None)))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("more than once"), "{err}");

    let err = lake
        .merge(Layer::Silver, "t", vec!["nope".into()])
        .execute(stream(rows(&[Some(3)], &["x"], None)))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("'nope'"), "{err}");
    assert_eq!(lake.content_hash(Layer::Silver, "t").await.unwrap(), before);
}

#[tokio::test]
async fn a_target_predicate_limits_what_may_be_touched() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    create_two_files(&lake).await;
    // Only ids >= 10 may change: the row for id 2 is inserted again instead of updated.
    let out = lake
        .merge(Layer::Silver, "t", vec!["id".into()])
        .target_predicate("id >= 10")
        .execute(stream(rows(&[Some(2), Some(11)], &["B", "K"], None)))
        .await
        .unwrap();
    assert_eq!((out.inserted, out.updated, out.files_rewritten), (1, 1, 1));
    let got = contents(&lake).await;
    assert_eq!(got.len(), 5);
    assert!(got.contains(&(2, "b".into())) && got.contains(&(2, "B".into())));
    assert!(got.contains(&(11, "K".into())) && !got.contains(&(11, "k".into())));
}

#[tokio::test]
async fn an_empty_source_is_a_no_op_unless_an_offset_moves() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    create(&lake, vec![rows(&[Some(1)], &["a"], None)]).await;
    let empty = RecordBatch::new_empty(schema(false));
    let out = lake
        .merge(Layer::Silver, "t", vec!["id".into()])
        .execute(stream(empty.clone()))
        .await
        .unwrap();
    assert_eq!(out.version, None);
    let out = lake
        .merge(Layer::Silver, "t", vec!["id".into()])
        .stream_offset("c360.stream.x", 3)
        .execute(stream(empty))
        .await
        .unwrap();
    assert_eq!(out.version, Some(1));
    assert_eq!(
        lake.app_version(Layer::Silver, "t", "c360.stream.x")
            .await
            .unwrap(),
        Some(3)
    );
    assert_contents(&lake, &[(1, "a")]).await;
}

/// Source rows `(id, name, gone, new)`, with both flag columns.
fn flagged_rows(rows: &[(i64, &str, bool, bool)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("gone", DataType::Boolean, true),
        Field::new("new", DataType::Boolean, true),
    ]));
    let columns: Vec<arrow::array::ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
        Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

#[tokio::test]
async fn rows_flagged_new_are_inserted_without_a_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    create_two_files(&lake).await;
    let merge = || {
        lake.merge(Layer::Silver, "t", vec!["id".into()])
            .delete_flag("gone")
            .new_key_flag("new")
    };

    // Only new keys: appended, no file of the target read or rewritten.
    let out = merge()
        .execute(stream(flagged_rows(&[
            (30, "x", false, true),
            (31, "y", false, true),
            (32, "z", true, true),
        ])))
        .await
        .unwrap();
    assert_eq!(
        (out.inserted, out.updated, out.deleted, out.files_rewritten),
        (2, 0, 0, 0)
    );

    // Mixed: the unflagged row is looked up and updates id 10; the flagged ones are appended.
    let out = merge()
        .execute(stream(flagged_rows(&[
            (10, "J", false, false),
            (40, "n", false, true),
        ])))
        .await
        .unwrap();
    assert_eq!(
        (out.inserted, out.updated, out.deleted, out.files_rewritten),
        (1, 1, 0, 1)
    );

    // The flag is a promise, not checked: a key flagged new that the table holds is not looked
    // up, so it is stored a second time (the model must only flag keys it knows are new).
    merge()
        .execute(stream(flagged_rows(&[(1, "again", false, true)])))
        .await
        .unwrap();
    assert_contents(
        &lake,
        &[
            (1, "a"),
            (1, "again"),
            (2, "b"),
            (10, "J"),
            (11, "k"),
            (30, "x"),
            (31, "y"),
            (40, "n"),
        ],
    )
    .await;
    // Neither flag column is stored.
    let batches = lake.read_all(Layer::Silver, "t").await.unwrap();
    assert_eq!(batches[0].num_columns(), 2);
}

/// The ids of a table's changes since `since`: `None` when they say the table was rewritten.
async fn changed_ids(lake: &Lake, since: u64) -> Option<Vec<i64>> {
    let since = lake.offset_at(Layer::Silver, "t", since).await.unwrap();
    let changes = lake
        .changes_between(Layer::Silver, "t", Some(since), None, Appends::OrMerges)
        .await
        .unwrap();
    let Changes::Rows { provider, .. } = changes else {
        return None;
    };
    let ctx = c360_lake::datafusion::prelude::SessionContext::new();
    let batches = ctx.read_table(provider).unwrap().collect().await.unwrap();
    let mut ids: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            ids.values().to_vec()
        })
        .collect();
    ids.sort();
    Some(ids)
}

#[tokio::test]
async fn changes_of_a_merged_table_are_the_rows_of_the_files_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    create_two_files(&lake).await; // v0
                                   // v1: 11 updated (its file rewritten with 10), 12 inserted
    lake.merge(Layer::Silver, "t", vec!["id".into()])
        .execute(stream(rows(&[Some(11), Some(12)], &["K", "l"], None)))
        .await
        .unwrap();
    // the rows written since v0: the updated file (10 copied unchanged, 11) and the insert
    assert_eq!(changed_ids(&lake, 0).await, Some(vec![10, 11, 12]));
    assert_eq!(changed_ids(&lake, 1).await, Some(vec![]));
    // v2: 12 updated again, so a file v1 added is replaced: read from v0, that file was never
    // there (only its replacement is), and every row is seen once
    lake.merge(Layer::Silver, "t", vec!["id".into()])
        .execute(stream(rows(&[Some(12)], &["L"], None)))
        .await
        .unwrap();
    assert_eq!(changed_ids(&lake, 0).await, Some(vec![10, 11, 12]));
    assert!(changed_ids(&lake, 1).await.unwrap().contains(&12));
    // a bronze-style stream calls the same history rewritten
    let v0 = lake.offset_at(Layer::Silver, "t", 0).await.unwrap();
    assert!(matches!(
        lake.changes_between(Layer::Silver, "t", Some(v0), None, Appends::Only)
            .await
            .unwrap(),
        Changes::Rewritten { .. }
    ));
    // an overwrite after v2 is a rewrite for every consumer
    create(&lake, vec![rows(&[Some(1)], &["a"], None)]).await; // v3
    assert_eq!(changed_ids(&lake, 2).await, None);
    assert_eq!(changed_ids(&lake, 0).await, None);
    assert_eq!(changed_ids(&lake, 3).await, Some(vec![]));
}
