//! Credentials as sources: what a request must carry to be authorised, asked for before
//! every request so a source can renew what expires (bearer tokens), and told when the
//! server refused it. HSDS's Basic auth and API key are the static sources here; Azure AD
//! token sources implement the same trait.
//!
//! Header values are marked sensitive, so HTTP-level debug output never shows them, and
//! [`CredentialSource::describe`] never contains a secret.

use async_trait::async_trait;
use http::{HeaderName, HeaderValue};
use std::sync::Arc;

/// Why a source could not produce credentials. Messages never carry secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(pub String);

/// Headers that authorise one request.
pub type AuthHeaders = Vec<(HeaderName, HeaderValue)>;

#[async_trait]
pub trait CredentialSource: Send + Sync {
    /// The headers for the next request (fetching or renewing a token if needed).
    async fn headers(&self) -> Result<AuthHeaders, AuthError>;
    /// The server refused the last headers (401): drop anything cached, so the next call
    /// fetches anew. Static sources ignore it.
    fn rejected(&self) {}
    /// What this source is, without secrets, for messages ("HTTP Basic as alice").
    fn describe(&self) -> String;
}

/// Headers that never change: Basic auth, an API key, or nothing.
pub struct Static {
    headers: AuthHeaders,
    what: String,
}

fn sensitive(v: &str, what: &str) -> Result<HeaderValue, AuthError> {
    let mut h = HeaderValue::from_str(v).map_err(|_| {
        AuthError(format!(
            "{what} contains characters not allowed in a header"
        ))
    })?;
    h.set_sensitive(true);
    Ok(h)
}

impl Static {
    /// No credentials (anonymous access).
    pub fn none() -> Static {
        Static {
            headers: Vec::new(),
            what: "no credentials".into(),
        }
    }

    /// HSDS's (and h5pyd's) user name and password as HTTP Basic, and/or an API key
    /// (`X-Api-Key`), as configured.
    pub fn hsds(
        user: Option<&str>,
        password: Option<&str>,
        api_key: Option<&str>,
    ) -> Result<Static, AuthError> {
        let mut headers = Vec::new();
        let mut what = Vec::new();
        if let Some(user) = user {
            let raw = format!("{user}:{}", password.unwrap_or(""));
            let value = format!("Basic {}", base64(raw.as_bytes()));
            headers.push((
                http::header::AUTHORIZATION,
                sensitive(&value, "the user name or password")?,
            ));
            what.push(format!("HTTP Basic as {user}"));
        }
        if let Some(key) = api_key {
            headers.push((
                HeaderName::from_static("x-api-key"),
                sensitive(key, "the API key")?,
            ));
            what.push("an API key".to_string());
        }
        if what.is_empty() {
            return Ok(Static::none());
        }
        Ok(Static {
            headers,
            what: what.join(" and "),
        })
    }
}

#[async_trait]
impl CredentialSource for Static {
    async fn headers(&self) -> Result<AuthHeaders, AuthError> {
        Ok(self.headers.clone())
    }

    fn describe(&self) -> String {
        self.what.clone()
    }
}

/// A shared source.
pub type Source = Arc<dyn CredentialSource>;

/// Standard base64 with padding (RFC 4648), for Basic auth.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn hsds_headers_are_basic_and_api_key_and_sensitive() {
        let s = Static::hsds(Some("alice"), Some("pw:with=signs"), Some("k1")).unwrap();
        let h = crate::runtime::block_on(s.headers()).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].0, http::header::AUTHORIZATION);
        assert_eq!(
            h[0].1.to_str().unwrap(),
            format!("Basic {}", base64(b"alice:pw:with=signs"))
        );
        assert!(h.iter().all(|(_, v)| v.is_sensitive()));
        assert_eq!(h[1].0.as_str(), "x-api-key");
        let d = s.describe();
        assert!(d.contains("alice") && !d.contains("pw:with") && !d.contains("k1"));
        assert!(
            crate::runtime::block_on(Static::hsds(None, None, None).unwrap().headers())
                .unwrap()
                .is_empty()
        );
        assert!(Static::hsds(None, None, Some("bad\nkey")).is_err());
    }
}
