//! Change streams: the rows an append-only table gained after a version.

use c360_lake::datafusion::prelude::SessionContext;
use c360_lake::{Appends, Changes, Lake, Layer, WriteMode};

use super::{batch, write};

async fn count(changes: Changes) -> (u64, i64) {
    let Changes::Rows { to, provider, .. } = changes else {
        panic!("expected rows");
    };
    let ctx = SessionContext::new();
    let n = ctx.read_table(provider).unwrap().count().await.unwrap();
    (to, n as i64)
}

/// The changes of the test table `bronze.things` after version `since`.
async fn things_since(lake: &Lake, since: Option<u64>) -> Changes {
    lake.changes_since(Layer::Bronze, "things", since)
        .await
        .unwrap()
}

#[tokio::test]
async fn changes_are_the_files_added_since_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    write(&lake, WriteMode::Append, vec![vec![batch(0..10)]]).await; // v0
    write(
        &lake,
        WriteMode::Append,
        vec![vec![batch(10..15)], vec![batch(15..17)]],
    )
    .await; // v1
    assert_eq!(count(things_since(&lake, None).await).await, (1, 17));
    assert_eq!(count(things_since(&lake, Some(0)).await).await, (1, 7));
    assert_eq!(count(things_since(&lake, Some(1)).await).await, (1, 0));

    write(&lake, WriteMode::Overwrite, vec![vec![batch(0..3)]]).await; // v2 rewrites
    assert!(matches!(
        things_since(&lake, Some(1)).await,
        Changes::Rewritten { to: 2 }
    ));
    assert_eq!(
        lake.app_version(Layer::Bronze, "things", "nobody")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn changes_can_stop_at_an_earlier_version() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    write(&lake, WriteMode::Append, vec![vec![batch(0..10)]]).await; // v0
    write(&lake, WriteMode::Append, vec![vec![batch(10..15)]]).await; // v1
    write(&lake, WriteMode::Append, vec![vec![batch(15..17)]]).await; // v2
    let between =
        |since, upto| lake.changes_between(Layer::Bronze, "things", since, upto, Appends::Only);
    // everything up to v1; the rows of v1 only; nothing when upto is not after since
    assert_eq!(count(between(None, Some(1)).await.unwrap()).await, (1, 15));
    assert_eq!(
        count(between(Some(0), Some(1)).await.unwrap()).await,
        (1, 5)
    );
    assert_eq!(
        count(between(Some(1), Some(0)).await.unwrap()).await,
        (1, 0)
    );
    // an upto past the current version reads to the current version
    assert_eq!(
        count(between(Some(0), Some(9)).await.unwrap()).await,
        (2, 7)
    );
}

#[tokio::test]
async fn changes_whose_log_entries_expired_cannot_be_read_incrementally() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    // v0..=v10, one row each; v10 is a checkpoint (CHECKPOINT_INTERVAL), so the table still
    // opens once an earlier commit's log entry is gone, as log cleanup leaves it
    for i in 0..=c360_lake::CHECKPOINT_INTERVAL as i64 {
        write(&lake, WriteMode::Append, vec![vec![batch(i..i + 1)]]).await;
    }
    std::fs::remove_file(
        lake.table_path(Layer::Bronze, "things")
            .join("_delta_log/00000000000000000001.json"),
    )
    .unwrap();
    // the changes after v0 start with the gone v1: a consumer must rebuild
    assert!(matches!(
        things_since(&lake, Some(0)).await,
        Changes::Rewritten { to: 10 }
    ));
    // an offset past the last version: the table was created again since
    assert!(matches!(
        things_since(&lake, Some(11)).await,
        Changes::Rewritten { to: 10 }
    ));
    // the changes after v1 are all there: v2..=v10
    assert_eq!(count(things_since(&lake, Some(1)).await).await, (10, 9));
}
