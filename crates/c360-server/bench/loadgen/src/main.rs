//! Load generator for `c360 serve`: `--clients` concurrent clients (each a closed loop: send,
//! wait for the full body, send the next) hit one path template for `--seconds`, then print
//! latency percentiles, throughput and errors as one line of `key=value` pairs.
//!
//! `{id}` in the path is replaced by customer ids taken round-robin (each client from its own
//! offset) from `--ids FILE` (one per line), so lookups spread over the whole customer base
//! instead of hitting one cached row.
//!
//! ```text
//! c360-loadgen --url http://127.0.0.1:8360 --token c360_... --clients 50 --seconds 20 \
//!     --path '/api/customers/{id}' --ids ids.txt
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

struct Options {
    url: String,
    token: Option<String>,
    clients: usize,
    seconds: f64,
    warmup: f64,
    path: String,
    ids: Vec<String>,
}

fn usage() -> ! {
    eprintln!(
        "usage: c360-loadgen --url URL --path PATH [--token T] [--clients 50] [--seconds 20] \
         [--warmup 2] [--ids FILE]   ({{id}} in PATH takes ids from FILE)"
    );
    std::process::exit(2)
}

fn options() -> Options {
    let mut o = Options {
        url: String::new(),
        token: std::env::var("C360_TOKEN").ok(),
        clients: 50,
        seconds: 20.0,
        warmup: 2.0,
        path: String::new(),
        ids: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--url" => o.url = value().trim_end_matches('/').to_string(),
            "--token" => o.token = Some(value()),
            "--clients" => o.clients = value().parse().unwrap_or_else(|_| usage()),
            "--seconds" => o.seconds = value().parse().unwrap_or_else(|_| usage()),
            "--warmup" => o.warmup = value().parse().unwrap_or_else(|_| usage()),
            "--path" => o.path = value(),
            "--ids" => {
                let file = value();
                let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
                    eprintln!("reading {file}: {e}");
                    std::process::exit(2)
                });
                o.ids = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            _ => usage(),
        }
    }
    if o.url.is_empty() || o.path.is_empty() || o.clients == 0 {
        usage()
    }
    if o.path.contains("{id}") && o.ids.is_empty() {
        eprintln!("--path has {{id}} but no --ids file (or it is empty)");
        std::process::exit(2)
    }
    o
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
    bytes: u64,
}

#[tokio::main]
async fn main() {
    let o = Arc::new(options());
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(o.clients)
        .build_http();
    let warm_until = Instant::now() + Duration::from_secs_f64(o.warmup);
    let stop = warm_until + Duration::from_secs_f64(o.seconds);
    let mut tasks = Vec::new();
    for c in 0..o.clients {
        let (o, client) = (o.clone(), client.clone());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut n = c * o.ids.len().max(1) / o.clients;
            loop {
                let started = Instant::now();
                if started >= stop {
                    break;
                }
                let path = if o.ids.is_empty() {
                    o.path.clone()
                } else {
                    n = (n + 1) % o.ids.len();
                    o.path.replace("{id}", &o.ids[n])
                };
                let mut req = hyper::Request::get(format!("{}{}", o.url, path));
                if let Some(t) = &o.token {
                    req = req.header("authorization", format!("Bearer {t}"));
                }
                let req = req.body(Empty::new()).expect("valid request");
                let outcome = match client.request(req).await {
                    Ok(resp) => {
                        let ok = resp.status().is_success();
                        match resp.into_body().collect().await {
                            Ok(body) => Some((ok, body.to_bytes().len() as u64)),
                            Err(_) => None,
                        }
                    }
                    Err(_) => None,
                };
                if started < warm_until {
                    continue;
                }
                match outcome {
                    Some((true, len)) => {
                        tally
                            .latencies_us
                            .push(started.elapsed().as_micros() as u64);
                        tally.bytes += len;
                    }
                    _ => tally.errors += 1,
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        let t = t.await.expect("client task");
        all.latencies_us.extend(t.latencies_us);
        all.errors += t.errors;
        all.bytes += t.bytes;
    }
    all.latencies_us.sort_unstable();
    let n = all.latencies_us.len();
    let pct = |p: f64| -> f64 {
        if n == 0 {
            return f64::NAN;
        }
        let i = ((p / 100.0) * n as f64).ceil() as usize;
        all.latencies_us[i.clamp(1, n) - 1] as f64 / 1000.0
    };
    println!(
        "path={} clients={} requests={} errors={} rps={:.0} p50_ms={:.2} p95_ms={:.2} p99_ms={:.2} max_ms={:.2} avg_bytes={}",
        o.path,
        o.clients,
        n,
        all.errors,
        n as f64 / o.seconds,
        pct(50.0),
        pct(95.0),
        pct(99.0),
        pct(100.0),
        if n == 0 { 0 } else { all.bytes / n as u64 },
    );
    if all.errors > 0 || n == 0 {
        std::process::exit(1)
    }
}
