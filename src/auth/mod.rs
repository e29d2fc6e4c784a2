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
    /// Whether it sends bearer tokens (which plain http must not carry).
    fn is_bearer(&self) -> bool {
        false
    }
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

    /// HSDS credentials as h5pyd sends them: an API key (`HS_API_KEY`, a token the caller
    /// obtained) as `Authorization: Bearer`, else the user name and password as HTTP Basic.
    pub fn hsds(
        user: Option<&str>,
        password: Option<&str>,
        api_key: Option<&str>,
    ) -> Result<Static, AuthError> {
        if let Some(key) = api_key {
            return Ok(Static {
                headers: vec![(
                    http::header::AUTHORIZATION,
                    sensitive(&format!("Bearer {key}"), "the API key")?,
                )],
                what: "a bearer token (HS_API_KEY)".into(),
            });
        }
        let Some(user) = user else {
            return Ok(Static::none());
        };
        let raw = format!("{user}:{}", password.unwrap_or(""));
        Ok(Static {
            headers: vec![(
                http::header::AUTHORIZATION,
                sensitive(
                    &format!("Basic {}", crate::base64::encode(raw.as_bytes())),
                    "the user name or password",
                )?,
            )],
            what: format!("HTTP Basic as {user}"),
        })
    }

    /// Whether the headers hold a bearer token (which plain http must not carry).
    pub fn is_bearer(&self) -> bool {
        self.headers
            .iter()
            .any(|(_, v)| v.as_bytes().starts_with(b"Bearer "))
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

    fn is_bearer(&self) -> bool {
        self.headers
            .iter()
            .any(|(_, v)| v.as_bytes().starts_with(b"Bearer "))
    }
}

/// A shared source.
pub type Source = Arc<dyn CredentialSource>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsds_headers_are_bearer_or_basic_as_h5pyd_sends_them() {
        let s = Static::hsds(Some("alice"), Some("pw:with=signs"), None).unwrap();
        let h = crate::runtime::block_on(s.headers()).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].0, http::header::AUTHORIZATION);
        assert_eq!(
            h[0].1.to_str().unwrap(),
            format!("Basic {}", crate::base64::encode(b"alice:pw:with=signs"))
        );
        assert!(h[0].1.is_sensitive() && !s.is_bearer());
        let d = s.describe();
        assert!(d.contains("alice") && !d.contains("pw:with"));
        // An API key wins over user and password and goes as a bearer token (h5pyd).
        let s = Static::hsds(Some("alice"), Some("pw"), Some("tok-123")).unwrap();
        let h = crate::runtime::block_on(s.headers()).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].1.to_str().unwrap(), "Bearer tok-123");
        assert!(h[0].1.is_sensitive() && s.is_bearer() && !s.describe().contains("tok-123"));
        assert!(
            crate::runtime::block_on(Static::hsds(None, None, None).unwrap().headers())
                .unwrap()
                .is_empty()
        );
        assert!(Static::hsds(None, None, Some("bad\nkey")).is_err());
    }
}
