//! HDF5 glue: generated bindings, our error class on HDF5's error stack, and the boundary
//! every callback and exported function runs inside.

#[allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code,
    clippy::all,
    unsafe_op_in_unsafe_fn
)]
pub mod sys {
    include!(concat!(env!("OUT_DIR"), "/hdf5_bindings.rs"));
}

use crate::blob::{BlobError, ErrorKind};

/// Macros bindgen cannot translate (they contain casts); values from H5Fpublic.h and
/// H5public.h, checked against the C headers by the layout test.
pub(crate) const H5F_ACC_RDWR: u32 = 0x0001;
pub(crate) const H5F_ACC_TRUNC: u32 = 0x0002;
pub(crate) const H5F_ACC_EXCL: u32 = 0x0004;
pub(crate) const H5F_ACC_CREAT: u32 = 0x0010;
pub(crate) const HADDR_UNDEF: u64 = u64::MAX;
use std::ffi::{CStr, CString};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use sys::hid_t;

static CLASS: OnceLock<hid_t> = OnceLock::new();

/// Our error class, registered on first use (never while HDF5 probes the plugin).
fn error_class() -> hid_t {
    *CLASS.get_or_init(|| {
        // SAFETY: plain HDF5 call with static NUL-terminated strings.
        unsafe { sys::H5Eregister_class(c"h5blob".as_ptr(), c"h5blob".as_ptr(), c"0.1.0".as_ptr()) }
    })
}

/// HDF5's major and minor error codes for one of our failures.
fn codes(kind: ErrorKind, major: Major) -> (hid_t, hid_t) {
    // SAFETY: HDF5's error code globals are initialised by H5open, which has run before
    // any of our callbacks (HDF5 calls us) or exported functions (they call H5open first).
    unsafe {
        let maj = match major {
            Major::Vfl => sys::H5E_VFL_g,
            Major::File => sys::H5E_FILE_g,
            Major::Plist => sys::H5E_PLIST_g,
            Major::Io => sys::H5E_IO_g,
            Major::Vol => sys::H5E_VOL_g,
            Major::Group => sys::H5E_SYM_g,
            Major::Link => sys::H5E_LINK_g,
            Major::Dataset => sys::H5E_DATASET_g,
            Major::Attr => sys::H5E_ATTR_g,
            Major::Datatype => sys::H5E_DATATYPE_g,
            Major::Object => sys::H5E_OHDR_g,
        };
        let min = match kind {
            ErrorKind::Config => sys::H5E_BADVALUE_g,
            ErrorKind::NotFound => sys::H5E_NOTFOUND_g,
            ErrorKind::Denied => sys::H5E_CANTOPENFILE_g,
            ErrorKind::Changed => sys::H5E_READERROR_g,
            ErrorKind::RangeNotSatisfiable | ErrorKind::Server | ErrorKind::Transport => {
                sys::H5E_READERROR_g
            }
            ErrorKind::Unreachable | ErrorKind::Timeout => sys::H5E_CANTOPENFILE_g,
            ErrorKind::NotHdf5 => sys::H5E_NOTHDF5_g,
            ErrorKind::Unsupported => sys::H5E_UNSUPPORTED_g,
            ErrorKind::Exists => sys::H5E_EXISTS_g,
            ErrorKind::Internal => sys::H5E_SYSTEM_g,
        };
        (maj, min)
    }
}

/// Which part of HDF5 an error belongs to.
#[derive(Clone, Copy)]
pub enum Major {
    Vfl,
    File,
    Plist,
    Io,
    Vol,
    Group,
    Link,
    Dataset,
    Attr,
    Datatype,
    Object,
}

/// Pushes `err` onto HDF5's default error stack under our class.
pub fn push(func: &CStr, major: Major, err: &BlobError) {
    let (maj, min) = codes(err.kind, major);
    let msg = CString::new(err.msg.replace('\0', " ")).unwrap_or_default();
    // SAFETY: all strings are NUL-terminated and outlive the call; "%s" consumes exactly
    // the one vararg given.
    unsafe {
        sys::H5Epush2(
            0, // H5E_DEFAULT
            c"h5blob".as_ptr(),
            func.as_ptr(),
            0,
            error_class(),
            maj,
            min,
            c"%s".as_ptr(),
            msg.as_ptr(),
        );
    }
}

/// Runs `f` with panics caught: on `Err` or panic, pushes an HDF5 error and returns `fail`.
pub fn boundary<T>(
    func: &CStr,
    major: Major,
    fail: T,
    f: impl FnOnce() -> Result<T, BlobError>,
) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            push(func, major, &e);
            fail
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            push(
                func,
                major,
                &BlobError::new(
                    ErrorKind::Internal,
                    format!("internal error in h5blob: {what}"),
                ),
            );
            fail
        }
    }
}

/// Runs an HDF5 query whose failure is an expected answer ("no driver info"), without
/// HDF5 printing it and without leaving it on the error stack: automatic printing is
/// switched off for the call (and restored), and errors it pushed are popped.
pub fn quietly<T>(f: impl FnOnce() -> T) -> T {
    let mut func: sys::H5E_auto2_t = None;
    let mut data: *mut std::ffi::c_void = std::ptr::null_mut();
    // SAFETY: H5E_DEFAULT (0) is the current thread's stack; out pointers are valid.
    unsafe {
        let depth = sys::H5Eget_num(0).max(0);
        sys::H5Eget_auto2(0, &mut func, &mut data);
        sys::H5Eset_auto2(0, None, std::ptr::null_mut());
        let out = f();
        let added = sys::H5Eget_num(0).max(0) - depth;
        if added > 0 {
            sys::H5Epop(0, added as usize);
        }
        sys::H5Eset_auto2(0, func, data);
        out
    }
}

/// A C string argument as `&str`, or an error naming the argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for the returned lifetime.
pub unsafe fn arg_str<'a>(p: *const std::ffi::c_char, what: &str) -> Result<&'a str, BlobError> {
    if p.is_null() {
        return Err(BlobError::new(ErrorKind::Config, format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| BlobError::new(ErrorKind::Config, format!("{what} is not UTF-8")))
}
