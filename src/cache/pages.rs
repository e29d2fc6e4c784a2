//! The page cache shared by every open file: bounded in bytes, least recently used pages
//! evicted first, raw-data pages before metadata pages.

use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex};

/// (file version id, page number)
pub type PageKey = (u64, u64);

struct Entry {
    data: Bytes,
    tick: u64,
    meta: bool,
}

#[derive(Default)]
struct Inner {
    map: HashMap<PageKey, Entry>,
    lru_meta: BTreeMap<u64, PageKey>,
    lru_raw: BTreeMap<u64, PageKey>,
    tick: u64,
    bytes_meta: u64,
    bytes_raw: u64,
    capacity: u64,
}

/// Metadata may use at most this share of the cache while raw pages are present, so a huge
/// metadata crawl cannot starve data reads, and raw reads cannot push out metadata below it.
const META_SHARE: (u64, u64) = (3, 4);

pub struct PageCache {
    inner: Mutex<Inner>,
}

/// The process-wide cache.
pub static CACHE: LazyLock<PageCache> = LazyLock::new(|| PageCache {
    inner: Mutex::new(Inner::default()),
});

impl PageCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        crate::sync::lock(&self.inner)
    }

    /// Grows the capacity to at least `bytes` (the largest size any open file asked for).
    pub fn reserve(&self, bytes: u64) {
        let mut g = self.lock();
        g.capacity = g.capacity.max(bytes);
    }

    /// A cached page, marked as recently used.
    pub fn get(&self, key: PageKey) -> Option<Bytes> {
        let mut g = self.lock();
        g.tick += 1;
        let tick = g.tick;
        let e = g.map.get_mut(&key)?;
        let old = std::mem::replace(&mut e.tick, tick);
        let (data, meta) = (e.data.clone(), e.meta);
        let lru = if meta {
            &mut g.lru_meta
        } else {
            &mut g.lru_raw
        };
        lru.remove(&old);
        lru.insert(tick, key);
        Some(data)
    }

    pub fn contains(&self, key: PageKey) -> bool {
        self.lock().map.contains_key(&key)
    }

    /// Stores a page (its own allocation: a slice would pin a whole GET's buffer).
    pub fn insert(&self, key: PageKey, data: &[u8], meta: bool) {
        let mut g = self.lock();
        g.tick += 1;
        let tick = g.tick;
        let meta = meta || g.map.get(&key).is_some_and(|e| e.meta);
        g.remove(key);
        if data.len() as u64 > g.capacity {
            return;
        }
        let len = data.len() as u64;
        if meta {
            g.bytes_meta += len;
            g.lru_meta.insert(tick, key);
        } else {
            g.bytes_raw += len;
            g.lru_raw.insert(tick, key);
        }
        g.map.insert(
            key,
            Entry {
                data: Bytes::copy_from_slice(data),
                tick,
                meta,
            },
        );
        g.evict();
    }

    /// (bytes of metadata pages, bytes of raw pages, capacity)
    pub fn usage(&self) -> (u64, u64, u64) {
        let g = self.lock();
        (g.bytes_meta, g.bytes_raw, g.capacity)
    }
}

impl Inner {
    fn remove(&mut self, key: PageKey) {
        if let Some(e) = self.map.remove(&key) {
            if e.meta {
                self.bytes_meta -= e.data.len() as u64;
                self.lru_meta.remove(&e.tick);
            } else {
                self.bytes_raw -= e.data.len() as u64;
                self.lru_raw.remove(&e.tick);
            }
        }
    }

    fn evict(&mut self) {
        while self.bytes_meta + self.bytes_raw > self.capacity {
            let meta_over = self.bytes_meta * META_SHARE.1 > self.capacity * META_SHARE.0;
            let victim = if self.lru_raw.is_empty() || meta_over {
                self.lru_meta
                    .first_key_value()
                    .or_else(|| self.lru_raw.first_key_value())
            } else {
                self.lru_raw.first_key_value()
            };
            match victim.map(|(_, k)| *k) {
                Some(k) => self.remove(k),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(cap: u64) -> PageCache {
        let c = PageCache {
            inner: Mutex::new(Inner::default()),
        };
        c.reserve(cap);
        c
    }

    #[test]
    fn bounded_and_lru() {
        let c = cache(4 * 10);
        for p in 0..4 {
            c.insert((1, p), &[p as u8; 10], false);
        }
        assert!(c.get((1, 0)).is_some()); // 0 is now the most recent
        c.insert((1, 4), &[4; 10], false);
        assert!(!c.contains((1, 1)), "least recently used raw page evicted");
        assert!(c.contains((1, 0)) && c.contains((1, 4)));
        let (m, r, cap) = c.usage();
        assert!(m + r <= cap);
    }

    #[test]
    fn raw_pages_go_before_metadata() {
        let c = cache(4 * 10);
        c.insert((1, 0), &[0; 10], true);
        c.insert((1, 1), &[1; 10], false);
        c.insert((1, 2), &[2; 10], false);
        c.insert((1, 3), &[3; 10], false);
        c.insert((1, 4), &[4; 10], false);
        assert!(c.contains((1, 0)), "old metadata page kept");
        assert!(!c.contains((1, 1)));
    }

    #[test]
    fn metadata_cannot_fill_everything() {
        let c = cache(4 * 10);
        c.insert((1, 9), &[9; 10], false);
        for p in 0..6 {
            c.insert((1, p), &[0; 10], true);
        }
        let (m, _, cap) = c.usage();
        assert!(m <= cap);
        assert_eq!(c.get((1, 5)).unwrap()[0], 0);
    }

    #[test]
    fn page_larger_than_cache_is_not_kept() {
        let c = cache(5);
        c.insert((1, 0), &[0; 10], false);
        assert!(!c.contains((1, 0)));
    }
}
