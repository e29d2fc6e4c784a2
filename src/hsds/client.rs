//! HTTP client for HSDS: one connection pool per server, basic auth (token sources come
//! with the identity issue), JSON and binary bodies, retries on 503 and friends with
//! backoff, and every HTTP status explained in the error.

use super::config::{Endpoint, HsConfig};
use crate::blob::scrub;
use bytes::Bytes;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

/// Retries on 500/502/503/504 and connection errors, doubling from 100 ms up to 5 s.
const RETRIES: usize = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Requests time out after this long; HSDS answers metadata requests in milliseconds and
/// streams large values, so a minute means something is wrong.
const TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsdsError {
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    pub msg: String,
}

impl std::fmt::Display for HsdsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}
impl std::error::Error for HsdsError {}

impl HsdsError {
    fn new(status: Option<u16>, msg: impl Into<String>) -> Self {
        HsdsError {
            status,
            msg: scrub(&msg.into()),
        }
    }
}

/// What an HSDS status means for the user.
pub fn explain(status: u16) -> &'static str {
    match status {
        400 => "bad request",
        401 => "authentication failed: check HS_USERNAME/HS_PASSWORD (or the token)",
        403 => "permission denied: the user may not perform this action on the domain",
        404 => "not found",
        409 => "conflict: the object or link already exists",
        410 => "gone: the object was deleted",
        413 => "request too large for the server (max_request_size): it must be split",
        500 => "internal server error",
        503 => "service unavailable: the server is overloaded (retries exhausted)",
        _ => "request failed",
    }
}

pub struct HsdsClient {
    http: reqwest::Client,
    base: String,
    /// The endpoint as messages show it.
    pub display: String,
    /// What authorises each request (Basic auth and/or an API key today; bearer tokens
    /// from the identity sources plug in here).
    auth: crate::auth::Source,
    bucket: Option<String>,
    /// Requests sent (retries included) and response bytes received.
    pub stats: crate::blob::Stats,
}

/// A request's query: `(key, value)` pairs, encoded by the client.
pub type Query<'a> = &'a [(&'a str, &'a str)];

impl HsdsClient {
    /// A client with the credentials `cfg` names (user/password, API key, or none).
    pub fn new(cfg: &HsConfig) -> Result<HsdsClient, HsdsError> {
        let auth = crate::auth::Static::hsds(
            cfg.username.as_deref(),
            cfg.password.as_deref(),
            cfg.api_key.as_deref(),
        )
        .map_err(|e| HsdsError::new(None, e.0))?;
        HsdsClient::with_credentials(cfg, std::sync::Arc::new(auth))
    }

    /// A client for `cfg`'s endpoint and bucket whose requests `auth` authorises.
    pub fn with_credentials(
        cfg: &HsConfig,
        auth: crate::auth::Source,
    ) -> Result<HsdsClient, HsdsError> {
        let endpoint = cfg.endpoint().map_err(|e| HsdsError::new(None, e))?;
        if auth.is_bearer() && !endpoint.protects_tokens() {
            return Err(HsdsError::new(
                None,
                format!(
                    "{endpoint}: refusing to send a bearer token ({}) over plain http; use \
                     https:// (or a Unix socket, or http to 127.0.0.1/localhost with \
                     H5BLOB_ALLOW_HTTP_TOKENS=1)",
                    auth.describe()
                ),
            ));
        }
        let mut b = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT);
        let base = match &endpoint {
            Endpoint::Tcp(url) => url.clone(),
            Endpoint::Unix(path) => {
                b = b.unix_socket(path.clone());
                "http://localhost".to_string()
            }
        };
        let http = b
            .build()
            .map_err(|e| HsdsError::new(None, format!("cannot create HTTP client: {e}")))?;
        Ok(HsdsClient {
            http,
            base,
            display: endpoint.to_string(),
            auth,
            bucket: cfg.bucket.clone(),
            stats: Default::default(),
        })
    }

    /// Sends a request, retrying what is worth retrying; returns status and body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: Query<'_>,
        body: Option<Body>,
        accept_binary: bool,
    ) -> Result<(StatusCode, Bytes), HsdsError> {
        let what = format!("{method} {path}{}", describe(query));
        let mut backoff = FIRST_BACKOFF;
        for attempt in 0..=RETRIES {
            let mut req = self.http.request(method.clone(), self.url(path, query)?);
            let headers = self.auth.headers().await.map_err(|e| {
                HsdsError::new(
                    None,
                    format!("{what} at {}: no credentials: {e}", self.display),
                )
            })?;
            for (k, v) in headers {
                req = req.header(k, v);
            }
            req = req.header(
                "Accept",
                if accept_binary {
                    "application/octet-stream"
                } else {
                    "application/json"
                },
            );
            req = match &body {
                Some(Body::Json(v)) => req
                    .header("Content-Type", "application/json")
                    .body(v.to_string()),
                Some(Body::Binary(b)) => req
                    .header("Content-Type", "application/octet-stream")
                    .body(b.clone()),
                None => req,
            };
            let retryable = attempt < RETRIES;
            self.stats.add(&self.stats.requests, 1);
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let expected = resp.content_length();
                    let bytes = match resp.bytes().await {
                        Ok(b) => b,
                        Err(e) if retryable => {
                            tracing_sleep(&mut backoff, None).await;
                            let _ = e;
                            continue;
                        }
                        Err(e) => {
                            return Err(HsdsError::new(
                                None,
                                format!("{what} at {}: body cut short: {e}", self.display),
                            ));
                        }
                    };
                    self.stats.add(&self.stats.bytes, bytes.len() as u64);
                    // A streamed response can fail half way with status 200.
                    if let Some(n) = expected.filter(|n| *n != bytes.len() as u64) {
                        return Err(HsdsError::new(
                            Some(status.as_u16()),
                            format!(
                                "{what} at {}: got {} of {n} bytes",
                                self.display,
                                bytes.len()
                            ),
                        ));
                    }
                    if matches!(status.as_u16(), 500 | 502 | 503 | 504) && retryable {
                        tracing_sleep(&mut backoff, retry_after).await;
                        continue;
                    }
                    if !status.is_success() {
                        let detail = server_message(&bytes);
                        let sent = if status.as_u16() == 401 {
                            // A cached token the server refuses is not used again.
                            self.auth.rejected();
                            format!(" (credentials: {})", self.auth.describe())
                        } else {
                            String::new()
                        };
                        return Err(HsdsError::new(
                            Some(status.as_u16()),
                            format!(
                                "{what} at {}: HTTP {} {}{sent}{detail}",
                                self.display,
                                status.as_u16(),
                                explain(status.as_u16())
                            ),
                        ));
                    }
                    return Ok((status, bytes));
                }
                Err(e) if retryable && (e.is_connect() || e.is_timeout()) => {
                    tracing_sleep(&mut backoff, None).await
                }
                Err(e) => {
                    let why = if e.is_connect() {
                        "cannot connect"
                    } else if e.is_timeout() {
                        "timed out"
                    } else {
                        "request failed"
                    };
                    return Err(HsdsError::new(
                        None,
                        format!("{what} at {}: {why}: {}", self.display, root_cause(&e)),
                    ));
                }
            }
        }
        Err(HsdsError::new(
            None,
            format!("{what} at {}: retries exhausted", self.display),
        ))
    }

    fn url(&self, path: &str, query: Query<'_>) -> Result<url::Url, HsdsError> {
        let mut url = url::Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| HsdsError::new(None, format!("bad request path {path:?}: {e}")))?;
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
            if let Some(bucket) = &self.bucket {
                pairs.append_pair("bucket", bucket);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }

    pub async fn get_json(&self, path: &str, query: Query<'_>) -> Result<Value, HsdsError> {
        let (_, body) = self.request(Method::GET, path, query, None, false).await?;
        parse_json(&body, path)
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        query: Query<'_>,
        body: Value,
    ) -> Result<Value, HsdsError> {
        let (_, b) = self
            .request(method, path, query, Some(Body::Json(body)), false)
            .await?;
        if b.is_empty() {
            Ok(Value::Null)
        } else {
            parse_json(&b, path)
        }
    }

    pub async fn delete(&self, path: &str, query: Query<'_>) -> Result<(), HsdsError> {
        self.request(Method::DELETE, path, query, None, false)
            .await
            .map(|_| ())
    }

    /// Binary GET that must return exactly `expected` bytes.
    pub async fn get_binary(
        &self,
        path: &str,
        query: Query<'_>,
        expected: usize,
    ) -> Result<Bytes, HsdsError> {
        let (_, b) = self.request(Method::GET, path, query, None, true).await?;
        if b.len() != expected {
            return Err(HsdsError::new(
                None,
                format!(
                    "GET {path} at {}: expected {expected} bytes, got {}",
                    self.display,
                    b.len()
                ),
            ));
        }
        Ok(b)
    }

    pub async fn put_binary(
        &self,
        path: &str,
        query: Query<'_>,
        data: Bytes,
    ) -> Result<(), HsdsError> {
        self.request(Method::PUT, path, query, Some(Body::Binary(data)), false)
            .await
            .map(|_| ())
    }
}

/// A request body.
pub enum Body {
    Json(Value),
    Binary(Bytes),
}

async fn tracing_sleep(backoff: &mut Duration, retry_after: Option<Duration>) {
    let wait = retry_after.map_or(*backoff, |r| r.min(Duration::from_secs(30)));
    tokio::time::sleep(wait).await;
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
}

fn describe(query: Query<'_>) -> String {
    query
        .iter()
        .find(|(k, _)| *k == "domain")
        .map_or(String::new(), |(_, d)| format!(" (domain {d})"))
}

fn parse_json(b: &[u8], path: &str) -> Result<Value, HsdsError> {
    serde_json::from_slice(b)
        .map_err(|e| HsdsError::new(None, format!("{path}: the server sent invalid JSON: {e}")))
}

/// HSDS puts its reason in the body, as JSON `{"message": ...}` or as text.
fn server_message(b: &[u8]) -> String {
    let text = String::from_utf8_lossy(b);
    let msg = serde_json::from_slice::<Value>(b)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| {
            text.lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_string()
        });
    let msg: String = msg.chars().take(300).collect();
    if msg.trim().is_empty() || msg.contains("<html") {
        String::new()
    } else {
        format!(": {}", msg.trim())
    }
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
