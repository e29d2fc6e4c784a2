//! The Blob VFD: HDF5's driver class and its callbacks. Read-only for now.
//!
//! Callbacks only adapt: arguments are checked and handed to [`RemoteFile`]; every one runs
//! inside [`boundary`], so failures reach HDF5's error stack and panics never cross into C.

pub mod fapl;

use crate::blob::{BlobError, ErrorKind};
use crate::cache::{MemKind, RemoteFile};
use crate::config::{self, Layer};
use crate::h5::sys::{self, H5FD_class_t, H5FD_mem_t, H5FD_t, haddr_t, herr_t, hid_t};
use crate::h5::{self, Major, arg_str, boundary};
pub use fapl::*;
use std::ffi::{c_char, c_int, c_uint, c_ulong, c_void};
use std::ptr;
use std::sync::Arc;

/// Driver name: `--vfd-name=blob`, `HDF5_DRIVER=blob`, `H5Pset_driver_by_name(.., "blob", ..)`.
pub const H5FD_BLOB_NAME: &str = "blob";
/// Driver value. In the 512+ range for external drivers; unused by The HDF Group's registry
/// of drivers (512-515 as of 2025); registration is to be requested.
pub const H5FD_BLOB_VALUE: i32 = 611;

/// Largest address: files are limited by what `i64` offsets address, like HDF5's drivers.
const MAXADDR: haddr_t = (1u64 << 63) - 1;
/// Tells our file structs from anything else behind an `H5FD_t` pointer.
const MAGIC: u64 = 0x6835_626c_6f62_0001;

/// Our file: HDF5's public part first, so HDF5 can use the pointer as an `H5FD_t`.
#[repr(C)]
pub struct BlobFd {
    base: H5FD_t,
    magic: u64,
    pub file: Arc<RemoteFile>,
    eoa: haddr_t,
    fapl: H5FD_blob_fapl_t,
}

/// The class table lives in a static; HDF5 only reads it.
#[repr(transparent)]
pub struct Class(pub H5FD_class_t);
// SAFETY: the table is immutable after construction; its pointers are to static data.
unsafe impl Sync for Class {}

pub static CLASS: Class = Class(H5FD_class_t {
    version: sys::H5FD_CLASS_VERSION,
    value: H5FD_BLOB_VALUE,
    name: c"blob".as_ptr(),
    maxaddr: MAXADDR,
    fc_degree: sys::H5F_CLOSE_WEAK,
    terminate: None,
    sb_size: None,
    sb_encode: None,
    sb_decode: None,
    fapl_size: std::mem::size_of::<H5FD_blob_fapl_t>(),
    fapl_get: Some(fapl_get),
    fapl_copy: Some(fapl_copy),
    fapl_free: Some(fapl_free),
    dxpl_size: 0,
    dxpl_copy: None,
    dxpl_free: None,
    open: Some(open),
    close: Some(close),
    cmp: Some(cmp),
    query: Some(query),
    get_type_map: None,
    alloc: None,
    free: None,
    get_eoa: Some(get_eoa),
    set_eoa: Some(set_eoa),
    get_eof: Some(get_eof),
    get_handle: Some(get_handle),
    read: Some(read),
    write: Some(write),
    read_vector: Some(read_vector),
    write_vector: None,
    // HDF5 turns selection reads into one read_vector call when this is NULL, which is
    // exactly the batch we want (every chunk of a selection at once).
    read_selection: None,
    write_selection: None,
    flush: None,
    truncate: None,
    lock: None,
    unlock: None,
    del: None,
    ctl: None,
    fl_map: [
        sys::H5FD_MEM_SUPER, // default
        sys::H5FD_MEM_SUPER, // super
        sys::H5FD_MEM_SUPER, // btree
        sys::H5FD_MEM_DRAW,  // draw
        sys::H5FD_MEM_DRAW,  // gheap
        sys::H5FD_MEM_SUPER, // lheap
        sys::H5FD_MEM_SUPER, // ohdr
    ],
});

fn mem_kind(t: H5FD_mem_t) -> MemKind {
    match t {
        sys::H5FD_MEM_DRAW => MemKind::Raw,
        sys::H5FD_MEM_OHDR => MemKind::ObjectHeader,
        _ => MemKind::Metadata,
    }
}

/// # Safety
/// `f` is a pointer HDF5 got from our `open`.
unsafe fn fd<'a>(f: *const H5FD_t) -> Result<&'a BlobFd, BlobError> {
    // SAFETY: our open returns Box<BlobFd> pointers whose first field is the H5FD_t.
    let fd = unsafe { f.cast::<BlobFd>().as_ref() }
        .ok_or_else(|| BlobError::new(ErrorKind::Internal, "NULL file"))?;
    if fd.magic != MAGIC {
        return Err(BlobError::new(
            ErrorKind::Internal,
            "file handle is not a blob-driver file",
        ));
    }
    Ok(fd)
}

/// Settings from the fapl: the struct (if one was set) and the config string.
///
/// # Safety
/// `fapl` is a valid property list id or H5P_DEFAULT.
unsafe fn fapl_layers(fapl: hid_t) -> Result<(H5FD_blob_fapl_t, Layer, Layer), BlobError> {
    let mut fa = H5FD_blob_fapl_t::default();
    let mut struct_layer = Layer::default();
    let mut string_layer = Layer::default();
    if fapl > 0 {
        // SAFETY: HDF5 returns NULL or a pointer to the driver info it stores for our
        // driver, which has our struct's size because fapl_size says so.
        let info =
            h5::quietly(|| unsafe { sys::H5Pget_driver_info(fapl) }).cast::<H5FD_blob_fapl_t>();
        if let Some(info) = unsafe { info.as_ref() } {
            struct_layer = info.to_layer()?;
            fa = info.clone();
        }
        // SAFETY: a NULL buffer asks for the length only.
        let len =
            h5::quietly(|| unsafe { sys::H5Pget_driver_config_str(fapl, ptr::null_mut(), 0) });
        if len > 0 {
            let mut buf = vec![0u8; len as usize + 1];
            // SAFETY: buf has len + 1 bytes.
            unsafe { sys::H5Pget_driver_config_str(fapl, buf.as_mut_ptr().cast(), buf.len()) };
            buf.truncate(len as usize);
            let s = String::from_utf8(buf).map_err(|_| {
                BlobError::new(ErrorKind::Config, "driver config string is not UTF-8")
            })?;
            string_layer = Layer::parse(&s, "the driver config string")?;
            // HDF5 opens external-link targets with the fapl our fapl_get returns, which
            // carries no config string: keep the string's settings in the struct, below
            // the struct's own fields as before.
            append_config(&mut fa, &s);
        }
    }
    Ok((fa, struct_layer, string_layer))
}

fn append_config(fa: &mut H5FD_blob_fapl_t, extra: &str) {
    let used = fa
        .config
        .iter()
        .position(|c| *c == 0)
        .unwrap_or(fa.config.len());
    let sep = if used > 0 { 1 } else { 0 };
    if used + sep + extra.len() < fa.config.len() {
        let bytes = (if sep == 1 { ";" } else { "" })
            .bytes()
            .chain(extra.bytes())
            .chain(std::iter::once(0));
        for (i, b) in bytes.enumerate() {
            fa.config[used + i] = b as c_char;
        }
    }
}

fn env_layer() -> Result<Layer, BlobError> {
    // Settings made in this process (h5blob_config_set) win over the environment under
    // any of a key's names, so each source is read as a layer of its own.
    let here = Layer::from_env(crate::config::process::set_here)?;
    Ok(here.over(&Layer::from_env(crate::config::process::env)?))
}

/// HDF5 resolves an external link's target against the parent file's directory, making
/// names like `/cwd/az://container/dir/target.h5`; the URL is what follows the last `/`
/// before a scheme we know.
fn embedded_url(name: &str) -> &str {
    const SCHEMES: [&str; 8] = [
        "az://", "azure://", "abfs://", "abfss://", "wasb://", "wasbs://", "http://", "https://",
    ];
    if SCHEMES.iter().any(|s| name.starts_with(s)) {
        return name;
    }
    SCHEMES
        .iter()
        .filter_map(|s| name.find(&format!("/{s}")).map(|i| i + 1))
        .min()
        .map_or(name, |i| &name[i..])
}

/// h5dump and h5ls open files with HDF5's error printing switched off, which would leave
/// users with "unable to open file" and nothing else. So each distinct open failure is also
/// printed once on stderr, unless `H5BLOB_LOG=0` (or `off`).
fn log_open_failure(name: &str, e: &BlobError) {
    // Names without a scheme are candidates HDF5 tries for external links: not worth a line.
    if !name.contains("://") {
        return;
    }
    static SEEN: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<String>>> =
        std::sync::LazyLock::new(Default::default);
    let off = crate::config::process::var("H5BLOB_LOG")
        .is_some_and(|v| matches!(v.trim(), "0" | "off" | "none" | "quiet"));
    if !off && crate::sync::lock(&SEEN).insert(e.msg.clone()) {
        eprintln!("h5blob: {}", e.msg);
    }
}

unsafe extern "C" fn open(
    name: *const c_char,
    flags: c_uint,
    fapl: hid_t,
    maxaddr: haddr_t,
) -> *mut H5FD_t {
    boundary(c"H5FD__blob_open", Major::Vfl, ptr::null_mut(), || {
        // SAFETY: HDF5 passes a NUL-terminated file name.
        let name = unsafe { arg_str(name, "file name") }?;
        open_file(name, flags, fapl, maxaddr).inspect_err(|e| log_open_failure(name, e))
    })
}

fn open_file(
    name: &str,
    flags: c_uint,
    fapl: hid_t,
    maxaddr: haddr_t,
) -> Result<*mut H5FD_t, BlobError> {
    let writes = h5::H5F_ACC_RDWR | h5::H5F_ACC_CREAT | h5::H5F_ACC_TRUNC | h5::H5F_ACC_EXCL;
    if flags & writes != 0 {
        return Err(BlobError::new(
            ErrorKind::Unsupported,
            format!(
                "{}: the blob driver is read-only for now; open with H5F_ACC_RDONLY",
                config::url::redact_query(name)
            ),
        ));
    }
    if maxaddr == 0 || maxaddr > MAXADDR {
        return Err(BlobError::new(
            ErrorKind::Config,
            format!("bad maxaddr {maxaddr}"),
        ));
    }
    let url = config::parse_url(embedded_url(name))?;
    // SAFETY: HDF5 passes a valid fapl id.
    let (fa, from_struct, from_string) = unsafe { fapl_layers(fapl) }?;
    let env = env_layer()?;
    let resolved = config::resolve(&url, &[&from_struct, &from_string, &env])?;
    let file = RemoteFile::open(&resolved)?;
    let fd = Box::new(BlobFd {
        // SAFETY: H5FD_t is plain data; HDF5 fills its fields after open returns.
        base: unsafe { std::mem::zeroed() },
        magic: MAGIC,
        file,
        eoa: 0,
        fapl: fa,
    });
    let p = Box::into_raw(fd);
    crate::sync::lock(&crate::capi::OPEN_FILES).insert(p as usize);
    Ok(p.cast())
}

unsafe extern "C" fn close(f: *mut H5FD_t) -> herr_t {
    boundary(c"H5FD__blob_close", Major::Vfl, -1, || {
        // SAFETY: HDF5 closes each file it opened through us exactly once.
        unsafe { fd(f) }?;
        crate::sync::lock(&crate::capi::OPEN_FILES).remove(&(f as usize));
        let fd = unsafe { Box::from_raw(f.cast::<BlobFd>()) };
        fd.file.close();
        if fd.file.tuning().stats {
            eprintln!(
                "h5blob: {}: {}",
                fd.file.display(),
                fd.file.stats().snapshot()
            );
        }
        Ok(0)
    })
}

unsafe extern "C" fn cmp(a: *const H5FD_t, b: *const H5FD_t) -> c_int {
    boundary(c"H5FD__blob_cmp", Major::Vfl, -1, || {
        // SAFETY: both are files of this driver (HDF5 compares only same-class files).
        let (a, b) = unsafe { (fd(a)?, fd(b)?) };
        Ok(match a.file.display().cmp(b.file.display()) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        })
    })
}

unsafe extern "C" fn query(_f: *const H5FD_t, flags: *mut c_ulong) -> herr_t {
    boundary(c"H5FD__blob_query", Major::Vfl, -1, || {
        // SAFETY: HDF5 passes a valid out pointer (checked for NULL anyway).
        if let Some(flags) = unsafe { flags.as_mut() } {
            // Data sieving turns small contiguous reads into larger ones: fewer requests.
            *flags = sys::H5FD_FEAT_DATA_SIEVE as c_ulong;
        }
        Ok(0)
    })
}

unsafe extern "C" fn get_eoa(f: *const H5FD_t, _t: H5FD_mem_t) -> haddr_t {
    // SAFETY: a file of this driver.
    boundary(c"H5FD__blob_get_eoa", Major::Vfl, h5::HADDR_UNDEF, || {
        Ok(unsafe { fd(f) }?.eoa)
    })
}

unsafe extern "C" fn set_eoa(f: *mut H5FD_t, _t: H5FD_mem_t, addr: haddr_t) -> herr_t {
    boundary(c"H5FD__blob_set_eoa", Major::Vfl, -1, || {
        // SAFETY: a file of this driver; HDF5 does not call into one file concurrently.
        unsafe { fd(f) }?;
        unsafe { (*f.cast::<BlobFd>()).eoa = addr };
        Ok(0)
    })
}

unsafe extern "C" fn get_eof(f: *const H5FD_t, _t: H5FD_mem_t) -> haddr_t {
    // SAFETY: a file of this driver.
    boundary(c"H5FD__blob_get_eof", Major::Vfl, h5::HADDR_UNDEF, || {
        Ok(unsafe { fd(f) }?.file.size)
    })
}

/// The "handle" is the file itself, which `H5FD_blob_get_stats` recognises.
unsafe extern "C" fn get_handle(f: *mut H5FD_t, _fapl: hid_t, handle: *mut *mut c_void) -> herr_t {
    boundary(c"H5FD__blob_get_handle", Major::Vfl, -1, || {
        // SAFETY: a file of this driver; the out pointer is checked.
        unsafe { fd(f) }?;
        let out = unsafe { handle.as_mut() }
            .ok_or_else(|| BlobError::new(ErrorKind::Config, "file_handle is NULL"))?;
        *out = f.cast();
        Ok(0)
    })
}

unsafe extern "C" fn read(
    f: *mut H5FD_t,
    t: H5FD_mem_t,
    _dxpl: hid_t,
    addr: haddr_t,
    size: usize,
    buf: *mut c_void,
) -> herr_t {
    boundary(c"H5FD__blob_read", Major::Io, -1, || {
        // SAFETY: a file of this driver.
        let fd = unsafe { fd(f) }?;
        check_range(fd, addr, size)?;
        if size == 0 {
            return Ok(0);
        }
        if buf.is_null() {
            return Err(BlobError::new(ErrorKind::Config, "read buffer is NULL"));
        }
        // SAFETY: HDF5 passes a buffer of `size` writable bytes.
        let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), size) };
        fd.file.read(&mut [(addr, out)], mem_kind(t))?;
        Ok(0)
    })
}

/// HDF5's vector convention: a 0 size repeats the previous size and `H5FD_MEM_NOLIST`
/// repeats the previous type, for the rest of the vector.
unsafe extern "C" fn read_vector(
    f: *mut H5FD_t,
    _dxpl: hid_t,
    count: u32,
    types: *mut H5FD_mem_t,
    addrs: *mut haddr_t,
    sizes: *mut usize,
    bufs: *mut *mut c_void,
) -> herr_t {
    boundary(c"H5FD__blob_read_vector", Major::Io, -1, || {
        // SAFETY: a file of this driver.
        let fd = unsafe { fd(f) }?;
        if count == 0 {
            return Ok(0);
        }
        if types.is_null() || addrs.is_null() || sizes.is_null() || bufs.is_null() {
            return Err(BlobError::new(
                ErrorKind::Config,
                "read_vector array is NULL",
            ));
        }
        let n = count as usize;
        // SAFETY: HDF5 passes `count` entries in each array.
        let (types, addrs, sizes, bufs) = unsafe {
            (
                std::slice::from_raw_parts(types, n),
                std::slice::from_raw_parts(addrs, n),
                std::slice::from_raw_parts(sizes, n),
                std::slice::from_raw_parts(bufs, n),
            )
        };
        let (mut size, mut ty) = (0usize, sys::H5FD_MEM_DEFAULT);
        let mut reqs: Vec<(u64, &mut [u8])> = Vec::with_capacity(n);
        let mut kind = MemKind::Raw;
        for i in 0..n {
            if sizes[i] != 0 {
                size = sizes[i];
            }
            if types[i] != sys::H5FD_MEM_NOLIST {
                ty = types[i];
            }
            check_range(fd, addrs[i], size)?;
            if mem_kind(ty) != MemKind::Raw {
                kind = MemKind::Metadata;
            }
            if size > 0 {
                if bufs[i].is_null() {
                    return Err(BlobError::new(
                        ErrorKind::Config,
                        format!("read_vector buffer {i} is NULL"),
                    ));
                }
                // SAFETY: HDF5 passes distinct buffers of `size` writable bytes each.
                reqs.push((addrs[i], unsafe {
                    std::slice::from_raw_parts_mut(bufs[i].cast::<u8>(), size)
                }));
            }
        }
        fd.file.read(&mut reqs, kind)?;
        Ok(0)
    })
}

fn check_range(fd: &BlobFd, addr: haddr_t, size: usize) -> Result<(), BlobError> {
    let end = addr.checked_add(size as u64);
    if addr == h5::HADDR_UNDEF || end.is_none_or(|e| e > fd.eoa) {
        return Err(BlobError::new(
            ErrorKind::Config,
            format!(
                "{}: read of {size} bytes at {addr} is past the end of the address space ({})",
                fd.file.display(),
                fd.eoa
            ),
        ));
    }
    Ok(())
}

unsafe extern "C" fn write(
    f: *mut H5FD_t,
    _t: H5FD_mem_t,
    _dxpl: hid_t,
    _addr: haddr_t,
    _size: usize,
    _buf: *const c_void,
) -> herr_t {
    boundary(c"H5FD__blob_write", Major::Io, -1, || {
        // SAFETY: a file of this driver.
        let fd = unsafe { fd(f) }?;
        Err(BlobError::new(
            ErrorKind::Unsupported,
            format!(
                "{}: the blob driver is read-only for now",
                fd.file.display()
            ),
        ))
    })
}

unsafe extern "C" fn fapl_get(f: *mut H5FD_t) -> *mut c_void {
    boundary(
        c"H5FD__blob_fapl_get",
        Major::Plist,
        ptr::null_mut(),
        || {
            // SAFETY: a file of this driver.
            let fd = unsafe { fd(f) }?;
            Ok(copy_fapl(&fd.fapl))
        },
    )
}

unsafe extern "C" fn fapl_copy(src: *const c_void) -> *mut c_void {
    boundary(
        c"H5FD__blob_fapl_copy",
        Major::Plist,
        ptr::null_mut(),
        || {
            // SAFETY: HDF5 passes driver info it got from us or from H5Pset_fapl_blob: our struct.
            let src = unsafe { src.cast::<H5FD_blob_fapl_t>().as_ref() }
                .ok_or_else(|| BlobError::new(ErrorKind::Config, "driver info is NULL"))?;
            Ok(copy_fapl(src))
        },
    )
}

/// Driver info lives in malloc'd memory, the allocator HDF5 itself would use.
fn copy_fapl(src: &H5FD_blob_fapl_t) -> *mut c_void {
    // SAFETY: malloc of the struct's size; the copy is a plain bitwise copy of C data.
    unsafe {
        let p = libc::malloc(std::mem::size_of::<H5FD_blob_fapl_t>()).cast::<H5FD_blob_fapl_t>();
        if !p.is_null() {
            ptr::write(p, src.clone());
        }
        p.cast()
    }
}

unsafe extern "C" fn fapl_free(p: *mut c_void) -> herr_t {
    // SAFETY: p came from copy_fapl (malloc) or is NULL.
    unsafe { libc::free(p) };
    0
}

/// `H5PLget_plugin_type`: HDF5's loader asks every library in `HDF5_PLUGIN_PATH`; no side effects.
#[unsafe(no_mangle)]
pub extern "C" fn H5PLget_plugin_type() -> sys::H5PL_type_t {
    sys::H5PL_TYPE_VFD
}

/// `H5PLget_plugin_info`: the driver class. No side effects.
#[unsafe(no_mangle)]
pub extern "C" fn H5PLget_plugin_info() -> *const c_void {
    (&CLASS.0 as *const H5FD_class_t).cast()
}
