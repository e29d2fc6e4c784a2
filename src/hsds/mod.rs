//! HSDS (the HDF Group's Highly Scalable Data Service) REST client and its configuration.
//! Pure Rust; the REST VOL connector (next) translates HDF5 calls into these requests.
#![forbid(unsafe_code)]

pub mod client;
pub mod config;

pub use client::{HsdsClient, HsdsError};
pub use config::{Endpoint, HsConfig};
