//! Driver settings: the keys users can set, where they come from, and how they combine.
//!
//! Sources, highest first: the fapl struct (`H5Pset_fapl_blob`), the driver config string
//! (`key=value;...`, from `H5Pset_driver_by_name`, `HDF5_DRIVER_CONFIG` or h5dump's
//! `--vfd-info`), then the environment. A config string may also be an Azure connection
//! string: its keys (`AccountName`, `AccountKey`, `BlobEndpoint`, ...) are accepted as-is.

use super::ConfigError;
use std::collections::BTreeMap;
use std::time::Duration;

/// The well-known Azurite development account (`UseDevelopmentStorage=true`). Public by design.
pub const DEV_ACCOUNT: &str = "devstoreaccount1";
const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const DEV_ENDPOINT: &str = "http://127.0.0.1:10000/devstoreaccount1";

/// Every setting the driver understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Account,
    AccountKey,
    Sas,
    Endpoint,
    ConnectionString,
    Anonymous,
    CacheSize,
    PageSize,
    MaxRequests,
    MaxMerge,
    Readahead,
    MetaPrefetch,
    HeadSize,
    Timeout,
    ConnectTimeout,
    Retries,
    RetryTimeout,
    Stats,
    // Connection-string-only keys.
    DefaultEndpointsProtocol,
    EndpointSuffix,
    UseDevelopmentStorage,
}

/// A setting: key, config-string name, accepted aliases (case-insensitive), environment
/// variables (first set wins), and whether its value is a secret.
struct KeyDef(
    Key,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    bool,
);

const KEYS: &[KeyDef] = &[
    KeyDef(
        Key::Account,
        "account",
        &["accountname", "account_name"],
        &["AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT"],
        false,
    ),
    KeyDef(
        Key::AccountKey,
        "account_key",
        &["accountkey", "key"],
        &["AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT_KEY"],
        true,
    ),
    KeyDef(
        Key::Sas,
        "sas_token",
        &["sas", "sharedaccesssignature"],
        &["AZURE_STORAGE_SAS_TOKEN"],
        true,
    ),
    KeyDef(
        Key::Endpoint,
        "endpoint",
        &["blobendpoint", "blob_endpoint"],
        &["H5BLOB_ENDPOINT"],
        false,
    ),
    KeyDef(
        Key::ConnectionString,
        "connection_string",
        &[],
        &["AZURE_STORAGE_CONNECTION_STRING"],
        true,
    ),
    KeyDef(
        Key::Anonymous,
        "anonymous",
        &[],
        &["H5BLOB_ANONYMOUS"],
        false,
    ),
    KeyDef(
        Key::CacheSize,
        "cache_size",
        &[],
        &["H5BLOB_CACHE_SIZE"],
        false,
    ),
    KeyDef(
        Key::PageSize,
        "page_size",
        &[],
        &["H5BLOB_PAGE_SIZE"],
        false,
    ),
    KeyDef(
        Key::MaxRequests,
        "max_requests",
        &[],
        &["H5BLOB_MAX_REQUESTS"],
        false,
    ),
    KeyDef(
        Key::MaxMerge,
        "max_merge",
        &[],
        &["H5BLOB_MAX_MERGE"],
        false,
    ),
    KeyDef(
        Key::Readahead,
        "readahead",
        &[],
        &["H5BLOB_READAHEAD"],
        false,
    ),
    KeyDef(
        Key::MetaPrefetch,
        "meta_prefetch",
        &[],
        &["H5BLOB_META_PREFETCH"],
        false,
    ),
    KeyDef(
        Key::HeadSize,
        "head_size",
        &[],
        &["H5BLOB_HEAD_SIZE"],
        false,
    ),
    KeyDef(Key::Timeout, "timeout", &[], &["H5BLOB_TIMEOUT"], false),
    KeyDef(
        Key::ConnectTimeout,
        "connect_timeout",
        &[],
        &["H5BLOB_CONNECT_TIMEOUT"],
        false,
    ),
    KeyDef(Key::Retries, "retries", &[], &["H5BLOB_RETRIES"], false),
    KeyDef(
        Key::RetryTimeout,
        "retry_timeout",
        &[],
        &["H5BLOB_RETRY_TIMEOUT"],
        false,
    ),
    KeyDef(Key::Stats, "stats", &[], &["H5BLOB_STATS"], false),
    KeyDef(
        Key::DefaultEndpointsProtocol,
        "defaultendpointsprotocol",
        &[],
        &[],
        false,
    ),
    KeyDef(Key::EndpointSuffix, "endpointsuffix", &[], &[], false),
    KeyDef(
        Key::UseDevelopmentStorage,
        "usedevelopmentstorage",
        &[],
        &[],
        false,
    ),
];

/// Names every config-string key, for error messages.
pub fn key_names() -> String {
    KEYS.iter()
        .take_while(|k| k.0 != Key::DefaultEndpointsProtocol)
        .map(|k| k.1)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn lookup(name: &str) -> Option<Key> {
    let n = name.trim().to_ascii_lowercase();
    KEYS.iter()
        .find(|k| k.1 == n || k.2.contains(&n.as_str()))
        .map(|k| k.0)
}

fn is_secret(key: Key) -> bool {
    KEYS.iter().any(|k| k.0 == key && k.4)
}

/// Values of one source. Per-account credentials (`account_key.<acct>`, `sas_token.<acct>`)
/// let one process read from several accounts, as hadoop-azure's per-account keys do.
#[derive(Clone, Default)]
pub struct Layer {
    pub values: BTreeMap<Key, String>,
    pub account_keys: BTreeMap<String, String>,
    pub account_sas: BTreeMap<String, String>,
}

impl std::fmt::Debug for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.values {
            m.entry(
                k,
                &if is_secret(*k) {
                    "<redacted>"
                } else {
                    v.as_str()
                },
            );
        }
        for a in self.account_keys.keys().chain(self.account_sas.keys()) {
            m.entry(&"per-account credential", a);
        }
        m.finish()
    }
}

impl Layer {
    /// Parses `key=value;key=value`. Values may contain `=`; unknown keys are an error that
    /// names the key. A `connection_string` value cannot contain `;`, so connection-string
    /// keys are accepted directly instead.
    pub fn parse(config: &str, source: &str) -> Result<Layer, ConfigError> {
        let mut layer = Layer::default();
        for item in config.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item.split_once('=').ok_or_else(|| ConfigError::Setting {
                origin: source.into(),
                key: item.chars().take(40).collect(),
                why: "expected key=value".into(),
            })?;
            let (name, value) = (name.trim(), value.trim());
            let lower = name.to_ascii_lowercase();
            if let Some(acct) = lower.strip_prefix("account_key.") {
                layer
                    .account_keys
                    .insert(acct.to_string(), value.to_string());
                continue;
            }
            if let Some(acct) = lower.strip_prefix("sas_token.") {
                layer
                    .account_sas
                    .insert(acct.to_string(), value.trim_start_matches('?').to_string());
                continue;
            }
            let key = lookup(name).ok_or_else(|| ConfigError::Setting {
                origin: source.into(),
                key: name.into(),
                why: format!(
                    "unknown key (known: {}, account_key.<account>, sas_token.<account>)",
                    key_names()
                ),
            })?;
            layer.values.insert(key, value.to_string());
        }
        layer.expand_connection_string(source)?;
        Ok(layer)
    }

    /// Reads the environment variables of every key.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
        let mut layer = Layer::default();
        for KeyDef(key, _, _, vars, _) in KEYS {
            if let Some(v) = vars
                .iter()
                .find_map(|v| get(v).filter(|s| !s.trim().is_empty()))
            {
                layer.values.insert(*key, v.trim().to_string());
            }
        }
        layer.expand_connection_string("environment (AZURE_STORAGE_CONNECTION_STRING)")?;
        Ok(layer)
    }

    /// Spreads a connection string into its keys; keys set explicitly in the same layer win.
    fn expand_connection_string(&mut self, source: &str) -> Result<(), ConfigError> {
        if let Some(cs) = self.values.remove(&Key::ConnectionString) {
            let inner = Layer::parse(&cs, source)?;
            for (k, v) in inner.values {
                self.values.entry(k).or_insert(v);
            }
        }
        Ok(())
    }

    /// `self` over `lower`: values of `self` win.
    pub fn over(&self, lower: &Layer) -> Layer {
        let mut out = lower.clone();
        out.values.extend(self.values.clone());
        out.account_keys.extend(self.account_keys.clone());
        out.account_sas.extend(self.account_sas.clone());
        out
    }
}

/// How requests for one account are signed.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// Shared key (account key): every request signed.
    SharedKey(String),
    /// Shared access signature, without the leading `?`.
    Sas(String),
    /// No signature: public containers, or a SAS carried in the URL itself.
    Anonymous,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::SharedKey(_) => "shared key",
            Credential::Sas(_) => "SAS",
            Credential::Anonymous => "anonymous",
        })
    }
}

/// Performance and robustness knobs, each default explained.
#[derive(Clone, Debug, PartialEq)]
pub struct Tuning {
    /// Size of the page cache shared by every open file (bytes). 256 MiB holds the
    /// metadata of very large files and a few hundred raw chunks without pressuring RAM.
    pub cache_bytes: u64,
    /// Cache page (bytes). 64 KiB: HDF5 metadata blocks are 2 KiB-aligned and clustered,
    /// so a page usually carries several objects; raw reads merge pages anyway.
    pub page_size: u64,
    /// GETs in flight at once, process-wide. 32 keeps a 20 ms link busy without tripping
    /// Azure's per-blob throttling (about 500 requests/s per blob).
    pub max_requests: usize,
    /// Largest single GET built by merging neighbouring pages (bytes). 8 MiB: large enough
    /// that per-request latency is amortised, small enough that 32 of them run in parallel.
    pub max_merge: u64,
    /// Largest read-ahead window for sequential raw reads (bytes); 0 disables read-ahead.
    pub readahead: u64,
    /// Budget for metadata prefetch per open file (bytes): object headers, symbol-table
    /// nodes, B-tree nodes and heaps found in metadata already read. 0 disables it.
    pub meta_prefetch: u64,
    /// Bytes fetched by the single GET at open (size, ETag and the superblock in one go).
    pub head_size: u64,
    /// Whole-request timeout for one GET.
    pub timeout: Duration,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Retries for 408/429/5xx/connect errors/timeouts, with exponential backoff.
    pub retries: usize,
    /// Give up retrying a request after this long.
    pub retry_timeout: Duration,
    /// Print per-file statistics to stderr at close.
    pub stats: bool,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            cache_bytes: 256 << 20,
            page_size: 64 << 10,
            max_requests: 32,
            max_merge: 8 << 20,
            readahead: 32 << 20,
            meta_prefetch: 64 << 20,
            head_size: 64 << 10,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            retries: 5,
            retry_timeout: Duration::from_secs(120),
            stats: false,
        }
    }
}

/// Everything needed to open one blob.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub account: String,
    pub container: String,
    pub blob: String,
    /// Base URL for requests, including the account segment for path-style endpoints.
    pub endpoint: String,
    pub credential: Credential,
    pub tuning: Tuning,
    /// The URL as messages show it (no signature).
    pub display: String,
}

/// Combines a parsed URL with the settings layers (highest first) into what to open.
pub fn resolve(url: &super::BlobUrl, layers: &[&Layer]) -> Result<Resolved, ConfigError> {
    let merged = layers
        .iter()
        .rev()
        .fold(Layer::default(), |acc, l| l.over(&acc));
    let get = |k: Key| merged.values.get(&k).map(String::as_str);
    let dev = get(Key::UseDevelopmentStorage).is_some_and(|v| parse_bool(v).unwrap_or(false));

    let account = url
        .account
        .clone()
        .or_else(|| get(Key::Account).map(str::to_string))
        .or_else(|| dev.then(|| DEV_ACCOUNT.to_string()))
        .ok_or_else(|| ConfigError::Missing {
            url: url.display(),
            what: "storage account: give it in the URL, as account=... in the driver config, or in AZURE_STORAGE_ACCOUNT_NAME".into(),
        })?;
    super::url::validate_account(&account).map_err(|why| ConfigError::Url {
        url: url.display(),
        why,
    })?;

    let endpoint = match &url.endpoint {
        Some(e) => e.clone(),
        None => match get(Key::Endpoint) {
            Some(e) => e.trim_end_matches('/').to_string(),
            None if dev => DEV_ENDPOINT.to_string(),
            None => {
                let proto = get(Key::DefaultEndpointsProtocol).unwrap_or("https");
                let suffix = get(Key::EndpointSuffix).unwrap_or("core.windows.net");
                format!("{proto}://{account}.blob.{suffix}")
            }
        },
    };
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(ConfigError::Setting {
            origin: "endpoint".into(),
            key: "endpoint".into(),
            why: format!("{endpoint:?} is not an http(s) URL"),
        });
    }

    let anonymous = get(Key::Anonymous)
        .map(parse_bool)
        .transpose()
        .map_err(|why| ConfigError::Setting {
            origin: "settings".into(),
            key: "anonymous".into(),
            why,
        })?;
    let credential = if let Some(sas) = &url.sas {
        Credential::Sas(sas.clone())
    } else if anonymous == Some(true) {
        Credential::Anonymous
    } else {
        layers
            .iter()
            .find_map(|l| layer_credential(l, &account, dev))
            .unwrap_or(Credential::Anonymous)
    };

    let display = super::BlobUrl {
        account: Some(account.clone()),
        endpoint: Some(endpoint.clone()),
        ..url.clone()
    }
    .display();
    Ok(Resolved {
        account,
        container: url.container.clone(),
        blob: url.blob.clone(),
        endpoint,
        credential,
        tuning: tuning(&merged)?,
        display,
    })
}

/// The highest source that names a credential for `account` decides; within a source an
/// account key wins over a SAS. A key configured for another account is never sent.
fn layer_credential(l: &Layer, account: &str, dev: bool) -> Option<Credential> {
    if let Some(k) = l.account_keys.get(account) {
        return Some(Credential::SharedKey(k.clone()));
    }
    if let Some(s) = l.account_sas.get(account) {
        return Some(Credential::Sas(s.clone()));
    }
    let layer_account = l.values.get(&Key::Account).map(String::as_str);
    let layer_dev = l
        .values
        .get(&Key::UseDevelopmentStorage)
        .is_some_and(|v| parse_bool(v).unwrap_or(false));
    if layer_dev && dev && account == DEV_ACCOUNT && !l.values.contains_key(&Key::AccountKey) {
        return Some(Credential::SharedKey(DEV_KEY.to_string()));
    }
    if layer_account.is_some_and(|a| a != account) {
        return None;
    }
    if let Some(k) = l.values.get(&Key::AccountKey) {
        return Some(Credential::SharedKey(k.clone()));
    }
    l.values
        .get(&Key::Sas)
        .map(|s| Credential::Sas(s.trim_start_matches('?').to_string()))
}

fn tuning(l: &Layer) -> Result<Tuning, ConfigError> {
    let mut t = Tuning::default();
    let err = |k: &str, why: String| ConfigError::Setting {
        origin: "settings".into(),
        key: k.into(),
        why,
    };
    for (key, v) in &l.values {
        let name = KEYS
            .iter()
            .find(|k| k.0 == *key)
            .map(|k| k.1)
            .unwrap_or("?");
        let size = || parse_size(v).map_err(|w| err(name, w));
        let secs = || parse_secs(v).map_err(|w| err(name, w));
        match key {
            Key::CacheSize => t.cache_bytes = size()?,
            Key::PageSize => {
                let p = size()?;
                if !(4096..=(16 << 20)).contains(&p) || !p.is_power_of_two() {
                    return Err(err(
                        name,
                        format!("{p} is not a power of two between 4 KiB and 16 MiB"),
                    ));
                }
                t.page_size = p;
            }
            Key::MaxRequests => {
                t.max_requests = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=1024).contains(n))
                    .ok_or_else(|| err(name, format!("{v:?} is not a number from 1 to 1024")))?
            }
            Key::MaxMerge => t.max_merge = size()?.max(1),
            Key::Readahead => t.readahead = size()?,
            Key::MetaPrefetch => t.meta_prefetch = size()?,
            Key::HeadSize => t.head_size = size()?.clamp(512, 16 << 20),
            Key::Timeout => t.timeout = secs()?,
            Key::ConnectTimeout => t.connect_timeout = secs()?,
            Key::RetryTimeout => t.retry_timeout = secs()?,
            Key::Retries => {
                t.retries = v
                    .parse()
                    .ok()
                    .filter(|n| *n <= 100)
                    .ok_or_else(|| err(name, format!("{v:?} is not a number from 0 to 100")))?
            }
            Key::Stats => t.stats = parse_bool(v).map_err(|w| err(name, w))?,
            _ => {}
        }
    }
    if t.max_merge < t.page_size {
        t.max_merge = t.page_size;
    }
    Ok(t)
}

/// `1`, `true`, `yes`, `on` and their opposites.
pub fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(format!("{v:?} is not true/false")),
    }
}

/// Byte sizes: `65536`, `64K`, `64KiB`, `256M`, `1G` (binary multiples).
pub fn parse_size(v: &str) -> Result<u64, String> {
    let s = v.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{v:?} is not a size like 65536, 64K, 256M or 1G"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("{v:?} is not a size like 65536, 64K, 256M or 1G")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{v:?} is too large"))
}

/// Seconds, fractional allowed: `30`, `2.5`.
pub fn parse_secs(v: &str) -> Result<Duration, String> {
    v.trim()
        .trim_end_matches('s')
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e6)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{v:?} is not a positive number of seconds"))
}
