//! Blob client: ranged GETs against Azure Blob Storage through `object_store`, with the
//! ETag pinned, retries with backoff (and `Retry-After` honoured), one connection pool for
//! the process, and per-file request statistics.
#![forbid(unsafe_code)]

mod error;
mod http;
pub mod stats;

pub use error::{BlobError, ErrorKind, scrub};
pub use stats::{Stats, StatsSnapshot};

use crate::config::{Credential, Resolved};
use bytes::Bytes;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path;
use object_store::{BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, RetryConfig};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// What the first GET of a blob tells: its first bytes, its size and its version.
pub struct Head {
    pub data: Bytes,
    pub size: u64,
    pub etag: Option<String>,
}

/// One blob on one account, ready for ranged reads.
pub struct BlobClient {
    store: Arc<dyn ObjectStore>,
    path: Path,
    /// URL for messages: no signature.
    pub display: String,
    pub stats: Arc<Stats>,
    auth: AuthHint,
}

/// What an authorisation failure should be explained with.
#[derive(Clone, Debug, Default)]
pub struct AuthHint {
    pub anonymous: bool,
    /// `se=` of the SAS in use: expiry time, ISO 8601.
    pub sas_expiry: Option<String>,
}

impl BlobClient {
    pub fn new(r: &Resolved) -> Result<Self, BlobError> {
        let t = &r.tuning;
        // The connection pool is shared by every file, so it allows http for all; https is
        // still used whenever the endpoint says so.
        let options = ClientOptions::new()
            .with_allow_http(true)
            .with_timeout(t.timeout)
            .with_connect_timeout(t.connect_timeout);
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(15),
                base: 2.0,
            },
            max_retries: t.retries,
            retry_timeout: t.retry_timeout,
        };
        let mut b = MicrosoftAzureBuilder::new()
            .with_account(&r.account)
            .with_container_name(&r.container)
            .with_endpoint(r.endpoint.clone())
            .with_client_options(options)
            .with_retry(retry)
            .with_http_connector(http::SharedConnector::new(t.timeout, t.connect_timeout));
        b = match &r.credential {
            Credential::SharedKey(k) => b.with_access_key(k),
            Credential::Sas(s) => {
                b.with_config(object_store::azure::AzureConfigKey::SasKey, s.clone())
            }
            Credential::Anonymous => b.with_skip_signature(true),
        };
        let auth = AuthHint {
            anonymous: r.credential == Credential::Anonymous,
            sas_expiry: match &r.credential {
                Credential::Sas(s) => s.split('&').find_map(|kv| kv.strip_prefix("se=")).map(|v| {
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned()
                }),
                _ => None,
            },
        };
        let store = b
            .build()
            .map_err(|e| BlobError::from_store(e, "configure", &r.display, &auth))?;
        let path = Path::parse(&r.blob).unwrap_or_else(|_| Path::from(r.blob.as_str()));
        Ok(BlobClient {
            store: Arc::new(store),
            path,
            display: r.display.clone(),
            stats: Arc::new(Stats::default()),
            auth,
        })
    }

    /// One GET of the first `len` bytes: size from `Content-Range`, ETag, no HEAD request.
    pub async fn head(&self, len: u64) -> Result<Head, BlobError> {
        let opts = GetOptions {
            range: Some(GetRange::Bounded(0..len.max(1))),
            ..Default::default()
        };
        let res = self
            .counted(self.store.get_opts(&self.path, opts), "open")
            .await
            .map_err(|e| {
                if e.kind == ErrorKind::RangeNotSatisfiable {
                    BlobError::new(
                        ErrorKind::NotHdf5,
                        format!("{}: the blob is empty, not an HDF5 file", self.display),
                    )
                } else {
                    e
                }
            })?;
        let size = res.meta.size;
        let etag = res.meta.e_tag.clone();
        let want = res.range.end - res.range.start;
        let data = self.collect(res.bytes(), want, 0).await?;
        Ok(Head { data, size, etag })
    }

    /// GET of `range`, failing if the blob no longer has ETag `etag`.
    pub async fn get(&self, range: Range<u64>, etag: Option<&str>) -> Result<Bytes, BlobError> {
        let opts = GetOptions {
            range: Some(GetRange::Bounded(range.clone())),
            if_match: etag.map(str::to_string),
            ..Default::default()
        };
        let res = self
            .counted(self.store.get_opts(&self.path, opts), "read")
            .await?;
        let want = range.end - range.start;
        self.collect(res.bytes(), want, range.start).await
    }

    async fn counted<T>(
        &self,
        fut: impl std::future::Future<Output = object_store::Result<T>>,
        op: &str,
    ) -> Result<T, BlobError> {
        self.stats
            .gets
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let r = http::CURRENT.scope(self.stats.clone(), fut).await;
        r.map_err(|e| BlobError::from_store(e, op, &self.display, &self.auth))
    }

    /// Reads a response body and checks its length: a stream can end early with status 206.
    async fn collect(
        &self,
        body: impl std::future::Future<Output = object_store::Result<Bytes>>,
        want: u64,
        at: u64,
    ) -> Result<Bytes, BlobError> {
        let data = http::CURRENT
            .scope(self.stats.clone(), body)
            .await
            .map_err(|e| BlobError::from_store(e, "read", &self.display, &self.auth))?;
        if data.len() as u64 != want {
            return Err(BlobError::new(
                ErrorKind::Transport,
                format!(
                    "{}: short read at offset {at}: got {} of {want} bytes",
                    self.display,
                    data.len()
                ),
            ));
        }
        self.stats.add_bytes(data.len() as u64);
        Ok(data)
    }
}
