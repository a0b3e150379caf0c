//! Change streams: the rows an append-only table gained after a version.

use c360_lake::datafusion::prelude::SessionContext;
use c360_lake::{Appends, Changes, Lake, Layer, Rewrite, StreamOffset, WriteMode};

use super::{batch, write};

async fn count(changes: Changes) -> (u64, i64) {
    let Changes::Rows { to, provider, .. } = changes else {
        panic!("expected rows");
    };
    let ctx = SessionContext::new();
    let n = ctx.read_table(provider).unwrap().count().await.unwrap();
    (to.version, n as i64)
}

/// The offset of a consumer that has read `bronze.things` up to `version`.
async fn offset(lake: &Lake, version: Option<u64>) -> Option<StreamOffset> {
    match version {
        Some(v) => Some(lake.offset_at(Layer::Bronze, "things", v).await.unwrap()),
        None => None,
    }
}

/// The changes of the test table `bronze.things` after version `since`.
async fn things_since(lake: &Lake, since: Option<u64>) -> Changes {
    let since = offset(lake, since).await;
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
        Changes::Rewritten {
            to: 2,
            why: Rewrite::Overwritten
        }
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
    let lake = &lake;
    let between = |since: Option<u64>, upto| async move {
        let since = offset(lake, since).await;
        lake.changes_between(Layer::Bronze, "things", since, upto, Appends::Only)
            .await
    };
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
    let offsets = [
        offset(&lake, Some(0)).await,
        offset(&lake, Some(1)).await,
        offset(&lake, Some(2)).await,
    ];
    std::fs::remove_file(
        lake.table_path(Layer::Bronze, "things")
            .join("_delta_log/00000000000000000001.json"),
    )
    .unwrap();
    let since = |offset| lake.changes_since(Layer::Bronze, "things", offset);
    // the changes after v0 start with the gone v1, and v1's own entry cannot be checked:
    // a consumer must rebuild
    for offset in &offsets[..2] {
        assert!(matches!(
            since(*offset).await.unwrap(),
            Changes::Rewritten {
                to: 10,
                why: Rewrite::Expired
            }
        ));
    }
    // an offset past the last version: the table was created again since
    let past = StreamOffset {
        version: 11,
        commit: Some(1),
    };
    assert!(matches!(
        since(Some(past)).await.unwrap(),
        Changes::Rewritten {
            to: 10,
            why: Rewrite::HistoryChanged
        }
    ));
    // the changes after v2 are all there: v3..=v10
    assert_eq!(count(since(offsets[2]).await.unwrap()).await, (10, 8));
}

#[tokio::test]
async fn an_offset_does_not_take_a_rolled_back_version_for_the_one_it_read() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path());
    write(&lake, WriteMode::Append, vec![vec![batch(0..10)]]).await; // v0
    write(&lake, WriteMode::Append, vec![vec![batch(10..15)]]).await; // v1
    let Changes::Rows { to: read_to, .. } = things_since(&lake, None).await else {
        panic!("expected rows");
    };
    assert_eq!(read_to, offset(&lake, Some(1)).await.unwrap());
    assert_eq!(read_to.txns("c").len(), 2);

    // rolled back to v0: the offset is past the end
    std::fs::remove_file(
        lake.table_path(Layer::Bronze, "things")
            .join("_delta_log/00000000000000000001.json"),
    )
    .unwrap();
    let since = |offset| lake.changes_since(Layer::Bronze, "things", offset);
    assert!(matches!(
        since(Some(read_to)).await.unwrap(),
        Changes::Rewritten {
            to: 0,
            why: Rewrite::HistoryChanged
        }
    ));
    // written again: a v1 of other rows is not the v1 the offset read
    write(&lake, WriteMode::Append, vec![vec![batch(20..23)]]).await; // v1 again
    assert!(matches!(
        since(Some(read_to)).await.unwrap(),
        Changes::Rewritten {
            to: 1,
            why: Rewrite::HistoryChanged
        }
    ));
    // an offset that records no digest cannot be checked
    let unverified = StreamOffset {
        version: 0,
        commit: None,
    };
    assert!(matches!(
        since(Some(unverified)).await.unwrap(),
        Changes::Rewritten {
            to: 1,
            why: Rewrite::Unverified
        }
    ));
    // the rebuilt consumer's offset reads on from the new v1
    let rebuilt = offset(&lake, Some(1)).await;
    assert_ne!(rebuilt, Some(read_to));
    write(&lake, WriteMode::Append, vec![vec![batch(30..32)]]).await; // v2
    assert_eq!(count(since(rebuilt).await.unwrap()).await, (2, 2));
}
