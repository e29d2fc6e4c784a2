//! HSDS connection settings, named and found the way h5pyd finds them, with the HDF Group
//! REST VOL's `HSDS_*` names as fallbacks.
//!
//! Precedence, highest first: `HS_*` environment variables, `HSDS_*` environment variables,
//! `./.hscfg`, `~/.hscfg`. A `.hscfg` line is `key = value` (the value may contain `=`);
//! `#` starts a comment; an empty value or `none` means unset.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where requests go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `http://host[:port]` or `https://...`, without a trailing slash.
    Tcp(String),
    /// `http+unix://<percent-encoded socket path>`: HSDS on a Unix socket.
    Unix(PathBuf),
}

impl Endpoint {
    /// Whether a bearer token may go to this endpoint: https, a Unix socket (never leaves
    /// the machine), or plain http to a loopback address when `H5BLOB_ALLOW_HTTP_TOKENS=1`.
    pub fn protects_tokens(&self) -> bool {
        match self {
            Endpoint::Unix(_) => true,
            Endpoint::Tcp(url) if url.starts_with("https://") => true,
            Endpoint::Tcp(url) => {
                let host = url::Url::parse(url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_default();
                let loopback = host == "localhost"
                    || host
                        .trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback());
                loopback
                    && crate::config::process::var("H5BLOB_ALLOW_HTTP_TOKENS")
                        .is_some_and(|v| v.trim() == "1")
            }
        }
    }

    pub fn parse(s: &str) -> Result<Endpoint, String> {
        let s = s.trim().trim_end_matches('/');
        if let Some(rest) = s.strip_prefix("http+unix://") {
            let path = percent_encoding::percent_decode_str(rest)
                .decode_utf8_lossy()
                .into_owned();
            if !path.starts_with('/') {
                return Err(format!(
                    "{s}: http+unix:// needs a percent-encoded absolute socket path (%2F...)"
                ));
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        if (s.starts_with("http://") || s.starts_with("https://")) && s.len() > "https://".len() {
            return Ok(Endpoint::Tcp(s.to_string()));
        }
        Err(format!(
            "{s:?} is not an http://, https:// or http+unix:// endpoint"
        ))
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(s) => f.write_str(s),
            Endpoint::Unix(p) => write!(f, "http+unix://{}", p.display()),
        }
    }
}

/// Settings for one HSDS server. `Debug` never shows the password or key.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HsConfig {
    pub endpoint: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub api_key: Option<String>,
    pub bucket: Option<String>,
    /// Azure AD settings, used by the identity layer.
    pub ad_app_id: Option<String>,
    pub ad_tenant_id: Option<String>,
    pub ad_resource_id: Option<String>,
    pub ad_client_secret: Option<String>,
    /// Which source set each value, for messages ("HS_ENDPOINT", "/home/u/.hscfg", ...).
    pub sources: BTreeMap<&'static str, String>,
}

impl std::fmt::Debug for HsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HsConfig")
            .field("endpoint", &self.endpoint)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("bucket", &self.bucket)
            .field("ad_app_id", &self.ad_app_id)
            .field("ad_tenant_id", &self.ad_tenant_id)
            .field("ad_resource_id", &self.ad_resource_id)
            .field(
                "ad_client_secret",
                &self.ad_client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// (field, .hscfg key / HS_ variable in lower case, vol-rest's variable)
const FIELDS: &[(&str, &str, &str)] = &[
    ("endpoint", "hs_endpoint", "HSDS_ENDPOINT"),
    ("username", "hs_username", "HSDS_USERNAME"),
    ("password", "hs_password", "HSDS_PASSWORD"),
    ("api_key", "hs_api_key", "HSDS_API_KEY"),
    ("bucket", "hs_bucket", "HSDS_BUCKET"),
    ("ad_app_id", "hs_ad_app_id", "HSDS_AD_APP_ID"),
    ("ad_tenant_id", "hs_ad_tenant_id", "HSDS_AD_TENANT_ID"),
    ("ad_resource_id", "hs_ad_resource_id", "HSDS_AD_RESOURCE_ID"),
    (
        "ad_client_secret",
        "hs_ad_client_secret",
        "HSDS_AD_CLIENT_SECRET",
    ),
];

fn value(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty() && !v.eq_ignore_ascii_case("none")).then(|| v.to_string())
}

/// Parses a `.hscfg` file's text into (lower-case key, value).
pub fn parse_hscfg(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .filter_map(|(k, v)| value(v).map(|v| (k.trim().to_ascii_lowercase(), v)))
        .collect()
}

impl HsConfig {
    fn slot(&mut self, field: &str) -> &mut Option<String> {
        match field {
            "endpoint" => &mut self.endpoint,
            "username" => &mut self.username,
            "password" => &mut self.password,
            "api_key" => &mut self.api_key,
            "bucket" => &mut self.bucket,
            "ad_app_id" => &mut self.ad_app_id,
            "ad_tenant_id" => &mut self.ad_tenant_id,
            "ad_resource_id" => &mut self.ad_resource_id,
            _ => &mut self.ad_client_secret,
        }
    }

    /// Reads the settings from `env` and the `.hscfg` files in `cwd` and `home`.
    pub fn load(
        env: impl Fn(&str) -> Option<String>,
        cwd: Option<&Path>,
        home: Option<&Path>,
    ) -> HsConfig {
        let mut cfg = HsConfig::default();
        let files: Vec<(String, BTreeMap<String, String>)> = [cwd, home]
            .into_iter()
            .flatten()
            .map(|d| d.join(".hscfg"))
            .filter_map(|p| {
                std::fs::read_to_string(&p)
                    .ok()
                    .map(|t| (p.display().to_string(), parse_hscfg(&t)))
            })
            .collect();
        for (field, key, volrest) in FIELDS {
            let upper = key.to_ascii_uppercase();
            let found = env(&upper)
                .and_then(|v| value(&v))
                .map(|v| (v, upper.clone()))
                .or_else(|| {
                    env(volrest)
                        .and_then(|v| value(&v))
                        .map(|v| (v, volrest.to_string()))
                })
                .or_else(|| {
                    files
                        .iter()
                        .find_map(|(path, kv)| kv.get(*key).map(|v| (v.clone(), path.clone())))
                });
            if let Some((v, source)) = found {
                *cfg.slot(field) = Some(v);
                cfg.sources.insert(field, source);
            }
        }
        cfg
    }

    /// From the process environment, the current directory and the home directory.
    pub fn from_process() -> HsConfig {
        let cwd = std::env::current_dir().ok();
        let home = std::env::var_os("HOME").map(PathBuf::from);
        // Settings made in this process (h5blob_config_set) win over the environment and
        // the files under any of a field's names.
        let mut here = HsConfig::load(crate::config::process::set_here, None, None);
        let mut cfg = HsConfig::load(crate::config::process::env, cwd.as_deref(), home.as_deref());
        for (field, _, _) in FIELDS {
            if let Some(v) = here.slot(field).take() {
                *cfg.slot(field) = Some(v);
                let name = here.sources.remove(field).unwrap_or_default();
                cfg.sources
                    .insert(field, format!("{name} (h5blob_config_set)"));
            }
        }
        cfg
    }

    /// The endpoint, parsed, or an error that says where to set it.
    pub fn endpoint(&self) -> Result<Endpoint, String> {
        let raw = self.endpoint.as_deref().ok_or(
            "no HSDS endpoint: set HS_ENDPOINT (or hs_endpoint in .hscfg, or HSDS_ENDPOINT)",
        )?;
        Endpoint::parse(raw).map_err(|e| match self.sources.get("endpoint") {
            Some(src) => format!("{e} (from {src})"),
            None => e,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bearer_tokens_go_only_where_they_are_protected() {
        let ok = |s: &str| Endpoint::parse(s).unwrap().protects_tokens();
        assert!(ok("https://hsds.example.org"));
        assert!(ok("http+unix://%2Ftmp%2Fsn_1.sock"));
        assert!(!ok("http://hsds.example.org"));
        // Loopback over http only when explicitly allowed.
        assert!(!ok("http://127.0.0.1:5101"));
        crate::config::process::set("H5BLOB_ALLOW_HTTP_TOKENS", Some("1"));
        assert!(
            ok("http://127.0.0.1:5101") && ok("http://localhost:5101") && ok("http://[::1]:80")
        );
        assert!(!ok("http://10.0.0.1:5101"));
        crate::config::process::set("H5BLOB_ALLOW_HTTP_TOKENS", None);
    }

    use super::*;

    #[test]
    fn hscfg_lines() {
        let kv = parse_hscfg(
            "# comment\nhs_endpoint = http://hsds.example.org\nhs_password=a=b=c\n hs_bucket = none \nnonsense\n",
        );
        assert_eq!(kv["hs_endpoint"], "http://hsds.example.org");
        assert_eq!(kv["hs_password"], "a=b=c", "values may contain '='");
        assert!(!kv.contains_key("hs_bucket"), "'none' is unset");
    }

    #[test]
    fn precedence_env_then_volrest_then_cwd_then_home() {
        let dir = tempfile::tempdir().unwrap();
        let (cwd, home) = (dir.path().join("cwd"), dir.path().join("home"));
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(cwd.join(".hscfg"), "hs_username = from_cwd\n").unwrap();
        std::fs::write(
            home.join(".hscfg"),
            "hs_username = from_home\nhs_endpoint = http://home:5101\nhs_bucket = b1\n",
        )
        .unwrap();
        let env = |k: &str| match k {
            "HS_PASSWORD" => Some("pw-XYZ-123".to_string()),
            "HSDS_ENDPOINT" => Some("http+unix://%2Ftmp%2Fsn_1.sock".to_string()),
            "HSDS_USERNAME" => Some("".to_string()),
            _ => None,
        };
        let c = HsConfig::load(env, Some(&cwd), Some(&home));
        assert_eq!(c.username.as_deref(), Some("from_cwd"));
        assert_eq!(c.password.as_deref(), Some("pw-XYZ-123"));
        assert_eq!(c.bucket.as_deref(), Some("b1"));
        assert_eq!(
            c.endpoint().unwrap(),
            Endpoint::Unix("/tmp/sn_1.sock".into())
        );
        assert_eq!(c.sources["endpoint"], "HSDS_ENDPOINT");
        assert!(!format!("{c:?}").contains("pw-XYZ-123"));
        let c = HsConfig::load(
            |k| (k == "HS_ENDPOINT").then(|| "http://x:1/".to_string()),
            None,
            Some(&home),
        );
        assert_eq!(c.endpoint().unwrap(), Endpoint::Tcp("http://x:1".into()));
    }

    #[test]
    fn endpoint_errors_say_where() {
        assert!(
            HsConfig::default()
                .endpoint()
                .unwrap_err()
                .contains("HS_ENDPOINT")
        );
        let c = HsConfig::load(
            |k| (k == "HS_ENDPOINT").then(|| "ftp://x".to_string()),
            None,
            None,
        );
        let e = c.endpoint().unwrap_err();
        assert!(
            e.contains("ftp://x") && e.contains("from HS_ENDPOINT"),
            "{e}"
        );
        assert!(Endpoint::parse("http+unix://relative.sock").is_err());
    }
}
