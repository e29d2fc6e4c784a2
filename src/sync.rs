//! Locking that survives a poisoned mutex: a panic caught at the FFI boundary must not
//! turn every later call into another panic. The data these mutexes guard stays
//! consistent across a panic (caches, maps and counters updated in one step).
#![forbid(unsafe_code)]

use std::sync::{Mutex, MutexGuard};

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
