//! h5blob: HDF5 straight out of Azure Blob Storage.
//!
//! Layers, with data flowing one way: HDF5 calls a callback in [`vfd`], which reads through
//! [`cache`], which fetches with [`blob`], configured by [`config`]. Only `vfd`, `capi`
//! and `h5` touch C; the rest is safe Rust, testable alone.

pub mod auth;
mod base64;
pub mod blob;
pub mod cache;
pub mod capi;
pub mod config;
pub mod h5;
pub mod hsds;
mod runtime;
mod sync;
pub mod vfd;
pub mod vol;
