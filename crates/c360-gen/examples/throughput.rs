//! Generation throughput: `cargo run --release -p c360-gen --example throughput -- [customers] [threads]`.
//!
//! Generates the customers and every transaction chunk (batches are dropped, nothing is
//! written) on `threads` threads and prints rows, dirt counts and rows per second.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use c360_gen::{GenConfig, Generator, TxnStats};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let customers: u32 = args.next().map_or(Ok(50_000), |a| a.parse())?;
    let threads: usize = args.next().map_or(Ok(2), |a| a.parse())?;
    let generator = Generator::new(GenConfig {
        customers,
        ..GenConfig::default()
    })?;

    let started = Instant::now();
    let (batch, cstats) = generator.customers();
    let customers_time = started.elapsed();

    let next = AtomicUsize::new(0);
    let total = Mutex::new(TxnStats::default());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut local = TxnStats::default();
                loop {
                    let chunk = next.fetch_add(1, Ordering::Relaxed);
                    if chunk >= generator.num_chunks() {
                        break;
                    }
                    local += generator
                        .transaction_chunk(chunk, &mut |b| {
                            std::hint::black_box(b);
                            Ok::<(), ()>(())
                        })
                        .expect("infallible sink");
                }
                *total.lock().expect("no poisoned lock") += local;
            });
        }
    });
    let elapsed = started.elapsed();
    let total = total.into_inner()?;
    println!(
        "customers: {} rows in {customers_time:.2?} ({})",
        batch.num_rows(),
        cstats.dirt
    );
    println!(
        "transactions: {} rows ({:.2} per customer) in {elapsed:.2?} on {threads} threads: {:.2} M rows/s",
        total.rows,
        total.rows as f64 / f64::from(customers),
        total.rows as f64 / elapsed.as_secs_f64() / 1e6
    );
    println!("dirt: {}", total.dirt);
    Ok(())
}
