//! Request and cache statistics, per open file and for the whole process.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of one open file (or, as [`GLOBAL`], of the process). All monotonic.
#[derive(Debug, Default)]
pub struct Stats {
    /// HTTP requests sent, retries included.
    pub requests: AtomicU64,
    /// Logical GETs (a GET retried three times is one GET and three requests).
    pub gets: AtomicU64,
    /// Response body bytes received.
    pub bytes: AtomicU64,
    /// Responses 429/503: the server asked us to slow down.
    pub throttled: AtomicU64,
    /// Pages served from the cache / fetched because they were missing.
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    /// Pages fetched ahead of any read (metadata crawl and sequential read-ahead).
    pub prefetched: AtomicU64,
    /// HDF5 read callbacks (a `read_vector` of 100 pieces is one) and the bytes they asked for.
    pub reads: AtomicU64,
    pub read_bytes: AtomicU64,
    /// Nanoseconds HDF5 spent waiting inside our read callbacks.
    pub wait_ns: AtomicU64,
}

/// Totals over every file this process opened.
pub static GLOBAL: LazyLock<Stats> = LazyLock::new(Stats::default);

/// A copy of the counters at one moment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub requests: u64,
    pub gets: u64,
    pub retries: u64,
    pub bytes: u64,
    pub throttled: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub prefetched: u64,
    pub reads: u64,
    pub read_bytes: u64,
    pub wait_ns: u64,
}

impl Stats {
    pub fn add_request(&self) {
        self.requests.fetch_add(1, Relaxed);
    }
    pub fn add_throttled(&self) {
        self.throttled.fetch_add(1, Relaxed);
    }
    pub fn add_bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Relaxed);
        GLOBAL.bytes.fetch_add(n, Relaxed);
    }
    pub fn add(&self, c: &AtomicU64, n: u64) {
        c.fetch_add(n, Relaxed);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let requests = self.requests.load(Relaxed);
        let gets = self.gets.load(Relaxed);
        StatsSnapshot {
            requests,
            gets,
            retries: requests.saturating_sub(gets),
            bytes: self.bytes.load(Relaxed),
            throttled: self.throttled.load(Relaxed),
            cache_hits: self.cache_hits.load(Relaxed),
            cache_misses: self.cache_misses.load(Relaxed),
            prefetched: self.prefetched.load(Relaxed),
            reads: self.reads.load(Relaxed),
            read_bytes: self.read_bytes.load(Relaxed),
            wait_ns: self.wait_ns.load(Relaxed),
        }
    }

    /// Adds a finished file's counters into the process totals (requests and bytes are
    /// counted there as they happen).
    pub fn fold_into_global(&self) {
        let s = self.snapshot();
        for (c, n) in [
            (&GLOBAL.gets, s.gets),
            (&GLOBAL.cache_hits, s.cache_hits),
            (&GLOBAL.cache_misses, s.cache_misses),
            (&GLOBAL.prefetched, s.prefetched),
            (&GLOBAL.reads, s.reads),
            (&GLOBAL.read_bytes, s.read_bytes),
            (&GLOBAL.wait_ns, s.wait_ns),
        ] {
            c.fetch_add(n, Relaxed);
        }
    }
}

impl std::fmt::Display for StatsSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests ({} GETs, {} retries, {} throttled), {:.2} MB received; HDF5 read {} times / {:.2} MB; \
             cache {} hits / {} misses, {} pages prefetched; {:.3} s waiting",
            self.requests,
            self.gets,
            self.retries,
            self.throttled,
            self.bytes as f64 / 1e6,
            self.reads,
            self.read_bytes as f64 / 1e6,
            self.cache_hits,
            self.cache_misses,
            self.prefetched,
            self.wait_ns as f64 / 1e9
        )
    }
}
