//! Blob URLs in every form users bring from Azure tools, parsed into one [`BlobUrl`].
//!
//! Accepted forms:
//! - `https://<acct>.blob.core.windows.net/<container>/<blob>[?<sas>]` (any cloud suffix,
//!   `privatelink` hosts, and `dfs` hosts, which are read through the blob endpoint)
//! - `http(s)://host[:port]/<acct>/<container>/<blob>[?<sas>]`: path-style custom
//!   endpoints (Azurite, private endpoints, proxies)
//! - `az://<container>/<blob>` and `azure://...`: account and endpoint from configuration
//! - `abfs[s]://<container>@<acct>.dfs.core.windows.net/<path>`
//! - `wasb[s]://<container>@<acct>.blob.core.windows.net/<path>`

use super::ConfigError;
use percent_encoding::percent_decode_str;

/// Where a blob lives. The SAS, when present, is kept apart so messages never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct BlobUrl {
    /// Storage account; `None` for `az://` URLs until configuration supplies it.
    pub account: Option<String>,
    pub container: String,
    /// Blob name inside the container, percent-decoded.
    pub blob: String,
    /// Base URL that requests go to, including the account segment for path-style
    /// endpoints (`http://127.0.0.1:10000/devstoreaccount1`). `None`: derive from account.
    pub endpoint: Option<String>,
    /// Shared access signature from the URL's query, without the leading `?`.
    pub sas: Option<String>,
}

impl std::fmt::Debug for BlobUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

impl BlobUrl {
    /// The URL as messages and statistics show it: no signature, ever.
    pub fn display(&self) -> String {
        let base = match (&self.endpoint, &self.account) {
            (Some(e), _) => e.trim_end_matches('/').to_string(),
            (None, Some(a)) => format!("https://{a}.blob.core.windows.net"),
            (None, None) => return format!("az://{}/{}", self.container, self.blob),
        };
        let sas = if self.sas.is_some() {
            "?<SAS redacted>"
        } else {
            ""
        };
        format!("{base}/{}/{}{sas}", self.container, self.blob)
    }
}

/// Parses any accepted form (module docs). Errors name the part that is wrong.
pub fn parse(input: &str) -> Result<BlobUrl, ConfigError> {
    let bad = |why: &str| ConfigError::Url {
        url: redact_query(input),
        why: why.to_string(),
    };
    let input = input.trim();
    let (scheme, rest) = input.split_once("://").ok_or_else(|| {
        bad("expected https://<account>.blob.core.windows.net/<container>/<blob>, az://<container>/<blob>, abfs[s]://, wasb[s]:// or http(s)://<host>/<account>/<container>/<blob>")
    })?;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (rest, _fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let scheme = scheme.to_ascii_lowercase();
    let sas = match query {
        None | Some("") => None,
        Some(q) if q.split('&').any(|kv| kv.starts_with("sig=")) => Some(q.to_string()),
        Some(_) => {
            return Err(bad(
                "the query string is not a shared access signature (no sig=)",
            ));
        }
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.is_empty() {
        return Err(bad("missing host or container"));
    }
    let mut url = match scheme.as_str() {
        "az" | "azure" => {
            let (container, blob) = (authority, path);
            BlobUrl {
                account: None,
                container: decode(container),
                blob: decode(blob),
                endpoint: None,
                sas: None,
            }
        }
        "abfs" | "abfss" | "wasb" | "wasbs" => {
            let (container, host) = authority.split_once('@').ok_or_else(|| {
                bad("expected <container>@<account>.<dfs|blob>.<suffix> after the scheme")
            })?;
            let (account, blob_host) = account_host(host).ok_or_else(|| {
                bad("host is not <account>.dfs.<suffix> or <account>.blob.<suffix>")
            })?;
            let proto = if scheme.ends_with('s') {
                "https"
            } else {
                "http"
            };
            BlobUrl {
                account: Some(account),
                container: decode(container),
                blob: decode(path),
                endpoint: Some(format!("{proto}://{blob_host}")),
                sas: None,
            }
        }
        "http" | "https" => {
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let hostname = host.split(':').next().unwrap_or(host);
            if let Some((account, blob_host)) = account_host(hostname) {
                let port = host.strip_prefix(hostname).unwrap_or("");
                let (container, blob) = path.split_once('/').unwrap_or((path, ""));
                BlobUrl {
                    account: Some(account),
                    container: decode(container),
                    blob: decode(blob),
                    endpoint: Some(format!("{scheme}://{blob_host}{port}")),
                    sas: None,
                }
            } else {
                let mut parts = path.splitn(3, '/');
                let account = parts.next().unwrap_or("");
                let container = parts.next().unwrap_or("");
                let blob = parts.next().unwrap_or("");
                if account.is_empty() {
                    return Err(bad(
                        "path-style URL needs /<account>/<container>/<blob> after the host",
                    ));
                }
                BlobUrl {
                    account: Some(decode(account)),
                    container: decode(container),
                    blob: decode(blob),
                    endpoint: Some(format!("{scheme}://{host}/{account}")),
                    sas: None,
                }
            }
        }
        other => return Err(bad(&format!("unsupported scheme {other}://"))),
    };
    url.sas = sas;
    if let Some(a) = &url.account {
        validate_account(a).map_err(|w| bad(&w))?;
    }
    validate_container(&url.container).map_err(|w| bad(&w))?;
    if url.blob.is_empty() || url.blob.ends_with('/') {
        return Err(bad("missing blob name after the container"));
    }
    Ok(url)
}

/// For `<account>.[privatelink.](blob|dfs).<suffix>` hosts: the account and the blob-service
/// host that requests go to (ADLS Gen2 `dfs` paths are read through the blob endpoint).
fn account_host(host: &str) -> Option<(String, String)> {
    let host = host.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let account = *labels.first()?;
    let privatelink = labels.get(1) == Some(&"privatelink");
    let service_at = if privatelink { 2 } else { 1 };
    let service = *labels.get(service_at)?;
    let suffix = labels.get(service_at + 1..)?.join(".");
    if (service != "blob" && service != "dfs") || !suffix.contains('.') {
        return None;
    }
    let label = if privatelink { "privatelink." } else { "" };
    Some((
        account.to_string(),
        format!("{account}.{label}blob.{suffix}"),
    ))
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Azure account names: 3 to 24 lowercase letters and digits.
pub fn validate_account(a: &str) -> Result<(), String> {
    if (3..=24).contains(&a.len())
        && a.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(format!(
            "account name {a:?} is not 3-24 lowercase letters and digits"
        ))
    }
}

/// Azure container names: 3 to 63 of lowercase letters, digits and single hyphens, or `$root`/`$web`.
pub fn validate_container(c: &str) -> Result<(), String> {
    if c.is_empty() {
        return Err("missing container name".into());
    }
    let ok = c == "$root"
        || c == "$web"
        || ((3..=63).contains(&c.len())
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !c.starts_with('-')
            && !c.ends_with('-')
            && !c.contains("--"));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "container name {c:?} is not 3-63 lowercase letters, digits and hyphens"
        ))
    }
}

/// A URL with its query replaced, for messages about URLs we could not parse.
pub fn redact_query(s: &str) -> String {
    match s.split_once('?') {
        Some((base, _)) => format!("{base}?<query redacted>"),
        None => s.to_string(),
    }
}
