//! Delta Sharing mounted by the dashboard server: `/delta-sharing/` answers recipients' tokens
//! (not dashboard sign-ins), serves the recipient's filtered snapshot of the profile, and the
//! reads appear on the pipeline and data-quality page.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::api::{config, get, ok_json, ADMIN_TOKEN};
use crate::fixture;

const SHARING: &str = r#"
[[shares]]
name = "partners"
recipients = ["acme"]
[[shares.schemas]]
name = "c360"
[[shares.schemas.tables]]
name = "profiles"
source = "gold.customer_360_profile"
exclude_columns = ["email", "first_name", "last_name"]
mask_columns = ["full_name"]
row_filters = { acme = "state IN ('CA','NV')" }
"#;

#[tokio::test]
async fn the_dashboard_serves_delta_sharing_and_shows_who_read_what() {
    let dir = tempfile::tempdir().unwrap();
    let lake = fixture::build(&dir.path().join("lake"), &dir.path().join("project")).await;
    let token = c360_sharing::RecipientStore::new(&lake.meta_dir())
        .add("acme", None, chrono::Utc::now())
        .unwrap();
    let mut config = config();
    config.sharing =
        c360_sharing::SharingConfig::from_toml(toml::from_str(SHARING).unwrap()).unwrap();
    let app = c360_server::app(c360_server::AppState::new(
        config,
        lake,
        dir.path().join("project"),
    ));

    // A dashboard token is not a recipient token.
    let r = get(&app, "/delta-sharing/shares", Some(ADMIN_TOKEN)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("UNAUTHENTICATED"));

    let req = Request::post("/delta-sharing/shares/partners/schemas/c360/tables/profiles/query")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::HOST, "localhost:8360")
        .body(Body::from("{}"))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let schema = lines[1]["metaData"]["schemaString"].as_str().unwrap();
    for hidden in ["\"email\"", "\"first_name\"", "\"last_name\""] {
        assert!(!schema.contains(hidden), "{hidden} is shared");
    }
    // The fixture's CA customers: the 100 High-Value Travelers.
    assert_eq!(lines[2]["file"]["stats"], "{\"numRecords\":100}");

    let p = ok_json(&app, "/api/pipeline", ADMIN_TOKEN).await;
    let access = p["sharing_access"].as_array().unwrap();
    assert_eq!(access.len(), 1);
    assert_eq!(access[0]["recipient"], "acme");
    assert_eq!(access[0]["table_name"], "profiles");
    assert_eq!(access[0]["rows"], 100);
    let page = get(&app, "/pipeline", Some(ADMIN_TOKEN)).await;
    assert!(page.body.contains("Data sharing: latest reads"));
    assert!(page.body.contains("acme"));
}

/// The `[server.sharing]` example of docs/sharing.md.
fn documented_example() -> c360_sharing::SharingConfig {
    let doc = include_str!("../../../../docs/sharing.md");
    let start = doc.find("```toml\n[server.sharing]").expect("the example") + "```toml\n".len();
    let text = &doc[start..start + doc[start..].find("```").unwrap()];
    let mut file: toml::Table = toml::from_str(text).unwrap();
    let sharing = file.remove("server").unwrap().as_table().unwrap()["sharing"].clone();
    c360_sharing::SharingConfig::from_toml(sharing.as_table().unwrap().clone()).unwrap()
}

#[tokio::test]
async fn the_documented_share_hides_every_form_of_the_names_and_a_leaky_one_warns() {
    let dir = tempfile::tempdir().unwrap();
    let lake = fixture::build(&dir.path().join("lake"), &dir.path().join("project")).await;
    let documented = documented_example();
    let table = &documented.shares[0].schemas[0].tables[0];
    assert!(table.mask_columns.contains(&"full_name".to_string()));
    let warnings = c360_sharing::snapshot::exposure_warnings(&lake, &documented).await;
    assert_eq!(warnings, Vec::<String>::new());

    // The example as it was: full_name masked, email left out, the names in clear.
    let mut leaky = documented.clone();
    leaky.shares[0].schemas[0].tables[0].exclude_columns = vec!["email".into()];
    let warnings = c360_sharing::snapshot::exposure_warnings(&lake, &leaky).await;
    for clear in ["first_name", "last_name"] {
        assert!(
            warnings.iter().any(
                |w| w.contains("hides 'full_name'") && w.contains(&format!("shares '{clear}'"))
            ),
            "{warnings:#?}"
        );
    }
}
