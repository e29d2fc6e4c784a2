//! The driver's file access property struct, as C callers fill it.

use crate::blob::{BlobError, ErrorKind};
use crate::config::{Key, Layer};
use std::ffi::{CStr, c_char};

/// Version of [`H5FD_blob_fapl_t`] this library understands.
pub const H5FD_BLOB_FAPL_VERSION: i32 = 1;
/// Size of `H5FD_blob_fapl_t.account`, terminating NUL included.
pub const H5FD_BLOB_ACCOUNT_SIZE: usize = 128;
/// Size of `H5FD_blob_fapl_t.endpoint`, terminating NUL included.
pub const H5FD_BLOB_ENDPOINT_SIZE: usize = 1024;
/// Size of `H5FD_blob_fapl_t.account_key`, terminating NUL included.
pub const H5FD_BLOB_KEY_SIZE: usize = 256;
/// Size of `H5FD_blob_fapl_t.sas_token`, terminating NUL included.
pub const H5FD_BLOB_SAS_SIZE: usize = 2048;
/// Size of `H5FD_blob_fapl_t.config`, terminating NUL included.
pub const H5FD_BLOB_CONFIG_SIZE: usize = 4096;

/// Settings of the Blob VFD for `H5Pset_fapl_blob`. Strings are NUL-terminated UTF-8;
/// an empty string means "not set here" (lower-priority sources then apply: the driver
/// config string, then the environment).
#[repr(C)]
#[derive(Clone)]
pub struct H5FD_blob_fapl_t {
    /// Must be `H5FD_BLOB_FAPL_VERSION`.
    pub version: i32,
    /// Storage account name (for `az://` URLs).
    pub account: [c_char; H5FD_BLOB_ACCOUNT_SIZE],
    /// Blob service endpoint, e.g. `http://127.0.0.1:10000/devstoreaccount1`.
    pub endpoint: [c_char; H5FD_BLOB_ENDPOINT_SIZE],
    /// Shared key (account key) of `account`.
    pub account_key: [c_char; H5FD_BLOB_KEY_SIZE],
    /// Shared access signature, with or without the leading `?`.
    pub sas_token: [c_char; H5FD_BLOB_SAS_SIZE],
    /// Any other settings, `key=value;key=value`, as in the driver config string.
    pub config: [c_char; H5FD_BLOB_CONFIG_SIZE],
}

impl Default for H5FD_blob_fapl_t {
    fn default() -> Self {
        H5FD_blob_fapl_t {
            version: H5FD_BLOB_FAPL_VERSION,
            account: [0; H5FD_BLOB_ACCOUNT_SIZE],
            endpoint: [0; H5FD_BLOB_ENDPOINT_SIZE],
            account_key: [0; H5FD_BLOB_KEY_SIZE],
            sas_token: [0; H5FD_BLOB_SAS_SIZE],
            config: [0; H5FD_BLOB_CONFIG_SIZE],
        }
    }
}

fn field<'a>(buf: &'a [c_char], name: &str) -> Result<&'a str, BlobError> {
    // SAFETY: c_char and u8 have the same size and alignment.
    let bytes: &[u8] = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast(), buf.len()) };
    let s = CStr::from_bytes_until_nul(bytes).map_err(|_| {
        BlobError::new(
            ErrorKind::Config,
            format!("H5FD_blob_fapl_t.{name} is not NUL-terminated"),
        )
    })?;
    s.to_str().map_err(|_| {
        BlobError::new(
            ErrorKind::Config,
            format!("H5FD_blob_fapl_t.{name} is not UTF-8"),
        )
    })
}

/// Writes `v` NUL-terminated into `buf`, or fails naming the field when it does not fit.
fn put_field(buf: &mut [c_char], name: &str, v: &str) -> Result<(), BlobError> {
    if v.len() >= buf.len() || v.contains('\0') {
        return Err(BlobError::new(
            ErrorKind::Config,
            format!(
                "H5FD_blob_fapl_t.{name} holds at most {} bytes",
                buf.len() - 1
            ),
        ));
    }
    buf.fill(0);
    for (d, b) in buf.iter_mut().zip(v.bytes()) {
        *d = b as c_char;
    }
    Ok(())
}

impl H5FD_blob_fapl_t {
    /// Sets one setting by its config-string name (`account`, `cache_size`, ...): the
    /// struct's own field for account, endpoint, key and SAS, else a `key=value` item of
    /// `config`, replacing an earlier value of the same key.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), BlobError> {
        if value.contains(';') || name.contains([';', '=']) {
            return Err(BlobError::new(
                ErrorKind::Config,
                format!(
                    "setting {:?}: names cannot contain ';' or '=', values ';'",
                    name.split(['=', ';']).next().unwrap_or("")
                ),
            ));
        }
        // Validates the name (unknown names are an error listing the known ones).
        Layer::parse(&format!("{name}={value}"), "h5blob_fapl_set")?;
        let key = crate::config::settings::lookup(name);
        let slot = match key {
            Some(Key::Account) => Some(("account", &mut self.account[..])),
            Some(Key::Endpoint) => Some(("endpoint", &mut self.endpoint[..])),
            Some(Key::AccountKey) => Some(("account_key", &mut self.account_key[..])),
            Some(Key::Sas) => Some(("sas_token", &mut self.sas_token[..])),
            _ => None,
        };
        if let Some((fname, buf)) = slot {
            return put_field(buf, fname, value);
        }
        let lower = name.trim().to_ascii_lowercase();
        let same = |item: &str| {
            let n = item.split_once('=').map_or(item, |(n, _)| n).trim();
            match key {
                Some(k) => crate::config::settings::lookup(n) == Some(k),
                None => n.eq_ignore_ascii_case(&lower),
            }
        };
        let mut items: Vec<String> = field(&self.config, "config")?
            .split(';')
            .map(str::trim)
            .filter(|i| !i.is_empty() && !same(i))
            .map(str::to_string)
            .collect();
        items.push(format!("{}={}", name.trim(), value.trim()));
        put_field(&mut self.config, "config", &items.join(";"))
    }

    /// Checks the version and turns the struct into a settings layer.
    pub fn to_layer(&self) -> Result<Layer, BlobError> {
        if self.version != H5FD_BLOB_FAPL_VERSION {
            return Err(BlobError::new(
                ErrorKind::Config,
                format!(
                    "H5FD_blob_fapl_t.version is {} but this library understands version {H5FD_BLOB_FAPL_VERSION}",
                    self.version
                ),
            ));
        }
        let mut layer = Layer::parse(field(&self.config, "config")?, "H5FD_blob_fapl_t.config")?;
        for (key, buf, name) in [
            (Key::Account, &self.account[..], "account"),
            (Key::Endpoint, &self.endpoint[..], "endpoint"),
            (Key::AccountKey, &self.account_key[..], "account_key"),
            (Key::Sas, &self.sas_token[..], "sas_token"),
        ] {
            let v = field(buf, name)?.trim();
            if !v.is_empty() {
                layer
                    .values
                    .insert(key, v.trim_start_matches('?').to_string());
            }
        }
        Ok(layer)
    }
}
