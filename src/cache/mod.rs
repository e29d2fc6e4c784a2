//! Reading a blob through the shared page cache: coalesced, parallel, prefetched.
#![forbid(unsafe_code)]

mod file;
pub mod hints;
pub mod pages;
pub mod plan;

pub use file::{MemKind, RemoteFile};
