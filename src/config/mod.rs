//! Configuration: blob URLs, driver settings from the fapl, config strings and environment.
//! Pure Rust; nothing here knows about HDF5 or C.
#![forbid(unsafe_code)]

pub mod process;
pub mod settings;
pub mod url;

pub use settings::{Credential, Key, Layer, Resolved, Tuning, resolve};
pub use url::{BlobUrl, parse as parse_url};

/// What can be wrong with a URL or a setting. Messages never carry secrets.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ConfigError {
    #[error("malformed blob URL {url}: {why}")]
    Url { url: String, why: String },
    #[error("bad setting {key:?} in {origin}: {why}")]
    Setting {
        origin: String,
        key: String,
        why: String,
    },
    #[error("{url}: no {what}")]
    Missing { url: String, what: String },
}

#[cfg(test)]
mod tests;
