//! Struct layouts and constants shared with C, checked against what a C compiler makes of
//! the headers we build against (HDF5's) and ship (include/h5blob.h).

use h5blob::capi::h5blob_stats_t;
use h5blob::h5::sys;
use h5blob::vfd::H5FD_blob_fapl_t;
use std::collections::HashMap;
use std::mem::{offset_of, size_of};
use std::process::Command;

fn c_values() -> HashMap<String, u64> {
    let hdf5 = std::env::var("HDF5_DIR").unwrap_or_else(|_| env!("H5BLOB_HDF5_DIR").to_string());
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("layout.c");
    let mut c = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <H5FDdevelop.h>\n#include <H5VLconnector.h>\n#include \"h5blob.h\"\n#define P(n, v) printf(\"%s %llu\\n\", n, (unsigned long long)(v))\nint main(void) {\n",
    );
    for (ty, fields) in [
        (
            "H5FD_class_t",
            &[
                "version",
                "value",
                "name",
                "maxaddr",
                "fc_degree",
                "fapl_size",
                "open",
                "read",
                "read_vector",
                "read_selection",
                "ctl",
                "fl_map",
            ][..],
        ),
        (
            "H5FD_t",
            &[
                "driver_id",
                "cls",
                "fileno",
                "access_flags",
                "feature_flags",
                "maxaddr",
                "base_addr",
                "paged_aggr",
            ][..],
        ),
        (
            "H5VL_class_t",
            &[
                "version",
                "value",
                "name",
                "conn_version",
                "cap_flags",
                "initialize",
                "info_cls",
                "wrap_cls",
                "attr_cls",
                "dataset_cls",
                "file_cls",
                "optional",
            ][..],
        ),
        (
            "H5FD_blob_fapl_t",
            &[
                "version",
                "account",
                "endpoint",
                "account_key",
                "sas_token",
                "config",
            ][..],
        ),
        ("h5blob_stats_t", &["requests", "bytes", "wait_seconds"][..]),
    ] {
        c.push_str(&format!("P(\"{ty}\", sizeof({ty}));\n"));
        for f in fields {
            c.push_str(&format!("P(\"{ty}.{f}\", offsetof({ty}, {f}));\n"));
        }
    }
    for m in [
        "H5F_ACC_RDWR",
        "H5F_ACC_TRUNC",
        "H5F_ACC_EXCL",
        "H5F_ACC_CREAT",
        "HADDR_UNDEF",
        "H5FD_CLASS_VERSION",
    ] {
        c.push_str(&format!("P(\"{m}\", {m});\n"));
    }
    c.push_str("return 0; }\n");
    std::fs::write(&src, c).unwrap();
    let exe = dir.path().join("layout");
    let out = Command::new("cc")
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .arg(format!("-I{hdf5}/include"))
        .arg(format!("-I{}/include", env!("CARGO_MANIFEST_DIR")))
        // The H5F_ACC_* macros call H5check_version/H5open.
        .arg(format!("-L{hdf5}/lib"))
        .arg(format!("-Wl,-rpath,{hdf5}/lib"))
        .arg("-lhdf5")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&exe).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn layouts_match_the_c_compiler() {
    let c = c_values();
    let check =
        |k: &str, rust: usize| assert_eq!(c[k], rust as u64, "{k}: C says {}, Rust {}", c[k], rust);
    macro_rules! layout {
        ($ty:ty, $name:literal, [$($f:ident),*]) => {
            check($name, size_of::<$ty>());
            $(check(concat!($name, ".", stringify!($f)), offset_of!($ty, $f));)*
        };
    }
    layout!(
        sys::H5FD_class_t,
        "H5FD_class_t",
        [
            version,
            value,
            name,
            maxaddr,
            fc_degree,
            fapl_size,
            open,
            read,
            read_vector,
            read_selection,
            ctl,
            fl_map
        ]
    );
    layout!(
        sys::H5FD_t,
        "H5FD_t",
        [
            driver_id,
            cls,
            fileno,
            access_flags,
            feature_flags,
            maxaddr,
            base_addr,
            paged_aggr
        ]
    );
    layout!(
        sys::H5VL_class_t,
        "H5VL_class_t",
        [
            version,
            value,
            name,
            conn_version,
            cap_flags,
            initialize,
            info_cls,
            wrap_cls,
            attr_cls,
            dataset_cls,
            file_cls,
            optional
        ]
    );
    layout!(
        H5FD_blob_fapl_t,
        "H5FD_blob_fapl_t",
        [version, account, endpoint, account_key, sas_token, config]
    );
    layout!(
        h5blob_stats_t,
        "h5blob_stats_t",
        [requests, bytes, wait_seconds]
    );
    assert_eq!(c["H5FD_CLASS_VERSION"], sys::H5FD_CLASS_VERSION as u64);
    assert_eq!(c["H5F_ACC_RDWR"], 1);
    assert_eq!(c["H5F_ACC_TRUNC"], 2);
    assert_eq!(c["H5F_ACC_EXCL"], 4);
    assert_eq!(c["H5F_ACC_CREAT"], 0x10);
    assert_eq!(c["HADDR_UNDEF"], u64::MAX);
}
