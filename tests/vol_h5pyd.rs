//! What HDF5 writes through the REST connector, h5pyd (the HDF Group's Python client for
//! HSDS) reads back with the same values; and what h5pyd writes, the connector reads.
//! HDF5 is called directly here (this HDF5 build is not thread-safe: one test at a time
//! through a lock).

mod common;

use common::{hs_tool, hsds, python, run, text};
use h5blob::h5::sys;
use std::ffi::CString;
use std::ptr;
use std::sync::Mutex;

static HDF5: Mutex<()> = Mutex::new(());

/// Points this process's connector at the test HSDS.
fn setup() -> sys::hid_t {
    let hs = hsds();
    hs.home();
    // SAFETY: tests touching the environment hold the HDF5 lock; nothing else reads it
    // concurrently in this binary.
    unsafe {
        std::env::set_var("HS_ENDPOINT", &hs.endpoint);
        std::env::set_var("HS_USERNAME", "admin");
        std::env::set_var("HS_PASSWORD", "admin");
        assert!(sys::H5open() >= 0);
        let fapl = sys::H5Pcreate(sys::H5P_CLS_FILE_ACCESS_ID_g);
        assert!(h5blob::capi::H5Pset_fapl_rest_vol(fapl) >= 0);
        fapl
    }
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Runs Python with h5pyd against the test HSDS and returns its stdout.
fn h5pyd(code: &str) -> String {
    let mut cmd = std::process::Command::new(python());
    cmd.arg("-c").arg(code);
    hsds().env(&mut cmd);
    let out = run(&mut cmd);
    assert!(out.status.success(), "h5pyd failed: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn h5pyd_reads_what_the_connector_wrote_and_the_other_way_round() {
    let _g = HDF5.lock().unwrap_or_else(|e| e.into_inner());
    let fapl = setup();
    let domain = format!("/home/admin/written_{}.h5", std::process::id());
    let dn = c(&domain);
    // SAFETY: plain HDF5 calls with valid buffers, as a C program would make them.
    unsafe {
        let f = sys::H5Fcreate(dn.as_ptr(), h5blob_acc_trunc(), 0, fapl);
        assert!(f >= 0, "H5Fcreate through the REST connector failed");
        let g = sys::H5Gcreate2(f, c("grp").as_ptr(), 0, 0, 0);
        assert!(g >= 0);
        let dims = [6u64, 7];
        let sp = sys::H5Screate_simple(2, dims.as_ptr(), ptr::null());
        let d = sys::H5Dcreate2(g, c("ints").as_ptr(), sys::H5T_STD_I16BE_g, sp, 0, 0, 0);
        assert!(d >= 0);
        let vals: Vec<i32> = (0..42).map(|i| i * 3 - 50).collect();
        assert!(
            sys::H5Dwrite(d, sys::H5T_NATIVE_INT_g, 0, 0, 0, vals.as_ptr().cast()) >= 0,
            "H5Dwrite failed"
        );
        // attributes: a double array and a fixed-length string
        let three = [3u64];
        let asp = sys::H5Screate_simple(1, three.as_ptr(), ptr::null());
        let a = sys::H5Acreate2(d, c("scale").as_ptr(), sys::H5T_IEEE_F64LE_g, asp, 0, 0);
        let dv = [0.25f64, -1.5, 1e10];
        assert!(sys::H5Awrite(a, sys::H5T_NATIVE_DOUBLE_g, dv.as_ptr().cast()) >= 0);
        sys::H5Aclose(a);
        let st = sys::H5Tcopy(sys::H5T_C_S1_g);
        sys::H5Tset_size(st, 5);
        let scalar = sys::H5Screate(sys::H5S_SCALAR);
        let a = sys::H5Acreate2(g, c("units").as_ptr(), st, scalar, 0, 0);
        let units = [b'K', 0, 0, 0, 0];
        assert!(sys::H5Awrite(a, st, units.as_ptr().cast()) >= 0);
        sys::H5Aclose(a);
        // vlen strings
        let vs = sys::H5Tcopy(sys::H5T_C_S1_g);
        sys::H5Tset_size(vs, usize::MAX); // H5T_VARIABLE
        sys::H5Tset_cset(vs, sys::H5T_CSET_UTF8);
        let words = [c("eins"), c("zwei – zwo"), c("")];
        let ptrs: Vec<*const i8> = words.iter().map(|w| w.as_ptr()).collect();
        let d2 = sys::H5Dcreate2(f, c("words").as_ptr(), vs, asp, 0, 0, 0);
        assert!(sys::H5Dwrite(d2, vs, 0, 0, 0, ptrs.as_ptr().cast()) >= 0);
        // object references to the group and the dataset
        let two = [2u64];
        let rsp = sys::H5Screate_simple(1, two.as_ptr(), ptr::null());
        let mut refs: [sys::H5R_ref_t; 2] = std::mem::zeroed();
        assert!(sys::H5Rcreate_object(f, c("grp").as_ptr(), 0, &mut refs[0]) >= 0);
        assert!(sys::H5Rcreate_object(f, c("grp/ints").as_ptr(), 0, &mut refs[1]) >= 0);
        let d3 = sys::H5Dcreate2(f, c("refs").as_ptr(), sys::H5T_STD_REF_g, rsp, 0, 0, 0);
        assert!(
            sys::H5Dwrite(d3, sys::H5T_STD_REF_g, 0, 0, 0, refs.as_ptr().cast()) >= 0,
            "H5Dwrite of references failed"
        );
        for r in &mut refs {
            sys::H5Rdestroy(r);
        }
        sys::H5Sclose(rsp);
        for id in [d3, d2, d] {
            sys::H5Dclose(id);
        }
        for id in [asp, scalar, sp] {
            sys::H5Sclose(id);
        }
        sys::H5Tclose(st);
        sys::H5Tclose(vs);
        sys::H5Gclose(g);
        assert!(sys::H5Fclose(f) >= 0);
    }

    let out = h5pyd(&format!(
        r#"
import h5pyd, json
f = h5pyd.File("{domain}", "r")
d = f["grp/ints"]
print(json.dumps({{
  "shape": list(d.shape), "dtype": d.dtype.str, "sum": int(d[...].sum()), "v": int(d[5, 6]),
  "scale": [float(x) for x in d.attrs["scale"]],
  "units": f["grp"].attrs["units"].decode() if isinstance(f["grp"].attrs["units"], bytes) else str(f["grp"].attrs["units"]),
  "words": [w.decode() if isinstance(w, bytes) else w for w in f["words"][...]],
  "refs": [f[h5pyd.Reference(r.decode())].name for r in f["refs"][...]],
}}))
"#
    ));
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("h5pyd output");
    let sum: i64 = (0..42).map(|i| i * 3 - 50).sum();
    assert_eq!(v["shape"], serde_json::json!([6, 7]));
    assert_eq!(v["dtype"], ">i2");
    assert_eq!(v["sum"], sum);
    assert_eq!(v["v"], 41 * 3 - 50);
    assert_eq!(v["scale"], serde_json::json!([0.25, -1.5, 1e10]));
    assert_eq!(v["units"], "K");
    assert_eq!(v["words"], serde_json::json!(["eins", "zwei – zwo", ""]));
    assert_eq!(v["refs"], serde_json::json!(["/grp", "/grp/ints"]));

    // h5pyd writes, the connector reads (values and a later extension)
    let domain2 = format!("/home/admin/by_h5pyd_{}.h5", std::process::id());
    h5pyd(&format!(
        r#"
import h5pyd, numpy as np
f = h5pyd.File("{domain2}", "w")
f.create_dataset("x", data=np.arange(12, dtype="<f4").reshape(3, 4) / 4)
f["x"].attrs["n"] = np.int64(12)
r = f.create_dataset("r", (2,), dtype=h5pyd.special_dtype(ref=h5pyd.Reference))
r[0] = f["x"].ref
r[1] = f.ref
f.close()
"#
    ));
    let dn2 = c(&domain2);
    // SAFETY: as above.
    unsafe {
        let f = sys::H5Fopen(dn2.as_ptr(), 0, fapl);
        assert!(f >= 0, "H5Fopen of a domain h5pyd wrote failed");
        let d = sys::H5Dopen2(f, c("x").as_ptr(), 0);
        let mut buf = [0f64; 12];
        assert!(
            sys::H5Dread(
                d,
                sys::H5T_NATIVE_DOUBLE_g,
                0,
                0,
                0,
                buf.as_mut_ptr().cast()
            ) >= 0
        );
        let want: Vec<f64> = (0..12).map(|i| i as f64 / 4.0).collect();
        assert_eq!(buf.to_vec(), want);
        let a = sys::H5Aopen(d, c("n").as_ptr(), 0);
        let mut n = 0i64;
        assert!(sys::H5Aread(a, sys::H5T_NATIVE_LLONG_g, (&mut n as *mut i64).cast()) >= 0);
        assert_eq!(n, 12);
        sys::H5Aclose(a);
        sys::H5Dclose(d);
        // h5pyd's references, named through HDF5's reference API
        let d = sys::H5Dopen2(f, c("r").as_ptr(), 0);
        let mut refs: [sys::H5R_ref_t; 2] = std::mem::zeroed();
        assert!(sys::H5Dread(d, sys::H5T_STD_REF_g, 0, 0, 0, refs.as_mut_ptr().cast()) >= 0);
        let mut names = Vec::new();
        for r in &mut refs {
            let mut buf = [0u8; 64];
            let n = sys::H5Rget_obj_name(r, 0, buf.as_mut_ptr().cast(), buf.len());
            assert!(n > 0, "H5Rget_obj_name failed");
            names.push(String::from_utf8_lossy(&buf[..n as usize]).into_owned());
            sys::H5Rdestroy(r);
        }
        assert_eq!(names, ["/x", "/"]);
        sys::H5Dclose(d);
        sys::H5Fclose(f);
        // both domains go away with H5Fdelete
        assert!(sys::H5Fdelete(dn.as_ptr(), fapl) >= 0);
        assert!(sys::H5Fdelete(dn2.as_ptr(), fapl) >= 0);
        sys::H5Pclose(fapl);
    }
    let out = run(hs_tool("hsls").arg("/home/admin/"));
    let listing = text(&out.stdout);
    assert!(
        !listing.contains("written_") && !listing.contains("by_h5pyd_"),
        "deleted domains still listed: {listing}"
    );
}

/// `H5F_ACC_TRUNC` (a cast macro in C).
fn h5blob_acc_trunc() -> u32 {
    2
}
