//! Generates HDF5 bindings with bindgen from the headers of the HDF5 in `HDF5_DIR`
//! (default: the set-up script's cached build), and links against that library.
//!
//! Published `-sys` crates carry layouts of older HDF5 releases (README, "Dependencies"),
//! so the bindings always come from the headers of the library we load into.

use std::env;
use std::path::PathBuf;

/// Where `scripts/setup.sh` installs HDF5 when the user does not point `HDF5_DIR` elsewhere.
fn default_hdf5_dir() -> PathBuf {
    let cache = env::var_os("H5BLOB_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env::var("HOME").unwrap_or_default()).join(".cache/h5blob")
        });
    cache.join("hdf5-1.14.6")
}

fn main() {
    println!("cargo:rerun-if-env-changed=HDF5_DIR");
    println!("cargo:rerun-if-env-changed=H5BLOB_CACHE");
    println!("cargo:rerun-if-changed=src/h5/wrapper.h");
    let dir = env::var_os("HDF5_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(default_hdf5_dir);
    let include = dir.join("include");
    let lib = dir.join("lib");
    if !include.join("H5FDdevelop.h").exists() {
        panic!(
            "HDF5 >= 1.14 headers not found in {} (set HDF5_DIR to an HDF5 1.14.x or 2.x install, \
             or run scripts/setup.sh)",
            include.display()
        );
    }
    println!(
        "cargo:rerun-if-changed={}",
        include.join("H5public.h").display()
    );

    let bindings = bindgen::Builder::default()
        .header("src/h5/wrapper.h")
        .clang_arg(format!("-I{}", include.display()))
        .allowlist_function("H5.*")
        .allowlist_type("H5.*|hid_t|herr_t|htri_t|hsize_t|hssize_t|haddr_t|hbool_t")
        .allowlist_var("H5.*")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .derive_default(true)
        .layout_tests(true)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .expect("bindgen failed on the HDF5 headers");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    bindings
        .write_to_file(out.join("hdf5_bindings.rs"))
        .expect("write bindings");

    // The plugin resolves HDF5 symbols against the libhdf5 the host process already loaded
    // (same soname); the rpath only matters for our own test binaries.
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=dylib=hdf5");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    // A soname, so programs linked against the installed library record `libh5blob.so`
    // (found through their rpath or LD_LIBRARY_PATH), not the path it was linked from.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libh5blob.so");
    println!("cargo:include={}", include.display());
    println!("cargo:rustc-env=H5BLOB_HDF5_DIR={}", dir.display());
}
