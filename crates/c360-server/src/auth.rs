//! Who is asking: sessions from the sign-in form (an `HttpOnly`, `SameSite=Strict` cookie) or
//! `Authorization: Bearer <token>`; the middleware that requires one of them on every route but
//! `/health` and the sign-in form; and the sign-in and sign-out handlers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
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

/// Middleware: puts the [`Principal`] in the request's extensions, or answers 401 (API and
/// non-HTML clients) or a redirect to the sign-in form (browsers on pages).
pub async fn require(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match identify(&state, req.headers()) {
        Ok(Some(who)) => {
            req.extensions_mut().insert(who);
            next.run(req).await
        }
        Ok(None) | Err(_) => {
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
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            let target = format!("/login?{}", crate::request::encode(&[("next", next_path)]));
            Redirect::to(&target).into_response()
        }
    }
}

/// Where to go after signing in: a local path only (no open redirects).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
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

/// `POST /login`: checks the password (argon2, off the async workers) and opens a session.
pub async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let next = safe_next(form.next.as_deref());
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
            match crate::render::login(&next, Some("Wrong user name or password.")) {
                Ok(html) => (StatusCode::UNAUTHORIZED, html).into_response(),
                Err(e) => e.into_response(),
            }
        }
    }
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
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
