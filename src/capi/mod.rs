//! Functions exported to C and .NET callers. Each runs inside the panic boundary, checks
//! every pointer for NULL, and writes outputs only on success.

use crate::blob::{BlobError, ErrorKind, StatsSnapshot, stats::GLOBAL};
use crate::h5::sys::{self, herr_t, hid_t, htri_t};
use crate::h5::{Major, arg_str, boundary};
use crate::vfd::{BlobFd, CLASS, H5FD_blob_fapl_t};
use std::collections::HashSet;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{LazyLock, Mutex};

static DRIVER_ID: AtomicI64 = AtomicI64::new(-1);

/// Files currently open through this library, so a handle can be checked before use.
pub(crate) static OPEN_FILES: LazyLock<Mutex<HashSet<usize>>> = LazyLock::new(Default::default);

/// The id `register` gives, registered once per library lifetime and cached in `cache`
/// (registered again if HDF5 was closed and reopened).
fn registered(
    cache: &AtomicI64,
    what: &str,
    register: impl FnOnce() -> hid_t,
) -> Result<hid_t, BlobError> {
    // SAFETY: H5open initialises the library if needed; harmless when already done.
    if unsafe { sys::H5open() } < 0 {
        return Err(BlobError::new(
            ErrorKind::Internal,
            "HDF5 failed to initialise",
        ));
    }
    let id = cache.load(Ordering::Acquire);
    // SAFETY: H5Iis_valid accepts any id value.
    if id > 0 && unsafe { sys::H5Iis_valid(id) } > 0 {
        return Ok(id);
    }
    let id = register();
    if id < 0 {
        return Err(BlobError::new(
            ErrorKind::Internal,
            format!("registering {what} with HDF5 failed"),
        ));
    }
    cache.store(id, Ordering::Release);
    Ok(id)
}

fn driver_id() -> Result<hid_t, BlobError> {
    // SAFETY: CLASS is a complete, static driver class table.
    registered(&DRIVER_ID, "the blob driver", || unsafe {
        sys::H5FDregister(&CLASS.0)
    })
}

/// Registers the Blob VFD (once) and returns its driver id, or a negative value on failure.
#[unsafe(no_mangle)]
pub extern "C" fn H5FD_blob_init() -> hid_t {
    boundary(c"H5FD_blob_init", Major::Vfl, -1, driver_id)
}

/// Makes `fapl_id` use the Blob VFD with the settings in `fa` (NULL: settings from the
/// environment only). Returns a negative value on failure, with the reason on HDF5's error stack.
///
/// # Safety
/// `fa` is NULL or points to a valid `H5FD_blob_fapl_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn H5Pset_fapl_blob(fapl_id: hid_t, fa: *const H5FD_blob_fapl_t) -> herr_t {
    boundary(c"H5Pset_fapl_blob", Major::Plist, -1, || {
        let id = driver_id()?;
        let default = H5FD_blob_fapl_t::default();
        // SAFETY: NULL or valid per the contract.
        let fa = unsafe { fa.as_ref() }.unwrap_or(&default);
        fa.to_layer()?; // reject a bad version or malformed strings now, not at open
        // SAFETY: HDF5 copies the struct through our fapl_copy.
        if unsafe { sys::H5Pset_driver(fapl_id, id, (fa as *const H5FD_blob_fapl_t).cast()) } < 0 {
            return Err(BlobError::new(
                ErrorKind::Config,
                "H5Pset_driver failed: is fapl_id a file access property list?",
            ));
        }
        Ok(0)
    })
}

/// Sets one Blob VFD setting on `fapl_id` by name, with no struct to lay out (for .NET and
/// other foreign callers): the names of the driver config string (`account`, `endpoint`,
/// `account_key`, `sas_token`, `cache_size`, `page_size`, `max_requests`, `timeout`, ...,
/// `account_key.<account>`; Azure connection-string names such as `AccountName` too).
/// Makes `fapl_id` use the Blob VFD if it does not yet, keeping settings set before.
/// Values cannot contain `;`. Returns a negative value on failure (an unknown name, a value
/// too long for its field), with the reason on HDF5's error stack; the fapl is then
/// unchanged.
///
/// # Safety
/// `key` and `value` are NULL (an error) or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h5blob_fapl_set(
    fapl_id: hid_t,
    key: *const c_char,
    value: *const c_char,
) -> herr_t {
    boundary(c"h5blob_fapl_set", Major::Plist, -1, || {
        // SAFETY: NULL-checked; NUL-terminated per the contract.
        let (key, value) = unsafe { (arg_str(key, "key")?, arg_str(value, "value")?) };
        let id = driver_id()?;
        // SAFETY: plain HDF5 calls on a caller-given id; the driver info of our driver is
        // our struct.
        let mut fa = unsafe {
            if sys::H5Pget_driver(fapl_id) == id {
                sys::H5Pget_driver_info(fapl_id)
                    .cast::<H5FD_blob_fapl_t>()
                    .as_ref()
                    .cloned()
                    .unwrap_or_default()
            } else {
                H5FD_blob_fapl_t::default()
            }
        };
        fa.set(key, value)?;
        // SAFETY: a valid struct; HDF5 copies it through our fapl_copy.
        unsafe { H5Pset_fapl_blob(fapl_id, &fa) }
            .ge(&0)
            .then_some(0)
            .ok_or_else(|| BlobError::new(ErrorKind::Config, "H5Pset_fapl_blob failed"))
    })
}

/// Sets a setting for this whole process, under the name of its environment variable
/// (`AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_KEY`, `HS_ENDPOINT`, `HS_USERNAME`,
/// `H5BLOB_CACHE_SIZE`, ...). Both plugins consult these before the environment, for files
/// opened afterwards; the environment itself is not touched (`setenv` is not thread-safe).
/// `value` NULL removes the setting, so the environment applies again. Returns a negative
/// value on failure (NULL or malformed name).
///
/// # Safety
/// `name` is NULL (an error) or a NUL-terminated string; `value` is NULL or one.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h5blob_config_set(name: *const c_char, value: *const c_char) -> herr_t {
    boundary(c"h5blob_config_set", Major::Plist, -1, || {
        // SAFETY: NULL-checked; NUL-terminated per the contract.
        let name = unsafe { arg_str(name, "name")? };
        if !crate::config::process::valid_name(name) {
            return Err(BlobError::new(
                ErrorKind::Config,
                format!(
                    "{:?} is not a setting name (no '=', spaces or empty names)",
                    name.split('=').next().unwrap_or("")
                ),
            ));
        }
        let value = if value.is_null() {
            None
        } else {
            // SAFETY: non-NULL and NUL-terminated per the contract.
            Some(unsafe { arg_str(value, "value")? })
        };
        crate::config::process::set(name, value);
        Ok(0)
    })
}

/// The value a setting has for this process: set with `h5blob_config_set`, else from the
/// environment. Returns 1 when it has one, 0 when not (outputs untouched), negative on
/// failure. When it has one: `*len` (if `len` is not NULL) receives its length in bytes,
/// and `buf` (if not NULL and `size` > 0) a NUL-terminated copy, cut to `size - 1` bytes.
/// The value may be a secret (a key or password the program set): handle it as such.
///
/// # Safety
/// `name` is NULL (an error) or a NUL-terminated string; `buf` is NULL or writable for
/// `size` bytes; `len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h5blob_config_get(
    name: *const c_char,
    buf: *mut c_char,
    size: usize,
    len: *mut usize,
) -> htri_t {
    boundary(c"h5blob_config_get", Major::Plist, -1, || {
        // SAFETY: NULL-checked; NUL-terminated per the contract.
        let name = unsafe { arg_str(name, "name")? };
        let Some(v) = crate::config::process::var(name) else {
            return Ok(0);
        };
        if !len.is_null() {
            // SAFETY: writable per the contract.
            unsafe { len.write(v.len()) };
        }
        if !buf.is_null() && size > 0 {
            let n = v.len().min(size - 1);
            // SAFETY: buf is writable for size bytes; n + 1 <= size.
            unsafe {
                std::ptr::copy_nonoverlapping(v.as_ptr().cast::<c_char>(), buf, n);
                buf.add(n).write(0);
            }
        }
        Ok(1)
    })
}

/// Copies the Blob VFD settings of `fapl_id` into `fa_out`. Fails if the fapl does not use
/// the Blob VFD with a settings struct.
///
/// # Safety
/// `fa_out` is NULL (an error) or points to writable memory for one `H5FD_blob_fapl_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn H5Pget_fapl_blob(fapl_id: hid_t, fa_out: *mut H5FD_blob_fapl_t) -> herr_t {
    boundary(c"H5Pget_fapl_blob", Major::Plist, -1, || {
        if fa_out.is_null() {
            return Err(BlobError::new(ErrorKind::Config, "fa_out is NULL"));
        }
        let id = driver_id()?;
        // SAFETY: plain HDF5 calls on a caller-given id.
        if unsafe { sys::H5Pget_driver(fapl_id) } != id {
            return Err(BlobError::new(
                ErrorKind::Config,
                "the file access property list does not use the blob driver",
            ));
        }
        let info = unsafe { sys::H5Pget_driver_info(fapl_id) }.cast::<H5FD_blob_fapl_t>();
        // SAFETY: the driver info of our driver is our struct.
        let info = unsafe { info.as_ref() }.ok_or_else(|| {
            BlobError::new(
                ErrorKind::Config,
                "the blob driver was set without a settings struct (by name or config string)",
            )
        })?;
        // SAFETY: fa_out is writable per the contract.
        unsafe { fa_out.write(info.clone()) };
        Ok(0)
    })
}

/// Request and cache statistics (all counters since the file was opened, or since the
/// process started for the totals).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct h5blob_stats_t {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Logical GETs.
    pub gets: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// Response bytes received.
    pub bytes: u64,
    /// 429/503 responses.
    pub throttled: u64,
    /// Page reads served from the cache.
    pub cache_hits: u64,
    /// Page reads that had to be fetched.
    pub cache_misses: u64,
    /// Pages fetched ahead of any read.
    pub prefetched: u64,
    /// Read calls from HDF5.
    pub reads: u64,
    /// Bytes those read calls asked for.
    pub read_bytes: u64,
    /// Seconds spent waiting inside read callbacks.
    pub wait_seconds: f64,
}

impl From<StatsSnapshot> for h5blob_stats_t {
    fn from(s: StatsSnapshot) -> Self {
        h5blob_stats_t {
            requests: s.requests,
            gets: s.gets,
            retries: s.retries,
            bytes: s.bytes,
            throttled: s.throttled,
            cache_hits: s.cache_hits,
            cache_misses: s.cache_misses,
            prefetched: s.prefetched,
            reads: s.reads,
            read_bytes: s.read_bytes,
            wait_seconds: s.wait_ns as f64 / 1e9,
        }
    }
}

/// Statistics of an open HDF5 file that uses the Blob VFD.
///
/// # Safety
/// `out` is NULL (an error) or points to writable memory for one `h5blob_stats_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn H5FD_blob_get_stats(file_id: hid_t, out: *mut h5blob_stats_t) -> herr_t {
    boundary(c"H5FD_blob_get_stats", Major::File, -1, || {
        if out.is_null() {
            return Err(BlobError::new(ErrorKind::Config, "out is NULL"));
        }
        let mut handle: *mut c_void = std::ptr::null_mut();
        // SAFETY: HDF5 writes the driver's handle into `handle`.
        if unsafe {
            sys::H5Fget_vfd_handle(file_id, 0 /* H5P_DEFAULT */, &mut handle)
        } < 0
        {
            return Err(BlobError::new(
                ErrorKind::Config,
                "not an open HDF5 file id",
            ));
        }
        let open = crate::sync::lock(&OPEN_FILES);
        if !open.contains(&(handle as usize)) {
            return Err(BlobError::new(
                ErrorKind::Config,
                "the file is not open through the blob driver",
            ));
        }
        // SAFETY: the pointer is a live BlobFd (registered at open, removed at close).
        let fd = unsafe { &*handle.cast::<BlobFd>() };
        let s = fd.file.stats().snapshot();
        // SAFETY: out is writable per the contract.
        unsafe { out.write(s.into()) };
        Ok(0)
    })
}

/// Statistics summed over every file this process opened through the Blob VFD
/// (files still open contribute their requests and bytes so far).
///
/// # Safety
/// `out` is NULL (an error) or points to writable memory for one `h5blob_stats_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h5blob_stats_total(out: *mut h5blob_stats_t) -> herr_t {
    boundary(c"h5blob_stats_total", Major::Vfl, -1, || {
        if out.is_null() {
            return Err(BlobError::new(ErrorKind::Config, "out is NULL"));
        }
        // SAFETY: out is writable per the contract.
        unsafe { out.write(GLOBAL.snapshot().into()) };
        Ok(0)
    })
}

/// The library version, e.g. "0.1.0" (compare with `H5BLOB_VERSION` from this header to
/// check that the header and the library match). Static storage; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn h5blob_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

static REST_ID: AtomicI64 = AtomicI64::new(-1);

fn rest_id() -> Result<hid_t, BlobError> {
    // SAFETY: the class is a complete, static connector table; registering a connector
    // HDF5 already knows by name returns its id.
    registered(&REST_ID, "the REST connector", || unsafe {
        sys::H5VLregister_connector(&crate::vol::CLASS.0, 0 /* H5P_DEFAULT */)
    })
}

/// Registers the REST (HSDS) VOL connector, as the HDF Group's vol-rest does. Returns a
/// negative value on failure. Calling it again is harmless.
#[unsafe(no_mangle)]
pub extern "C" fn H5rest_init() -> herr_t {
    boundary(c"H5rest_init", Major::Vol, -1, || rest_id().map(|_| 0))
}

/// Releases this library's registration of the REST connector (files still open keep
/// it alive). Harmless when not initialised or called twice.
#[unsafe(no_mangle)]
pub extern "C" fn H5rest_term() -> herr_t {
    boundary(c"H5rest_term", Major::Vol, -1, || {
        let id = REST_ID.swap(-1, Ordering::AcqRel);
        // SAFETY: H5Iis_valid accepts any id value; we drop only our own reference.
        if id > 0
            && unsafe { sys::H5Iis_valid(id) } > 0
            && unsafe { sys::H5VLunregister_connector(id) } < 0
        {
            return Err(BlobError::new(
                ErrorKind::Internal,
                "H5VLunregister_connector failed for the REST connector",
            ));
        }
        Ok(0)
    })
}

/// Makes `fapl_id` use the REST connector; settings come from `HS_*` variables and
/// `.hscfg` (vol-rest's `HSDS_*` names too).
#[unsafe(no_mangle)]
pub extern "C" fn H5Pset_fapl_rest_vol(fapl_id: hid_t) -> herr_t {
    boundary(c"H5Pset_fapl_rest_vol", Major::Plist, -1, || {
        let id = rest_id()?;
        // SAFETY: plain HDF5 call; the connector takes no info.
        if unsafe { sys::H5Pset_vol(fapl_id, id, std::ptr::null()) } < 0 {
            return Err(BlobError::new(
                ErrorKind::Config,
                "H5Pset_vol failed: is fapl_id a file access property list?",
            ));
        }
        Ok(0)
    })
}

/// Whether `fapl_id` uses the REST connector: 1 if so, 0 if not, negative on failure.
#[unsafe(no_mangle)]
pub extern "C" fn h5blob_fapl_uses_rest_vol(fapl_id: hid_t) -> htri_t {
    boundary(c"h5blob_fapl_uses_rest_vol", Major::Plist, -1, || {
        let ours = rest_id()?;
        let mut theirs: hid_t = -1;
        // SAFETY: plain HDF5 calls; `theirs` is closed below.
        unsafe {
            if sys::H5Pget_vol_id(fapl_id, &mut theirs) < 0 {
                return Err(BlobError::new(
                    ErrorKind::Config,
                    "H5Pget_vol_id failed: is fapl_id a file access property list?",
                ));
            }
            let mut cmp = 1;
            let st = sys::H5VLcmp_connector_cls(&mut cmp, theirs, ours);
            sys::H5VLclose(theirs);
            if st < 0 {
                return Err(BlobError::new(
                    ErrorKind::Internal,
                    "H5VLcmp_connector_cls failed",
                ));
            }
            Ok(if cmp == 0 { 1 } else { 0 })
        }
    })
}

/// Requests sent to and bytes received from HSDS servers by this process, through the
/// REST connector (fields other than `requests` and `bytes` are zero).
///
/// # Safety
/// `out` is NULL (an error) or points to writable memory for one `h5blob_stats_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h5blob_rest_stats_total(out: *mut h5blob_stats_t) -> herr_t {
    boundary(c"h5blob_rest_stats_total", Major::Vol, -1, || {
        if out.is_null() {
            return Err(BlobError::new(ErrorKind::Config, "out is NULL"));
        }
        let (requests, bytes) = crate::vol::meta::total_counts();
        let s = StatsSnapshot {
            requests,
            gets: requests,
            bytes,
            ..Default::default()
        };
        // SAFETY: out is writable per the contract.
        unsafe { out.write(s.into()) };
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_version_is_the_crate_version() {
        let toml = include_str!("../../cbindgen.toml");
        let want = format!("#define H5BLOB_VERSION \"{}\"", env!("CARGO_PKG_VERSION"));
        assert!(toml.contains(&want), "cbindgen.toml must say {want}");
    }
}
