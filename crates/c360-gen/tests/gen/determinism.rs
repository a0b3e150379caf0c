//! Same config ⇒ same bytes, whatever the chunk order; another seed ⇒ other data.

use c360_gen::{DirtRates, GenConfig, Generator};

use crate::{chunk_batches, config, hash_batches};

fn all_hashes(g: &Generator) -> Vec<u64> {
    let mut out = vec![hash_batches(&[g.customers().0])];
    out.extend((0..g.num_chunks()).map(|c| hash_batches(&chunk_batches(g, c))));
    out
}

#[test]
fn same_config_gives_identical_batches() {
    let cfg = config(600, DirtRates::default());
    let a = all_hashes(&Generator::new(cfg.clone()).unwrap());
    let b = all_hashes(&Generator::new(cfg).unwrap());
    assert_eq!(a, b);
    assert_eq!(a.len(), 1 + 3);
}

#[test]
fn a_chunk_does_not_depend_on_other_chunks_or_threads() {
    let cfg = config(600, DirtRates::default());
    let g = Generator::new(cfg.clone()).unwrap();
    // Chunk 2 after chunks 0 and 1, in this thread…
    let _ = chunk_batches(&g, 0);
    let _ = chunk_batches(&g, 1);
    let after_others = hash_batches(&chunk_batches(&g, 2));
    // …equals chunk 2 alone, from a fresh generator, on other threads.
    let fresh = Generator::new(cfg.clone()).unwrap();
    let alone = std::thread::scope(|s| {
        let h1 = s.spawn(|| hash_batches(&chunk_batches(&fresh, 2)));
        let h2 = s.spawn(|| hash_batches(&chunk_batches(&g, 2)));
        (h1.join().unwrap(), h2.join().unwrap())
    });
    assert_eq!(alone, (after_others, after_others));
}

#[test]
fn chunking_and_batching_do_not_change_the_rows() {
    let small = GenConfig {
        chunk_customers: 50,
        batch_rows: 777,
        ..config(200, DirtRates::default())
    };
    let big = GenConfig {
        chunk_customers: 200,
        batch_rows: 1_000_000,
        ..small.clone()
    };
    let (a, sa) = crate::all_txns(&Generator::new(small.clone()).unwrap());
    let (b, sb) = crate::all_txns(&Generator::new(big).unwrap());
    assert_eq!(sa, sb);
    assert!(a == b, "same rows in the same order");
    let g = Generator::new(small).unwrap();
    for chunk in 0..g.num_chunks() {
        for batch in chunk_batches(&g, chunk) {
            assert!(batch.num_rows() <= 777);
        }
    }
    // batch_rows = 1 still works (a duplicate copy then goes to the next batch).
    let one = GenConfig {
        batch_rows: 1,
        ..config(5, DirtRates::default())
    };
    let g = Generator::new(one).unwrap();
    assert!(chunk_batches(&g, 0).iter().all(|b| b.num_rows() == 1));
}

#[test]
fn another_seed_gives_other_data() {
    let a = all_hashes(&Generator::new(config(300, DirtRates::default())).unwrap());
    let b = all_hashes(
        &Generator::new(GenConfig {
            seed: 7,
            ..config(300, DirtRates::default())
        })
        .unwrap(),
    );
    assert!(a.iter().zip(&b).all(|(x, y)| x != y));
}

#[test]
fn dirt_does_not_move_the_clean_data() {
    // Dirt uses its own random streams: the clean rows are the dirty run's rows minus
    // duplicate copies, with the dirty fields restored.
    let (dirty, _) = crate::all_txns(&Generator::new(config(300, DirtRates::default())).unwrap());
    let (clean, _) = crate::all_txns(&Generator::new(config(300, DirtRates::clean())).unwrap());
    let mut d = dirty.iter().peekable();
    for c in &clean {
        let row = d.next().unwrap();
        assert_eq!((&row.id, row.ts, &row.merchant), (&c.id, c.ts, &c.merchant));
        while d.peek().is_some_and(|n| n.id == c.id) {
            d.next();
        }
    }
    assert!(d.next().is_none());
}
