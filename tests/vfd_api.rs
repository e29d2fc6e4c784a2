//! The Blob VFD through HDF5's C API, as a C program would use it: values read correctly,
//! selection reads arriving as one batch, statistics, read-only enforcement, a blob
//! replaced while open, and the fapl struct.

mod common;
use common::*;
use h5blob::capi::*;
use h5blob::h5::sys;
use h5blob::vfd::H5FD_blob_fapl_t;
use std::ffi::CString;
use std::sync::{Mutex, OnceLock};

/// HDF5 is not built thread-safe: one test at a time touches it.
static HDF5: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    HDF5.lock().unwrap_or_else(|p| p.into_inner())
}

const N: usize = 1_000_000;

/// A file with an uncompressed chunked dataset `/u` (100 chunks), a compressed one `/z`
/// and a contiguous one `/c`, all holding 0..N as float64, uploaded as `api/vec.h5`.
fn vec_file() -> &'static str {
    static F: OnceLock<()> = OnceLock::new();
    F.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("h5blob-vec-{}.h5", std::process::id()));
        let code = format!(
            "import h5py, numpy as np\nwith h5py.File({:?}, 'w') as f:\n a = np.arange({N}, dtype='f8')\n \
             f.create_dataset('u', data=a, chunks=(10000,))\n f.create_dataset('z', data=a, chunks=(10000,), compression='gzip')\n \
             f.create_dataset('c', data=a)\n",
            path.to_str().unwrap()
        );
        let out = std::process::Command::new(python()).arg("-c").arg(code).output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        azurite().upload("api", false, "", &[path.as_path()]);
    });
    "az://api/"
}

fn fapl_struct(extra: &str) -> H5FD_blob_fapl_t {
    let az = azurite();
    let mut fa = H5FD_blob_fapl_t::default();
    fill(&mut fa.account, ACCOUNT);
    fill(&mut fa.endpoint, &az.endpoint());
    fill(&mut fa.account_key, KEY);
    fill(&mut fa.config, extra);
    fa
}

fn fill(buf: &mut [std::ffi::c_char], s: &str) {
    for (d, b) in buf.iter_mut().zip(s.bytes().chain(std::iter::once(0))) {
        *d = b as std::ffi::c_char;
    }
}

fn fapl(extra: &str) -> sys::hid_t {
    // SAFETY: plain HDF5 calls.
    unsafe {
        sys::H5open();
        let fapl = sys::H5Pcreate(sys::H5P_CLS_FILE_ACCESS_ID_g);
        assert!(fapl > 0);
        let fa = fapl_struct(extra);
        assert!(H5Pset_fapl_blob(fapl, &fa) >= 0);
        fapl
    }
}

/// Everything on HDF5's error stack, as H5Eprint2 prints it; the stack is cleared.
fn error_stack() -> String {
    // SAFETY: tmpfile gives a FILE* HDF5 can print to; we read it back and close it.
    unsafe {
        let f = libc::tmpfile();
        sys::H5Eprint2(0, f.cast());
        libc::fflush(f);
        libc::rewind(f);
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = libc::fread(buf.as_mut_ptr().cast(), 1, buf.len(), f);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        libc::fclose(f);
        sys::H5Eclear2(0);
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn open(url: &str, fapl: sys::hid_t) -> sys::hid_t {
    let name = CString::new(url).unwrap();
    // SAFETY: valid name and fapl; errors are not auto-printed here (checked by callers).
    unsafe {
        sys::H5Fopen(name.as_ptr(), 0 /* H5F_ACC_RDONLY */, fapl)
    }
}

fn read_all(file: sys::hid_t, dset: &str, chunk_cache: Option<usize>) -> Vec<f64> {
    let name = CString::new(dset).unwrap();
    // SAFETY: plain HDF5 calls with a buffer of the dataset's size.
    unsafe {
        let dapl = sys::H5Pcreate(sys::H5P_CLS_DATASET_ACCESS_ID_g);
        if let Some(bytes) = chunk_cache {
            sys::H5Pset_chunk_cache(dapl, 521, bytes, 0.75);
        }
        let d = sys::H5Dopen2(file, name.as_ptr(), dapl);
        assert!(d > 0, "open {dset}: {}", error_stack());
        let mut v = vec![0f64; N];
        let r = sys::H5Dread(d, sys::H5T_NATIVE_DOUBLE_g, 0, 0, 0, v.as_mut_ptr().cast());
        assert!(r >= 0, "read {dset}: {}", error_stack());
        sys::H5Dclose(d);
        sys::H5Pclose(dapl);
        v
    }
}

fn close(file: sys::hid_t, fapl: sys::hid_t) {
    // SAFETY: plain HDF5 calls on ids this test opened.
    unsafe {
        sys::H5Fclose(file);
        sys::H5Pclose(fapl);
    }
}

fn stats(file: sys::hid_t) -> h5blob_stats_t {
    let mut s = h5blob_stats_t::default();
    // SAFETY: valid out pointer.
    assert!(
        unsafe { H5FD_blob_get_stats(file, &mut s) } >= 0,
        "{}",
        error_stack()
    );
    s
}

#[test]
fn values_read_exactly_for_every_layout() {
    let dir = vec_file();
    let _g = lock();
    let fapl = fapl("stats=0");
    let f = open(&format!("{dir}h5blob-vec-{}.h5", std::process::id()), fapl);
    assert!(f > 0, "{}", error_stack());
    for d in ["u", "z", "c"] {
        let v = read_all(f, d, None);
        assert!(
            v.iter().enumerate().all(|(i, x)| *x == i as f64),
            "{d} values wrong"
        );
    }
    let s = stats(f);
    assert!(s.bytes >= (N * 8) as u64, "{s:?}");
    assert!(s.gets > 0 && s.requests >= s.gets);
    close(f, fapl);
}

#[test]
fn selection_reads_arrive_as_one_parallel_batch() {
    let dir = vec_file();
    let _g = lock();
    // Small pages and no prefetch, so each chunk is its own page range; a batch of 100
    // chunks must still cost far fewer GETs than chunks (coalesced and parallel).
    let fapl = fapl("page_size=4K;meta_prefetch=0;readahead=0;max_merge=64K");
    let f = open(&format!("{dir}h5blob-vec-{}.h5", std::process::id()), fapl);
    assert!(f > 0, "{}", error_stack());
    let before = stats(f);
    let v = read_all(f, "u", Some(0));
    assert!(v.iter().enumerate().all(|(i, x)| *x == i as f64));
    let after = stats(f);
    let reads = after.reads - before.reads;
    // One read_vector call carries the 100 chunks (plus a few metadata reads).
    assert!(
        reads < 20,
        "HDF5 made {reads} read calls: selection I/O did not batch"
    );
    assert!(after.gets - before.gets <= 150, "{after:?}");
    close(f, fapl);
}

#[test]
fn writes_are_refused_with_a_clear_error() {
    vec_file();
    let _g = lock();
    let fapl = fapl("");
    let name = CString::new(format!("az://api/h5blob-vec-{}.h5", std::process::id())).unwrap();
    // SAFETY: plain HDF5 calls.
    let (f, c) = unsafe {
        sys::H5Eset_auto2(0, None, std::ptr::null_mut());
        (sys::H5Fopen(name.as_ptr(), 1 /* H5F_ACC_RDWR */, fapl), -1)
    };
    assert!(f < 0);
    let err = error_stack();
    assert!(err.contains("read-only") && err.contains("h5blob"), "{err}");
    let newname = CString::new("az://api/new.h5").unwrap();
    let created = unsafe {
        sys::H5Fcreate(newname.as_ptr(), 2 /* H5F_ACC_TRUNC */, 0, fapl)
    };
    assert!(created < 0 && c < 0);
    assert!(error_stack().contains("read-only"));
    unsafe { sys::H5Pclose(fapl) };
}

#[test]
fn a_blob_replaced_while_open_fails_instead_of_mixing_versions() {
    let az = azurite();
    vec_file();
    let _g = lock();
    let src = std::env::temp_dir().join(format!("h5blob-vec-{}.h5", std::process::id()));
    let copy = std::env::temp_dir().join("h5blob-replace.h5");
    std::fs::copy(&src, &copy).unwrap();
    az.upload("replace", false, "", &[copy.as_path()]);
    let fapl = fapl("page_size=4K;meta_prefetch=0;readahead=0;head_size=4K");
    let f = open("az://replace/h5blob-replace.h5", fapl);
    assert!(f > 0, "{}", error_stack());
    // Replace the blob (same bytes, new ETag): the next uncached read must fail.
    az.upload("replace", false, "", &[copy.as_path()]);
    let name = CString::new("c").unwrap();
    let mut v = vec![0f64; N];
    // SAFETY: plain HDF5 calls, buffer sized for the dataset.
    let r = unsafe {
        let d = sys::H5Dopen2(f, name.as_ptr(), 0);
        let r = if d > 0 {
            sys::H5Dread(d, sys::H5T_NATIVE_DOUBLE_g, 0, 0, 0, v.as_mut_ptr().cast())
        } else {
            -1
        };
        if d > 0 {
            sys::H5Dclose(d);
        }
        r
    };
    assert!(r < 0, "read after replacement succeeded");
    let err = error_stack();
    assert!(err.contains("replaced") && err.contains("412"), "{err}");
    close(f, fapl);
}

#[test]
fn fapl_struct_round_trip_and_version_check() {
    let _g = lock();
    let fapl = fapl("cache_size=64M");
    let mut out = H5FD_blob_fapl_t::default();
    fill(&mut out.account, "overwritten");
    // SAFETY: valid pointers.
    assert!(
        unsafe { H5Pget_fapl_blob(fapl, &mut out) } >= 0,
        "{}",
        error_stack()
    );
    let acct: Vec<u8> = out
        .account
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    assert_eq!(acct, ACCOUNT.as_bytes());
    let mut bad = fapl_struct("");
    bad.version = 99;
    let r = unsafe {
        sys::H5Eset_auto2(0, None, std::ptr::null_mut());
        H5Pset_fapl_blob(fapl, &bad)
    };
    assert!(r < 0);
    assert!(error_stack().contains("version is 99"));
    // NULL pointers are errors, not crashes.
    assert!(unsafe { H5Pget_fapl_blob(fapl, std::ptr::null_mut()) } < 0);
    assert!(unsafe { H5FD_blob_get_stats(0, std::ptr::null_mut()) } < 0);
    error_stack();
    unsafe { sys::H5Pclose(fapl) };
}
