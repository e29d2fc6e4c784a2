//! Object references: HSDS stores an object reference as the referenced object's id in a
//! fixed-size, NUL-padded string (`H5T_REFERENCE` / `H5T_STD_REF_OBJ`, 48 bytes in binary
//! transfers; older writers prefix the id with its collection, "groups/g-..."). HDF5
//! programs see them as `H5R_ref_t` (`H5T_STD_REF` in memory): made with
//! `H5Rcreate_object` on the referenced object, so `H5Rget_obj_name`, `H5Ropen_object` and
//! friends come back to this connector by token.
//!
//! Old-style `hobj_ref_t` (`H5T_STD_REF_OBJ` in memory) is a native file address and has
//! no meaning here; region and attribute references have no HSDS binary form. Both fail
//! with `H5E_UNSUPPORTED`.

use super::meta::FileCtx;
use super::{Kind, Obj, R, register, release, unsupported};
use crate::blob::{BlobError, ErrorKind};
use crate::h5::sys;
use std::collections::HashMap;
use std::sync::Arc;
use sys::hid_t;

/// Bytes per object reference in HSDS's binary transfers (its item size for
/// `H5T_STD_REF_OBJ`).
pub(crate) const STORED: usize = 48;
const H5P_DEFAULT: hid_t = 0;
/// Bytes per `H5R_ref_t`.
const REF: usize = std::mem::size_of::<sys::H5R_ref_t>();

/// Whether `t` is a reference type.
pub fn is_ref(t: hid_t) -> bool {
    // SAFETY: plain HDF5 query.
    unsafe { sys::H5Tget_class(t) == sys::H5T_REFERENCE }
}

/// The memory type must be `H5T_STD_REF`: the one reference type that can name an HSDS
/// object.
fn check_mem_type(mem_type: hid_t) -> R<()> {
    // SAFETY: plain HDF5 query on HDF5's predefined type.
    if unsafe { sys::H5Tequal(mem_type, sys::H5T_STD_REF_g) } > 0 {
        return Ok(());
    }
    Err(unsupported(
        "object references in any memory type but H5T_STD_REF (H5R_ref_t): old-style \
         hobj_ref_t values are native file addresses, and region references have no HSDS \
         form",
    ))
}

/// The HSDS id held in one stored reference; `None` for a null reference.
pub fn parse(stored: &[u8]) -> R<Option<String>> {
    let end = stored.iter().position(|b| *b == 0).unwrap_or(stored.len());
    let s = std::str::from_utf8(&stored[..end]).map_err(|_| bad_value(stored))?;
    let id = s.rsplit('/').next().unwrap_or("").trim();
    if id.is_empty() {
        return Ok(None);
    }
    super::meta::collection(id).map_err(|_| bad_value(stored))?;
    Ok(Some(id.to_string()))
}

fn bad_value(stored: &[u8]) -> BlobError {
    BlobError::new(
        ErrorKind::Server,
        format!(
            "the server sent an object reference that names no object: {:?}",
            String::from_utf8_lossy(stored).trim_end_matches('\0')
        ),
    )
}

/// One stored reference holding `id` (or nothing, for a null reference).
pub fn store(id: Option<&str>) -> R<[u8; STORED]> {
    let mut out = [0u8; STORED];
    if let Some(id) = id {
        if id.len() > STORED {
            return Err(BlobError::new(
                ErrorKind::Internal,
                format!("object id {id:?} is longer than a stored reference"),
            ));
        }
        out[..id.len()].copy_from_slice(id.as_bytes());
    }
    Ok(out)
}

/// Owned `H5R_ref_t`s, destroyed on drop unless handed over.
struct Refs(Vec<sys::H5R_ref_t>);

impl Drop for Refs {
    fn drop(&mut self) {
        for r in &mut self.0 {
            // SAFETY: the byte view of a plain C union; a reference HDF5 created (all
            // zero for a null reference, which has nothing to free).
            unsafe {
                if r.u.__data.iter().any(|b| *b != 0) {
                    sys::H5Rdestroy(r);
                }
            }
        }
    }
}

fn zero_ref() -> sys::H5R_ref_t {
    // SAFETY: plain C data; all zero is HDF5's null reference.
    unsafe { std::mem::zeroed() }
}

/// A reference to object `id` of `f`, made by HDF5 from a handle on the object so the
/// reference holds the file open and comes back to this connector. The handle only
/// names the object for `H5Rcreate_object` (its token and file), so it is registered as
/// a group whatever the object is: nothing is fetched, and a reference to an object that
/// is gone fails when it is used, not when it is read.
fn make(f: &Arc<FileCtx>, id: &str) -> R<sys::H5R_ref_t> {
    f.register(id);
    let hid = register(Obj::new(f, Kind::Group(id.to_string())))?;
    let mut r = zero_ref();
    // SAFETY: a live handle we registered; `r` is a whole H5R_ref_t.
    let st = unsafe { sys::H5Rcreate_object(hid, c".".as_ptr(), H5P_DEFAULT, &mut r) };
    release(hid);
    if st < 0 {
        return Err(BlobError::new(
            ErrorKind::Internal,
            format!("HDF5 could not make a reference to {id}"),
        ));
    }
    Ok(r)
}

/// `n` stored references (as HSDS sends them) -> `n` `H5R_ref_t` in `mem_type`'s layout.
/// The caller owns the references it gets (the application frees them with `H5Rdestroy`).
pub fn to_memory(f: &Arc<FileCtx>, mem_type: hid_t, n: usize, stored: &[u8]) -> R<Vec<u8>> {
    check_mem_type(mem_type)?;
    if stored.len() != n * STORED {
        return Err(BlobError::new(
            ErrorKind::Server,
            format!(
                "the server sent {} bytes for {n} object references of {STORED} bytes",
                stored.len()
            ),
        ));
    }
    // One reference per distinct object, copied to every element naming it.
    let mut protos: HashMap<String, usize> = HashMap::new();
    let mut made = Refs(Vec::new());
    let mut out = Refs(Vec::with_capacity(n));
    for s in stored.chunks_exact(STORED) {
        let mut r = zero_ref();
        if let Some(id) = parse(s)? {
            let i = match protos.get(&id) {
                Some(i) => *i,
                None => {
                    made.0.push(make(f, &id)?);
                    protos.insert(id, made.0.len() - 1);
                    made.0.len() - 1
                }
            };
            // SAFETY: a live reference and a whole destination.
            if unsafe { sys::H5Rcopy(&made.0[i], &mut r) } < 0 {
                return Err(BlobError::new(
                    ErrorKind::Internal,
                    "HDF5 could not copy a reference",
                ));
            }
        }
        out.0.push(r);
    }
    let refs = std::mem::take(&mut out.0);
    let mut bytes = Vec::with_capacity(n * REF);
    for r in &refs {
        // SAFETY: H5R_ref_t is plain bytes; ownership moves to the caller's buffer.
        bytes.extend_from_slice(unsafe {
            std::slice::from_raw_parts((r as *const sys::H5R_ref_t).cast::<u8>(), REF)
        });
    }
    Ok(bytes)
}

/// `n` `H5R_ref_t` (the application's) -> `n` stored references. Each must be a null
/// reference or an object reference to an object of this domain.
pub fn from_memory(f: &Arc<FileCtx>, mem_type: hid_t, n: usize, refs: &[u8]) -> R<Vec<u8>> {
    check_mem_type(mem_type)?;
    let mut out = Vec::with_capacity(n * STORED);
    for chunk in refs.chunks_exact(REF).take(n) {
        let id = if chunk.iter().all(|b| *b == 0) {
            None
        } else {
            Some(target(f, chunk)?)
        };
        out.extend_from_slice(&store(id.as_deref())?);
    }
    Ok(out)
}

/// The id of the object one application reference names.
fn target(f: &Arc<FileCtx>, chunk: &[u8]) -> R<String> {
    let mut app = zero_ref();
    // SAFETY: `chunk` is one H5R_ref_t's bytes; copied so it is aligned.
    unsafe {
        std::ptr::copy_nonoverlapping(
            chunk.as_ptr(),
            (&mut app as *mut sys::H5R_ref_t).cast(),
            REF,
        )
    };
    // Our own copy, destroyed on return: opening may attach a reopened file to it.
    let mut r = Refs(vec![zero_ref()]);
    // SAFETY: the application's reference, validated by HDF5; a whole destination.
    if unsafe { sys::H5Rcopy(&app, &mut r.0[0]) } < 0 {
        return Err(BlobError::new(
            ErrorKind::Config,
            "a reference to write is not a valid H5R_ref_t (was it destroyed?)",
        ));
    }
    let r = &mut r.0[0];
    // SAFETY: plain HDF5 calls on the application's reference; HDF5 validates it.
    let ty = unsafe { sys::H5Rget_type(r) };
    if ty != sys::H5R_OBJECT2 {
        return Err(unsupported(
            "writing region, attribute or old-style references (HSDS stores object \
             references only)",
        ));
    }
    // SAFETY: as above; the handle is closed below.
    let hid = unsafe { sys::H5Ropen_object(r, H5P_DEFAULT, H5P_DEFAULT) };
    if hid < 0 {
        return Err(BlobError::new(
            ErrorKind::Config,
            "a reference to write cannot be opened (was it destroyed, or its file closed?)",
        ));
    }
    // SAFETY: plain C data filled by HDF5.
    let mut info: sys::H5O_info2_t = unsafe { std::mem::zeroed() };
    // SAFETY: a live object handle we opened.
    let st = unsafe { sys::H5Oget_info3(hid, &mut info, sys::H5O_INFO_BASIC) };
    // SAFETY: as above.
    unsafe { sys::H5Oclose(hid) };
    if st < 0 {
        return Err(BlobError::new(
            ErrorKind::Internal,
            "HDF5 could not tell the object a reference names",
        ));
    }
    match f.locate_token(&info.token.__data) {
        Ok((g, id)) if Arc::ptr_eq(&g, f) => Ok(id),
        _ => Err(unsupported(
            "references to objects outside the domain being written (HSDS references \
             name objects of their own domain)",
        )),
    }
}
