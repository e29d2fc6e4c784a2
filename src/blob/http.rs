//! The HTTP layer under `object_store`: one connection pool per timeout setting, shared by
//! every open file, counting requests per file and honouring `Retry-After`.

use super::stats::{GLOBAL, Stats};
use async_trait::async_trait;
use object_store::client::{
    ClientOptions, HttpClient, HttpConnector, HttpError, HttpRequest, HttpResponse, HttpService,
    ReqwestConnector,
};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

tokio::task_local! {
    /// Statistics of the file whose request is running in this task.
    pub static CURRENT: Arc<Stats>;
}

/// Longest `Retry-After` we wait for before letting the retry policy run: a server asking
/// for more is better reported to the user than waited on silently.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

static POOLS: LazyLock<Mutex<HashMap<(Duration, Duration), HttpClient>>> =
    LazyLock::new(Default::default);

#[derive(Debug)]
pub struct SharedConnector {
    key: (Duration, Duration),
}

impl SharedConnector {
    pub fn new(timeout: Duration, connect_timeout: Duration) -> Self {
        SharedConnector {
            key: (timeout, connect_timeout),
        }
    }
}

impl HttpConnector for SharedConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let mut pools = crate::sync::lock(&POOLS);
        if let Some(c) = pools.get(&self.key) {
            return Ok(c.clone());
        }
        let inner = ReqwestConnector::default().connect(options)?;
        let client = HttpClient::new(Counting { inner });
        pools.insert(self.key, client.clone());
        Ok(client)
    }
}

#[derive(Debug)]
struct Counting {
    inner: HttpClient,
}

#[async_trait]
impl HttpService for Counting {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let file = CURRENT.try_with(Arc::clone).ok();
        GLOBAL.add_request();
        if let Some(s) = &file {
            s.add_request();
        }
        let resp = self.inner.execute(req).await?;
        let status = resp.status().as_u16();
        if status == 429 || status == 503 {
            GLOBAL.add_throttled();
            if let Some(s) = &file {
                s.add_throttled();
            }
            if let Some(wait) = retry_after(resp.headers()) {
                // object_store retries after its own backoff; waiting here first makes the
                // retry respect the server's request.
                tokio::time::sleep(wait.min(MAX_RETRY_AFTER)).await;
            }
        }
        Ok(resp)
    }
}

/// `Retry-After` in seconds (Azure sends seconds; HTTP dates are not used by Azure Storage).
fn retry_after(h: &::http::HeaderMap) -> Option<Duration> {
    let v = h.get("retry-after")?;
    v.to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds() {
        let mut h = ::http::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
