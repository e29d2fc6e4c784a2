//! One open blob: page lookups, fetches of what is missing, and fetching ahead.

use super::hints::{self, Format, Hint, Kind};
use super::pages::CACHE;
use super::plan::plan;
use crate::blob::{BlobClient, BlobError, ErrorKind};
use crate::config::{Resolved, Tuning};
use crate::runtime;
use bytes::Bytes;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared, join_all};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Instant;
use tokio::sync::Semaphore;

/// What HDF5 says a read is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemKind {
    /// Raw dataset values.
    Raw,
    /// An object header read.
    ObjectHeader,
    /// Any other metadata (superblock, B-trees, heaps, ...).
    Metadata,
}

/// A GET in flight, awaited by every read that needs one of its pages.
type Fetch = Shared<BoxFuture<'static, Result<Arc<Fetched>, BlobError>>>;

struct Fetched {
    first_page: u64,
    data: Bytes,
}

/// Pages of a gap this small between two missing runs are fetched along with them.
const MAX_GAP_PAGES: u64 = 1;

/// Cache namespaces: one per (URL, ETag, page size), so a reopened unchanged blob finds
/// its pages, a replaced blob never sees the old version's, and pages of different sizes
/// never mix.
type VersionKey = (String, String, u64);
static IDS: LazyLock<Mutex<HashMap<VersionKey, u64>>> = LazyLock::new(Default::default);

fn version_id(url: &str, etag: Option<&str>, page: u64) -> u64 {
    let mut ids = crate::sync::lock(&IDS);
    let n = ids.len() as u64 + 1;
    match etag {
        Some(e) => *ids
            .entry((url.to_string(), e.to_string(), page))
            .or_insert(n),
        // No ETag: no way to know the blob is unchanged, so never share pages.
        None => {
            ids.insert((url.to_string(), format!("#{n}"), page), n);
            n
        }
    }
}

pub struct RemoteFile {
    client: BlobClient,
    /// Blob size at open.
    pub size: u64,
    etag: Option<String>,
    id: u64,
    page: u64,
    tuning: Tuning,
    /// Page -> (first page of the GET bringing it, the GET).
    inflight: Mutex<HashMap<u64, (u64, Fetch)>>,
    slots: Semaphore,
    /// Sequential-read detector: end of the last raw read, the current window, and the end
    /// of what has been fetched ahead.
    seq: Mutex<Seq>,
    /// Sizes of addresses and lengths, and the superblock's base address.
    format: Format,
    base: u64,
    crawled: Mutex<HashSet<u64>>,
    crawl_left: AtomicU64,
    closed: AtomicBool,
}

impl RemoteFile {
    /// Opens a blob with one GET of its head: size, ETag and first pages in one round trip.
    pub fn open(r: &Resolved) -> Result<Arc<RemoteFile>, BlobError> {
        let client = BlobClient::new(r)?;
        let t = r.tuning.clone();
        let page = t.page_size;
        let head_len = t.head_size.div_ceil(page).max(1) * page;
        let started = Instant::now();
        let head = runtime::block_on(client.head(head_len))?;
        let id = version_id(&client.display, head.etag.as_deref(), page);
        let Some((format, base, found)) = hints::superblock(&head.data, head.size) else {
            return Err(BlobError::new(
                ErrorKind::NotHdf5,
                format!(
                    "{}: not an HDF5 file (no HDF5 signature in its first {} bytes; blob size {})",
                    client.display,
                    head.data.len(),
                    head.size
                ),
            ));
        };
        CACHE.reserve(t.cache_bytes);
        let file = Arc::new(RemoteFile {
            size: head.size,
            etag: head.etag,
            id,
            page,
            inflight: Mutex::new(HashMap::new()),
            slots: Semaphore::new(t.max_requests),
            seq: Mutex::new(Seq::default()),
            format,
            base,
            crawled: Mutex::new(HashSet::new()),
            crawl_left: AtomicU64::new(t.meta_prefetch),
            closed: AtomicBool::new(false),
            tuning: t,
            client,
        });
        file.client.stats.add(
            &file.client.stats.wait_ns,
            started.elapsed().as_nanos() as u64,
        );
        file.store_pages(0, &head.data, true);
        file.prefetch(found);
        Ok(file)
    }

    /// Hints from bytes holding a structure (of `kind`, or recognised by signature),
    /// with addresses made absolute.
    fn hints_at(&self, bytes: &[u8], kind: Option<Kind>, ohdr_read: bool) -> Vec<Hint> {
        let mut h = hints::parse(bytes, kind, ohdr_read, self.format, self.size);
        if self.base > 0 {
            for x in h.iter_mut() {
                x.addr += self.base;
            }
            h.retain(|x| x.addr < self.size);
        }
        h
    }

    pub fn display(&self) -> &str {
        &self.client.display
    }

    pub fn stats(&self) -> &crate::blob::Stats {
        &self.client.stats
    }

    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    /// Stops fetching ahead; fetches already sent complete into the cache.
    pub fn close(&self) {
        self.closed.store(true, Relaxed);
        self.client.stats.fold_into_global();
    }

    /// Fills every `(address, buffer)` pair; bytes past the end of the blob read as zeros,
    /// as with HDF5's own drivers.
    pub fn read(
        self: &Arc<Self>,
        reqs: &mut [(u64, &mut [u8])],
        kind: MemKind,
    ) -> Result<(), BlobError> {
        let started = Instant::now();
        let stats = &self.client.stats;
        stats.add(&stats.reads, 1);
        stats.add(
            &stats.read_bytes,
            reqs.iter().map(|r| r.1.len() as u64).sum(),
        );
        let meta = kind != MemKind::Raw;
        let result = runtime::block_on(self.read_async(reqs, meta));
        stats.add(&stats.wait_ns, started.elapsed().as_nanos() as u64);
        result?;
        if self.closed.load(Relaxed) {
            return Ok(());
        }
        if meta {
            let mut found = Vec::new();
            for (addr, buf) in reqs.iter() {
                crate::sync::lock(&self.crawled).insert(*addr);
                found.extend(self.hints_at(buf, None, kind == MemKind::ObjectHeader));
            }
            self.prefetch(found);
        } else if reqs.len() == 1 {
            self.read_ahead(reqs[0].0, reqs[0].1.len() as u64);
        }
        Ok(())
    }

    async fn read_async(
        self: &Arc<Self>,
        reqs: &mut [(u64, &mut [u8])],
        meta: bool,
    ) -> Result<(), BlobError> {
        let mut wanted = BTreeSet::new();
        for (addr, buf) in reqs.iter() {
            let end = addr.saturating_add(buf.len() as u64).min(self.size);
            if *addr < end {
                wanted.extend(addr / self.page..end.div_ceil(self.page));
            }
        }
        let mut have: HashMap<u64, Bytes> = HashMap::new();
        let mut waits: Vec<Fetch> = Vec::new();
        let mut missing = Vec::new();
        {
            let inflight = crate::sync::lock(&self.inflight);
            // A GET in flight covers many pages: wait on each one once.
            let mut awaited = HashSet::new();
            for &p in &wanted {
                if let Some(d) = CACHE.get((self.id, p)) {
                    have.insert(p, d);
                } else if let Some((first, f)) = inflight.get(&p) {
                    if awaited.insert(*first) {
                        waits.push(f.clone());
                    }
                } else {
                    missing.push(p);
                }
            }
        }
        let stats = &self.client.stats;
        stats.add(&stats.cache_hits, have.len() as u64);
        stats.add(&stats.cache_misses, missing.len() as u64);
        let max_pages = (self.tuning.max_merge / self.page).max(1);
        for run in plan(&missing, MAX_GAP_PAGES, max_pages) {
            waits.push(self.fetch(run, meta, Vec::new()));
        }
        for done in join_all(waits).await {
            let done = done?;
            let n = done.data.len().div_ceil(self.page as usize) as u64;
            for p in done.first_page..done.first_page + n {
                if wanted.contains(&p) && !have.contains_key(&p) {
                    have.insert(p, self.slice(&done, p));
                }
            }
        }
        for (addr, buf) in reqs.iter_mut() {
            copy_out(*addr, buf, self.page, self.size, &have)?;
        }
        Ok(())
    }

    fn slice(&self, f: &Fetched, p: u64) -> Bytes {
        let from = ((p - f.first_page) * self.page) as usize;
        let to = (from + self.page as usize).min(f.data.len());
        f.data.slice(from..to)
    }

    /// Starts one GET for `pages` (clipped to the blob) and registers it as in flight.
    /// `crawl` lists structures inside it to parse for more hints once it arrives.
    fn fetch(self: &Arc<Self>, pages: Range<u64>, meta: bool, crawl: Vec<Hint>) -> Fetch {
        let mut inflight = crate::sync::lock(&self.inflight);
        let this = Arc::clone(self);
        let range = pages.start * self.page..(pages.end * self.page).min(self.size);
        let task_pages = pages.clone();
        let task = runtime::spawn(async move {
            let got = {
                let _slot = this.slots.acquire().await;
                this.client.get(range, this.etag.as_deref()).await
            };
            if let Ok(data) = &got {
                this.store_pages(task_pages.start, data, meta);
            }
            {
                let mut inflight = crate::sync::lock(&this.inflight);
                for p in task_pages.clone() {
                    inflight.remove(&p);
                }
            }
            let fetched = Arc::new(Fetched {
                first_page: task_pages.start,
                data: got?,
            });
            if !crawl.is_empty() && !this.closed.load(Relaxed) {
                this.crawl(&fetched, &crawl);
            }
            Ok(fetched)
        });
        let fut: Fetch = async move {
            task.await.unwrap_or_else(|e| {
                Err(BlobError::new(
                    ErrorKind::Internal,
                    format!("fetch task failed: {e}"),
                ))
            })
        }
        .boxed()
        .shared();
        for p in pages.clone() {
            inflight.insert(p, (pages.start, fut.clone()));
        }
        fut
    }

    fn store_pages(&self, first_page: u64, data: &[u8], meta: bool) {
        for (i, chunk) in data.chunks(self.page as usize).enumerate() {
            let p = first_page + i as u64;
            // A short page is only complete at the end of the blob.
            if chunk.len() as u64 == self.page || p * self.page + chunk.len() as u64 == self.size {
                CACHE.insert((self.id, p), chunk, meta);
            }
        }
    }

    /// Parses the hinted structures inside a fetched range and fetches what they point to.
    fn crawl(self: &Arc<Self>, fetched: &Fetched, crawl: &[Hint]) {
        let start = fetched.first_page * self.page;
        let mut found = Vec::new();
        for h in crawl {
            let Some(off) = h.addr.checked_sub(start) else {
                continue;
            };
            let Some(bytes) = fetched.data.get(off as usize..) else {
                continue;
            };
            found.extend(self.hints_at(bytes, Some(h.kind), true));
        }
        self.prefetch(found);
    }

    /// Fetches hinted structures not yet cached or in flight, merged into few GETs, within
    /// the file's metadata prefetch budget. Structures already cached are parsed at once.
    fn prefetch(self: &Arc<Self>, mut todo: Vec<Hint>) {
        let mut fresh: Vec<Hint> = Vec::new();
        let mut rounds = 0;
        while !todo.is_empty() && rounds < 64 {
            rounds += 1;
            let mut next = Vec::new();
            for h in todo.drain(..) {
                if h.kind != Kind::Bytes && !crate::sync::lock(&self.crawled).insert(h.addr) {
                    continue;
                }
                let last = (h.addr + h.len - 1) / self.page;
                let pages: Vec<u64> = (h.addr / self.page..=last).collect();
                if pages.iter().all(|&p| CACHE.contains((self.id, p))) {
                    if h.kind != Kind::Bytes {
                        next.extend(self.parse_cached(h));
                    }
                } else {
                    fresh.push(h);
                }
            }
            todo = next;
        }
        if fresh.is_empty() {
            return;
        }
        let pages: BTreeSet<u64> = fresh
            .iter()
            .flat_map(|h| h.addr / self.page..=(h.addr + h.len - 1) / self.page)
            .collect();
        self.fetch_missing(pages, true, &fresh);
    }

    /// Starts GETs, merged, for those of `pages` (ascending) neither cached nor in flight.
    /// Metadata fetches spend the crawl budget and carry the hints inside them, to be
    /// parsed on arrival; nobody waits for these GETs here.
    fn fetch_missing(
        self: &Arc<Self>,
        pages: impl IntoIterator<Item = u64>,
        meta: bool,
        hints: &[Hint],
    ) {
        let missing: Vec<u64> = {
            let inflight = crate::sync::lock(&self.inflight);
            pages
                .into_iter()
                .filter(|p| !inflight.contains_key(p) && !CACHE.contains((self.id, *p)))
                .collect()
        };
        let max_pages = (self.tuning.max_merge / self.page).max(1);
        for run in plan(&missing, MAX_GAP_PAGES, max_pages) {
            if meta {
                let bytes = (run.end - run.start) * self.page;
                let spent = self
                    .crawl_left
                    .fetch_update(Relaxed, Relaxed, |left| left.checked_sub(bytes));
                if spent.is_err() {
                    return;
                }
            }
            let (lo, hi) = (run.start * self.page, run.end * self.page);
            let inside: Vec<Hint> = hints
                .iter()
                .filter(|h| h.addr >= lo && h.addr < hi && h.kind != Kind::Bytes)
                .copied()
                .collect();
            let stats = &self.client.stats;
            stats.add(&stats.prefetched, run.end - run.start);
            let _started = self.fetch(run, meta, inside);
        }
    }

    fn parse_cached(&self, h: Hint) -> Vec<Hint> {
        let mut buf = vec![0u8; h.len as usize];
        let mut have = HashMap::new();
        for p in h.addr / self.page..=(h.addr + h.len - 1) / self.page {
            match CACHE.get((self.id, p)) {
                Some(d) => {
                    have.insert(p, d);
                }
                None => return Vec::new(),
            }
        }
        if copy_out(h.addr, &mut buf, self.page, self.size, &have).is_err() {
            return Vec::new();
        }
        self.hints_at(&buf, Some(h.kind), true)
    }

    /// Sequential raw reads (compressed chunks arrive one `read` at a time) grow a
    /// read-ahead window, doubling up to `readahead` bytes. Like the kernel's read-ahead,
    /// the next window is fetched when less than half of the current one is left ahead,
    /// so it goes out as a few large GETs rather than one per read.
    fn read_ahead(self: &Arc<Self>, addr: u64, len: u64) {
        if self.tuning.readahead == 0 {
            return;
        }
        let end = addr + len;
        let range = {
            let mut s = crate::sync::lock(&self.seq);
            let sequential =
                s.last_end != 0 && addr >= s.last_end && addr - s.last_end <= self.page;
            s.last_end = end;
            if !sequential {
                s.window = 0;
                s.ahead_end = 0;
                return;
            }
            s.window = (s.window.max(self.page * 4) * 2).min(self.tuning.readahead);
            let ahead = s.ahead_end.saturating_sub(end);
            if ahead >= s.window / 2 {
                return;
            }
            let from = s.ahead_end.max(end);
            let to = (end + s.window).min(self.size);
            s.ahead_end = to;
            from..to
        };
        if range.is_empty() {
            return;
        }
        self.fetch_missing(
            range.start / self.page..range.end.div_ceil(self.page),
            false,
            &[],
        );
    }
}

#[derive(Default)]
struct Seq {
    last_end: u64,
    window: u64,
    ahead_end: u64,
}

fn copy_out(
    addr: u64,
    buf: &mut [u8],
    page: u64,
    size: u64,
    have: &HashMap<u64, Bytes>,
) -> Result<(), BlobError> {
    let end = addr.saturating_add(buf.len() as u64);
    let mut pos = addr;
    while pos < end.min(size) {
        let p = pos / page;
        let data = have.get(&p).ok_or_else(|| {
            BlobError::new(ErrorKind::Internal, format!("page {p} missing after fetch"))
        })?;
        let off = (pos - p * page) as usize;
        let n = ((end.min(size) - pos) as usize).min(data.len().saturating_sub(off));
        if n == 0 {
            return Err(BlobError::new(
                ErrorKind::Internal,
                format!("page {p} shorter than expected"),
            ));
        }
        let dst = (pos - addr) as usize;
        buf[dst..dst + n].copy_from_slice(&data[off..off + n]);
        pos += n as u64;
    }
    if end > size {
        let from = (size.saturating_sub(addr) as usize).min(buf.len());
        buf[from..].fill(0);
    }
    Ok(())
}
