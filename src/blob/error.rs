//! Errors of the blob layer: a kind (for the HDF5 error code) and a message that says what
//! failed, where, with the HTTP status and Azure error code, and never a secret.

use crate::config::ConfigError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Config,
    NotFound,
    Denied,
    Changed,
    RangeNotSatisfiable,
    Server,
    Unreachable,
    Timeout,
    Transport,
    NotHdf5,
    Unsupported,
    /// The object or link already exists (HSDS 409).
    Exists,
    Internal,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{msg}")]
pub struct BlobError {
    pub kind: ErrorKind,
    pub msg: String,
}

impl From<ConfigError> for BlobError {
    fn from(e: ConfigError) -> Self {
        BlobError::new(ErrorKind::Config, e.to_string())
    }
}

impl BlobError {
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Self {
        BlobError {
            kind,
            msg: scrub(&msg.into()),
        }
    }

    /// Turns an `object_store` error into a message a user can act on.
    pub fn from_store(e: object_store::Error, op: &str, url: &str, auth: &super::AuthHint) -> Self {
        let chain = scrub(&error_chain(&e));
        let status = find_status(&chain);
        let code = between(&chain, "<Code>", "</Code>");
        let azure_msg = between(&chain, "<Message>", "</Message>")
            .map(|m| m.lines().next().unwrap_or("").trim().to_string());
        let detail = match (&code, &azure_msg) {
            (Some(c), Some(m)) if !m.is_empty() => format!(" ({c}: {m})"),
            (Some(c), _) => format!(" ({c})"),
            _ => String::new(),
        };
        let (kind, what) = match (&e, status) {
            (object_store::Error::NotFound { .. }, _) | (_, Some(404)) => {
                let what = match code.as_deref() {
                    Some("ContainerNotFound") => "container not found",
                    Some("ResourceNotFound") => "account, container or blob not found",
                    _ => "blob not found",
                };
                (ErrorKind::NotFound, format!("{what} (HTTP 404{detail})"))
            }
            (object_store::Error::Precondition { .. }, _) | (_, Some(412)) => (
                ErrorKind::Changed,
                "the blob was replaced while the file was open (ETag no longer matches, HTTP 412); reopen the file".to_string(),
            ),
            (_, Some(s @ (401 | 403))) => {
                let expired = auth.sas_expiry.as_deref().filter(|se| sas_expired(se));
                let hint = if let Some(se) = expired {
                    format!("the SAS token expired at {se}")
                } else if auth.anonymous {
                    "no credential is configured and the container does not allow anonymous reads (it is not public): \
                     set account_key, sas_token or a connection string"
                        .to_string()
                } else {
                    match code.as_deref() {
                    Some("AuthenticationFailed") => "the account key or SAS signature is wrong, or the SAS has expired",
                    Some("AuthorizationPermissionMismatch") | Some("AuthorizationFailure") => "the credential lacks read permission",
                    Some("NoAuthenticationInformation") | None if s == 401 || code.is_some() => {
                        "the container is not public: configure an account key, SAS or connection string"
                    }
                    _ => "access denied",
                    }
                    .to_string()
                };
                (ErrorKind::Denied, format!("{hint} (HTTP {s}{detail})"))
            }
            (_, Some(416)) => (ErrorKind::RangeNotSatisfiable, format!("range not satisfiable (HTTP 416{detail})")),
            (_, Some(s)) if s == 429 || s >= 500 => {
                (ErrorKind::Server, format!("server error HTTP {s}{detail}, retries exhausted"))
            }
            (_, Some(s)) => (ErrorKind::Server, format!("HTTP {s}{detail}")),
            (object_store::Error::UnknownConfigurationKey { .. }, _) | (object_store::Error::Generic { store: _, .. }, None)
                if op == "configure" =>
            {
                (ErrorKind::Config, format!("invalid configuration: {chain}"))
            }
            _ => {
                let lower = chain.to_ascii_lowercase();
                // Connection failures first: object_store's messages mention retry_timeout.
                if lower.contains("connect") || lower.contains("dns") || lower.contains("refused") {
                    (ErrorKind::Unreachable, format!("cannot reach the endpoint ({})", short(&chain)))
                } else if lower.contains("timed out") || lower.contains("timeout") {
                    (ErrorKind::Timeout, format!("timed out ({})", short(&chain)))
                } else {
                    (ErrorKind::Transport, short(&chain))
                }
            }
        };
        BlobError::new(kind, format!("{op} {url}: {what}"))
    }
}

/// Whether a SAS `se=` value (`2030-01-01`, `2030-01-01T10:00Z`, `2030-01-01T10:00:00Z`)
/// lies in the past.
fn sas_expired(se: &str) -> bool {
    let now = chrono::Utc::now();
    let parsed = chrono::DateTime::parse_from_rfc3339(se)
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(se, "%Y-%m-%dT%H:%MZ").map(|t| t.and_utc())
        })
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(se, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        });
    parsed.is_ok_and(|t| t < now)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

fn find_status(s: &str) -> Option<u16> {
    let i = s.find("status code: ")? + "status code: ".len();
    s.get(i..i + 3)?.parse().ok()
}

fn between(s: &str, a: &str, b: &str) -> Option<String> {
    let i = s.find(a)? + a.len();
    let j = s[i..].find(b)? + i;
    Some(s[i..j].to_string())
}

/// The last, most specific part of an error chain, without the request URL.
fn short(chain: &str) -> String {
    let parts: Vec<&str> = chain.split(": ").filter(|p| !p.trim().is_empty()).collect();
    let tail: Vec<&str> = parts.iter().rev().take(2).rev().copied().collect();
    let s = tail.join(": ");
    s.chars().take(300).collect()
}

/// Removes anything secret from a message: SAS signatures (`sig=`), and the values of
/// `AccountKey=`/`SharedAccessSignature=` should a connection string ever reach one.
pub fn scrub(s: &str) -> String {
    let mut out = s.to_string();
    for marker in [
        "sig=",
        "AccountKey=",
        "SharedAccessSignature=",
        "account_key=",
        "sas_token=",
    ] {
        let mut from = 0;
        while let Some(i) = out[from..].find(marker) {
            let start = from + i + marker.len();
            let end = out[start..]
                .find(|c: char| {
                    c == '&'
                        || c == ';'
                        || c == '"'
                        || c == '\''
                        || c == ' '
                        || c == ')'
                        || c == '\n'
                        || c == '>'
                })
                .map_or(out.len(), |j| start + j);
            out.replace_range(start..end, "REDACTED");
            from = start + "REDACTED".len();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_signatures_and_keys() {
        let s =
            scrub("GET http://h/a/c/b?sv=2021&sig=abc%2Fdef&se=x failed; AccountKey=SECRET==;x");
        assert!(!s.contains("abc%2Fdef") && !s.contains("SECRET"), "{s}");
        assert!(s.contains("sig=REDACTED&se=x"));
    }

    #[test]
    fn sas_expiry() {
        assert!(sas_expired("2020-01-01T00:00:00Z"));
        assert!(sas_expired("2020-01-01"));
        assert!(sas_expired("2020-01-01T10:00Z"));
        assert!(!sas_expired("2999-01-01T00:00:00Z"));
        assert!(!sas_expired("garbage"));
    }

    #[test]
    fn status_and_code_are_found() {
        let c = "Error performing GET x in 2ms - Server returned non-2xx status code: 403 Forbidden: <?xml?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.\nRequestId:1</Message></Error>";
        assert_eq!(find_status(c), Some(403));
        assert_eq!(
            between(c, "<Code>", "</Code>").as_deref(),
            Some("AuthenticationFailed")
        );
    }
}
