//! End to end in a real headless Chromium driven over WebDriver (`chromedriver` + fantoccini),
//! against a real server on loopback: sign in, open every page, filter, search, simulate a
//! campaign (SPEC §7 numbers on screen), download a CSV. Screenshots of every page go to
//! `target/screenshots/` (or `$C360_SCREENSHOTS`).
//!
//! Needs the Debian packages `chromium` and `chromium-driver`; without them the test prints a
//! loud notice and passes (set `C360_REQUIRE_BROWSER=1` to make their absence a failure).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use c360_server::AppState;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::api::{config, PASSWORD};
use crate::fixture;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn screenshot_dir() -> PathBuf {
    std::env::var_os("C360_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"))
}

async fn start_driver() -> (Driver, u16) {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (driver, port)
}

async fn connect(port: u16, profile: &Path, downloads: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false,
            }
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("open a Chromium session")
}

async fn text(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Waits for the page's charts to be drawn, then saves a screenshot.
async fn shoot(c: &Client, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let drawn = c
            .execute("return document.body.getAttribute('data-charts');", vec![])
            .await
            .unwrap();
        if !drawn.is_null() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // ECharts animates for ~1 s.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let png = c.screenshot().await.unwrap();
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

async fn select(c: &Client, form: &str, name: &str, label: &str) {
    let script = "const s = document.querySelector(arguments[0]);
                  for (const o of s.options) { o.selected = (o.text === arguments[1]); }
                  return Array.from(s.selectedOptions).length;";
    let n = c
        .execute(
            script,
            vec![json!(format!("{form} select[name={name}]")), json!(label)],
        )
        .await
        .unwrap();
    assert_eq!(n, json!(1), "{label} not offered in {name}");
}

async fn set_input(c: &Client, css: &str, value: &str) {
    let input = c.find(Locator::Css(css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        let msg = "\n\n######## BROWSER TESTS SKIPPED: /usr/bin/chromium or /usr/bin/chromedriver is missing \
                   (apt-get install chromium chromium-driver) ########\n";
        if std::env::var_os("C360_REQUIRE_BROWSER").is_some() {
            panic!("{msg}");
        }
        eprintln!("{msg}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = fixture::build(&dir.path().join("lake"), &dir.path().join("project")).await;
    let state = AppState::new(config(), lake, dir.path().join("project"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, c360_server::app(state)).await });

    let (_driver, port) = start_driver().await;
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let c = connect(port, &dir.path().join("chromium-profile"), &downloads).await;
    let result = run(&c, &base, &downloads).await;
    let _ = c.close().await;
    server.abort();
    result.unwrap();
}

async fn run(c: &Client, base: &str, downloads: &Path) -> Result<(), String> {
    // Sign in (the overview sends us to the form and back).
    c.goto(&format!("{base}/")).await.unwrap();
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/login", "not sent to the sign-in form: {url}");
    shoot(c, "00-login").await;
    set_input(c, "#username", "ana").await;
    set_input(c, "#password", PASSWORD).await;
    c.find(Locator::Css("#sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let kpis = text(c, "#kpis").await;
    assert!(kpis.contains("300"), "KPIs: {kpis}");
    assert!(kpis.contains("$1,462,030.00"), "KPIs: {kpis}");
    assert_eq!(text(c, "#who").await, "ana · analyst");
    shoot(c, "01-overview").await;
    let charts = c
        .execute("return document.querySelectorAll('canvas').length;", vec![])
        .await
        .unwrap();
    assert!(charts.as_u64().unwrap() >= 4, "charts drawn: {charts}");

    // Segment explorer: filter, then export the filtered set.
    c.goto(&format!("{base}/segments")).await.unwrap();
    assert_eq!(text(c, "#total").await, "300");
    select(c, "#filters", "segment", "High-Value Travelers").await;
    select(c, "#filters", "risk", "High").await;
    c.find(Locator::Css("#apply"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_url(c, |u: &url::Url| {
        u.query().is_some_and(|q| q.contains("segment="))
    })
    .await;
    assert_eq!(text(c, "#total").await, "25");
    shoot(c, "02-segments").await;
    c.find(Locator::Css("#export"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let csv = wait_for_download(downloads, "customers.csv").await?;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 26, "25 customers and a header");
    assert!(lines[0].starts_with("Customer ID,"), "{}", lines[0]);
    // Sorting by a header link.
    c.find(Locator::LinkText("Churn Risk Score"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_url(c, |u: &url::Url| {
        u.query()
            .is_some_and(|q| q.contains("sort=churn_risk_score"))
    })
    .await;
    assert_eq!(text(c, "#total").await, "25");

    // Customer deep dive: type-ahead, then the customer.
    c.goto(&format!("{base}/customers")).await.unwrap();
    set_input(c, "#customer-search", "Jane").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = c
            .execute("return document.getElementById('customer-suggestions').getAttribute('data-count');", vec![])
            .await
            .unwrap();
        if n == json!("1") {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("type-ahead offered nothing ({n})"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let offered = c
        .execute(
            "return document.querySelector('#customer-suggestions option').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(offered, json!("CUST00000042"));
    shoot(c, "03-customer-search").await;
    c.find(Locator::Css("#search"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let name = text(c, "#customer-name").await;
    assert!(name.contains("Jane Doe"), "{name}");
    assert!(text(c, "#history").await.contains("Standard"));
    assert_eq!(text(c, "#tx-total").await, "9");
    c.find(Locator::Css("#tx-filters select[name=period]"))
        .await
        .unwrap()
        .select_by_value("all")
        .await
        .unwrap();
    c.find(Locator::Css("#tx-apply"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_url(c, |u: &url::Url| {
        u.query().is_some_and(|q| q.contains("period=all"))
    })
    .await;
    assert_eq!(text(c, "#tx-total").await, "20");
    assert_eq!(text(c, "#approval-rate").await, "90.0%");
    shoot(c, "04-customer").await;
    c.find(Locator::Css("#tx-export"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let tx = wait_for_download(downloads, "transactions_CUST00000042.csv").await?;
    assert_eq!(tx.lines().count(), 21);

    // Campaign simulator: the SPEC §7 check on screen.
    c.goto(&format!("{base}/campaign")).await.unwrap();
    select(c, "#campaign-form", "segment", "High-Value Travelers").await;
    set_input(c, "#incentive", "100").await;
    set_input(c, "#retention_rate", "40").await;
    set_input(c, "#cost_per_customer", "10").await;
    c.find(Locator::Css("#simulate"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_url(c, |u: &url::Url| {
        u.query().is_some_and(|q| q.contains("retention_rate=40"))
    })
    .await;
    assert_eq!(text(c, "#audience-size").await, "100");
    assert_eq!(text(c, "#avg-ltv").await, "$10,000.00");
    assert_eq!(text(c, "#total-cost").await, "$11,000.00");
    assert_eq!(text(c, "#retained").await, "40");
    assert_eq!(text(c, "#retained-value").await, "$80,000.00");
    assert_eq!(text(c, "#net").await, "$69,000.00");
    assert_eq!(text(c, "#roi").await, "627.27%");
    assert_eq!(text(c, "#breakeven").await, "6%");
    shoot(c, "05-campaign").await;

    // Pipeline and data quality.
    c.goto(&format!("{base}/pipeline")).await.unwrap();
    assert!(text(c, "#runs").await.contains("run-0001"));
    assert!(text(c, "#quarantine").await.contains("bad_amount"));
    assert!(text(c, "#tables")
        .await
        .contains("gold.customer_360_profile"));
    shoot(c, "06-pipeline").await;

    // Metrics explorer: a preset question.
    c.goto(&format!("{base}/metrics")).await.unwrap();
    c.find(Locator::LinkText(
        "What is the average lifetime value by segment?",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_url(c, |u: &url::Url| {
        u.query().is_some_and(|q| q.contains("measure=avg_ltv"))
    })
    .await;
    assert!(text(c, "#sql").await.contains("AVG(lifetime_value)"));
    assert!(text(c, "#metric-table").await.contains("$10,000.00"));
    shoot(c, "07-metrics").await;

    // Sign out: the next page asks to sign in again.
    c.find(Locator::Css("header form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_url(c, |u: &url::Url| u.path() == "/login").await;
    c.goto(&format!("{base}/segments")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/login");
    Ok(())
}

async fn wait_for_download(dir: &Path, name: &str) -> Result<String, String> {
    let path = dir.join(name);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(&path) {
            if !text.is_empty() {
                return Ok(text);
            }
        }
        if Instant::now() > deadline {
            let present: Vec<_> = std::fs::read_dir(dir)
                .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
                .unwrap_or_default();
            return Err(format!(
                "{name} was not downloaded (folder holds {present:?})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the current URL satisfies `ok`.
async fn wait_url(c: &Client, ok: impl Fn(&url::Url) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = c.current_url().await.unwrap();
        if ok(&url) {
            return;
        }
        assert!(Instant::now() < deadline, "still at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
