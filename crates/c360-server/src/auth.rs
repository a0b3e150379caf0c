//! Who is asking: sessions from the sign-in form (an `HttpOnly`, `SameSite=Strict` cookie) or
//! `Authorization: Bearer <token>`; the middleware that requires one of them on every route but
//! `/health` and the sign-in form; and the sign-in and sign-out handlers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::{Deserialize, Serialize};

use crate::config::{self, Role, ServerConfig};
use crate::error::AppError;
use crate::AppState;

/// Name of the session cookie.
pub const COOKIE: &str = "c360_session";

/// A signed-in user or a token's owner.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    /// User or token name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// `session` or `token`.
    pub via: &'static str,
}

/// Live sign-in sessions (in memory: a restart signs everyone out).
pub struct Sessions {
    live: Mutex<HashMap<String, (Principal, Instant)>>,
    ttl: Duration,
}

impl Sessions {
    /// Sessions lasting `ttl`.
    pub fn new(ttl: Duration) -> Sessions {
        Sessions {
            live: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// Opens a session for `who`; returns its id.
    pub fn open(&self, who: Principal) -> String {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let id = hex::encode(bytes);
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        live.retain(|_, (_, expires)| *expires > now);
        live.insert(id.clone(), (who, now + self.ttl));
        id
    }

    /// The principal of session `id`, if it is live.
    pub fn get(&self, id: &str) -> Option<Principal> {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.get(id)
            .filter(|(_, expires)| *expires > Instant::now())
            .map(|(p, _)| p.clone())
    }

    /// Ends session `id`.
    pub fn close(&self, id: &str) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// Token digests → principals.
pub fn token_table(config: &ServerConfig) -> HashMap<String, Principal> {
    config
        .tokens
        .iter()
        .map(|t| {
            (
                t.sha256.clone(),
                Principal {
                    name: t.name.clone(),
                    role: t.role,
                    via: "token",
                },
            )
        })
        .collect()
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Who sent `headers`, if anyone valid.
pub fn identify(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, AppError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let text = auth.to_str().map_err(|_| AppError::Unauthorized)?;
        let token = text
            .strip_prefix("Bearer ")
            .ok_or(AppError::Unauthorized)?
            .trim();
        return match state.inner.tokens.get(&config::token_digest(token)) {
            Some(p) => Ok(Some(p.clone())),
            None => Err(AppError::Unauthorized),
        };
    }
    Ok(cookie_value(headers, COOKIE).and_then(|id| state.inner.sessions.get(id)))
}

/// Middleware: puts the [`Principal`] in the request's extensions, or answers as
/// [`unauthenticated`] does. It wraps every route but `/health` and the sign-in form, unknown
/// paths and unknown methods included, so a caller without a sign-in cannot tell which routes
/// exist.
pub async fn require(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match identify(&state, req.headers()) {
        Ok(Some(who)) => {
            req.extensions_mut().insert(who);
            next.run(req).await
        }
        Ok(None) | Err(_) => unauthenticated(&req),
    }
}

/// The answer to a request without a valid sign-in: `401` for the API and non-HTML clients,
/// a redirect to the sign-in form (and back) for browsers asking for a page.
fn unauthenticated(req: &Request) -> Response {
    let path = req.uri().path();
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if path.starts_with("/api/") || !wants_html {
        return AppError::Unauthorized.into_response();
    }
    let next_path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .and_then(local_path)
        .unwrap_or("/");
    let target = format!(
        "/login?{}",
        crate::request::encode(&[("next", next_path.to_string())])
    );
    Redirect::to(&target).into_response()
}

/// `next` when it is a path on this server: it starts with one `/`, holds only visible ASCII
/// (no control character, space or backslash: `/\t/evil.example` and `/\\evil.example` are
/// read by browsers as `//evil.example`) and resolves to the same origin. The one check of
/// where to go after signing in, for the form's `next` (GET) and the posted one (POST).
pub fn local_path(next: &str) -> Option<&str> {
    let visible = next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if !visible || !next.starts_with('/') || next.starts_with("//") {
        return None;
    }
    let base = url::Url::parse("http://c360.invalid/").ok()?;
    let joined = base.join(next).ok()?;
    (joined.origin() == base.origin()).then_some(next)
}

/// Where to go after signing in: [`local_path`] of `next`, else `/`.
fn safe_next(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or("/").to_string()
}

/// `GET /login?next=/path`.
pub async fn login_form(
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let args = crate::request::Args::parse(raw.as_deref(), &["next"])?;
    let next = safe_next(args.one("next")?);
    Ok(crate::render::login(&next, None)?.into_response())
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// A well-formed argon2 hash that no password matches in practice: verified against when the
/// user is unknown, so a wrong name takes as long as a wrong password.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| config::hash_password("c360-no-such-user").unwrap_or_default());

/// `POST /login`: refuses throttled attempts ([`crate::throttle`]: 429 with `Retry-After`),
/// checks the password (argon2, off the async workers) and opens a session.
pub async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let address = crate::listen::client_address(&extensions).map(|a| a.ip());
    let throttle = &state.inner.throttle;
    if let Err(wait) = throttle.attempt(&form.username, address, Instant::now()) {
        tracing::warn!(user = %form.username, ?address, "sign-in throttled");
        let err = AppError::TooManyRequests {
            retry_after_secs: wait.as_secs_f64().ceil() as u64,
        };
        return login_refused(&next, err);
    }
    let user = state
        .inner
        .config
        .users
        .iter()
        .find(|u| u.name == form.username)
        .cloned();
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let password = form.password;
    let ok = tokio::task::spawn_blocking(move || config::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    match (ok, user) {
        (true, Some(user)) => {
            throttle.succeeded(&user.name, address);
            tracing::info!(user = %user.name, "signed in");
            let id = state.inner.sessions.open(Principal {
                name: user.name.clone(),
                role: user.role,
                via: "session",
            });
            let secure = if state.inner.config.secure_cookies {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                state.inner.config.session_hours as u64 * 3600
            );
            let mut response = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            response
        }
        _ => {
            tracing::warn!(user = %form.username, "failed sign-in");
            login_refused(&next, AppError::BadSignIn)
        }
    }
}

/// The sign-in form again, with `err`'s message and status (and its `Retry-After`).
fn login_refused(next: &str, err: AppError) -> Response {
    let html = match crate::render::login(next, Some(&err.to_string())) {
        Ok(html) => html,
        Err(e) => return e.into_response(),
    };
    let mut response = (err.status(), html).into_response();
    err.add_headers(response.headers_mut());
    response
}

/// `POST /logout`: ends the session and clears the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie_value(&headers, COOKIE) {
        state.inner.sessions.close(id);
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("c360_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/segments?state=CA")), "/segments?state=CA");
        assert_eq!(
            safe_next(Some("/customers/CUST1?x=%2F%2Fa")),
            "/customers/CUST1?x=%2F%2Fa"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\t/evil.example",
            "/\r\nSet-Cookie:x=1",
            "/\\evil.example",
            "\\/evil.example",
            "/ /evil.example",
            "/\u{0}",
            "/é",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
