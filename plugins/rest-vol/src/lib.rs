//! The REST VOL plugin file, `libh5blob_vol.so`.
//!
//! HDF5's plugin loader accepts one plugin type per library, and `libh5blob.so` is the
//! Blob VFD plugin, so the VOL connector needs a library of its own. This one is thin: it
//! says "VOL" when probed and, when HDF5 asks for the connector, loads `libh5blob.so` from
//! its own directory and hands over the connector class that lives there (with the whole
//! C API). Probing has no side effects; loading happens only when the connector is used.

use std::ffi::{CStr, CString, c_int, c_void};
use std::io::Write;
use std::sync::OnceLock;

/// `H5PL_TYPE_VOL` in H5PLpublic.h.
const H5PL_TYPE_VOL: c_int = 1;

/// The library holding the connector, next to this file after `make install` and in
/// cargo's target directory.
const MAIN_LIBRARY: &str = "libh5blob.so";
const CLASS_SYMBOL: &CStr = c"h5blob_rest_vol_class";

/// `H5PLget_plugin_type`: asked of every library in `HDF5_PLUGIN_PATH`; no side effects.
#[unsafe(no_mangle)]
pub extern "C" fn H5PLget_plugin_type() -> c_int {
    H5PL_TYPE_VOL
}

/// `H5PLget_plugin_info`: the `H5VL_class_t` of the REST connector, or NULL (with the
/// reason on stderr, since HDF5 only reports "can't get plugin info").
#[unsafe(no_mangle)]
pub extern "C" fn H5PLget_plugin_info() -> *const c_void {
    static CLASS: OnceLock<Result<usize, String>> = OnceLock::new();
    match CLASS.get_or_init(load_class) {
        Ok(p) => *p as *const c_void,
        Err(e) => {
            // Never a panic across the C boundary: a failed write to stderr is ignored.
            let _ = writeln!(std::io::stderr(), "h5blob: REST VOL plugin: {e}");
            std::ptr::null()
        }
    }
}

fn load_class() -> Result<usize, String> {
    let dir = own_directory()?;
    let path = format!("{dir}/{MAIN_LIBRARY}");
    let cpath = CString::new(path.clone()).map_err(|_| format!("bad path {path}"))?;
    // SAFETY: dlopen/dlsym with NUL-terminated strings; the handle is never closed, so
    // the class pointer stays valid for the life of the process.
    unsafe {
        let handle = libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        if handle.is_null() {
            return Err(format!("cannot load {path}: {}", dl_error()));
        }
        let sym = libc::dlsym(handle, CLASS_SYMBOL.as_ptr());
        if sym.is_null() {
            return Err(format!("{path} has no {CLASS_SYMBOL:?}: {}", dl_error()));
        }
        let get: extern "C" fn() -> *const c_void = std::mem::transmute(sym);
        let class = get();
        if class.is_null() {
            return Err(format!("{path} returned no connector class"));
        }
        Ok(class as usize)
    }
}

/// The directory this plugin file was loaded from.
fn own_directory() -> Result<String, String> {
    // SAFETY: Dl_info is plain C data; all-zero is a valid value.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let addr = H5PLget_plugin_info as *const c_void;
    // SAFETY: dladdr fills `info` for an address inside a loaded object.
    if unsafe { libc::dladdr(addr, &mut info) } == 0 || info.dli_fname.is_null() {
        return Err("cannot find the plugin's own path (dladdr failed)".into());
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the dynamic loader.
    let file = unsafe { CStr::from_ptr(info.dli_fname) }
        .to_string_lossy()
        .into_owned();
    Ok(match file.rfind('/') {
        Some(i) => file[..i].to_string(),
        None => ".".to_string(),
    })
}

fn dl_error() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated message.
    unsafe {
        let e = libc::dlerror();
        if e.is_null() {
            "unknown error".into()
        } else {
            CStr::from_ptr(e).to_string_lossy().into_owned()
        }
    }
}
