//! REST VOL connector: HDF5 API calls served by HSDS over its REST API.
//!
//! The connector is registered as `REST` (value 520), the name and value of the HDF Group's
//! vol-rest, so programs and `HDF5_VOL_CONNECTOR=REST` settings carry over. HDF5 loads it
//! through the thin plugin file `libh5blob_vol.so` (plugins/rest-vol), which asks this
//! library for [`h5blob_rest_vol_class`].
//!
//! One file per HDF5 object class holds its callbacks; [`meta`] keeps each open domain's
//! metadata, [`select`] moves dataset values, [`types`] converts types and values.

pub mod attr;
pub mod dataset;
pub mod datatype;
pub mod file;
pub mod group;
pub mod hid;
pub mod link;
pub mod meta;
pub mod object;
pub mod refs;
pub mod select;
pub mod types;

use crate::blob::{BlobError, ErrorKind};
use crate::h5::{Major, boundary, sys};
use crate::hsds::HsdsError;
use meta::FileCtx;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Arc;
use sys::{H5VL_class_t, H5VL_loc_params_t, herr_t, hid_t};

pub(crate) type R<T> = Result<T, BlobError>;

/// The connector value the HDF Group registered for vol-rest.
pub const REST_VOL_VALUE: sys::H5VL_class_value_t = 520;

/// An HSDS failure as one of ours, its status choosing the HDF5 error code.
pub(crate) fn hs_err(e: HsdsError) -> BlobError {
    let kind = match e.status {
        Some(404 | 410) => ErrorKind::NotFound,
        Some(401 | 403) => ErrorKind::Denied,
        Some(409) => ErrorKind::Exists,
        Some(400 | 413) => ErrorKind::Config,
        Some(_) => ErrorKind::Server,
        None => ErrorKind::Transport,
    };
    BlobError::new(kind, e.msg)
}

pub(crate) fn unsupported(what: &str) -> BlobError {
    BlobError::new(
        ErrorKind::Unsupported,
        format!("{what} is not supported by the REST (HSDS) connector"),
    )
}

pub(crate) fn read_only(f: &FileCtx) -> R<()> {
    if f.writable {
        Ok(())
    } else {
        Err(BlobError::new(
            ErrorKind::Denied,
            format!("{} was opened read-only", f.domain),
        ))
    }
}

/// What an object handle given to HDF5 stands for.
pub enum Kind {
    File,
    Group(String),
    Dataset(Box<dataset::Dset>),
    Datatype(Box<datatype::Dtype>),
    Attr(Box<attr::Attr>),
}

/// Every `void *` this connector hands to HDF5 is a `Box<Obj>`.
pub struct Obj {
    pub file: Arc<FileCtx>,
    pub kind: Kind,
}

impl Obj {
    pub fn new(file: &Arc<FileCtx>, kind: Kind) -> Obj {
        Obj {
            file: file.clone(),
            kind,
        }
    }

    /// The HSDS id of the object (the root group for the file; the owner for attributes).
    pub fn oid(&self) -> &str {
        match &self.kind {
            Kind::File => &self.file.root,
            Kind::Group(id) => id,
            Kind::Dataset(d) => &d.id,
            Kind::Datatype(t) => &t.id,
            Kind::Attr(a) => &a.owner,
        }
    }

    pub fn into_raw(self) -> *mut c_void {
        Box::into_raw(Box::new(self)).cast()
    }

    /// An object of the right kind for an id of this file.
    pub fn open_id(file: &Arc<FileCtx>, id: &str) -> R<Obj> {
        let kind = match meta::collection(id)? {
            "groups" => Kind::Group(id.to_string()),
            "datasets" => Kind::Dataset(Box::new(dataset::Dset::load(file, id)?)),
            _ => Kind::Datatype(Box::new(datatype::Dtype::load(file, id)?)),
        };
        file.register(id);
        Ok(Obj::new(file, kind))
    }

    /// HDF5's identifier type for this object.
    pub fn id_type(&self) -> sys::H5I_type_t {
        match &self.kind {
            Kind::File => sys::H5I_FILE,
            Kind::Group(_) => sys::H5I_GROUP,
            Kind::Dataset(_) => sys::H5I_DATASET,
            Kind::Datatype(_) => sys::H5I_DATATYPE,
            Kind::Attr(_) => sys::H5I_ATTR,
        }
    }
}

/// # Safety
/// `p` is NULL or a pointer this connector returned to HDF5 and HDF5 has not closed.
pub(crate) unsafe fn obj<'a>(p: *mut c_void) -> R<&'a Obj> {
    // SAFETY: per the contract, a live Box<Obj>.
    unsafe { p.cast::<Obj>().as_ref() }
        .ok_or_else(|| BlobError::new(ErrorKind::Internal, "NULL object passed to the connector"))
}

/// Frees an object HDF5 closed.
///
/// # Safety
/// As [`obj`]; the pointer is not used again.
pub(crate) unsafe fn close_obj(p: *mut c_void) -> herr_t {
    if !p.is_null() {
        // SAFETY: our Box<Obj>, closed once by HDF5.
        drop(unsafe { Box::from_raw(p.cast::<Obj>()) });
    }
    0
}

/// The arguments struct HDF5 passed to a get/specific callback.
pub(crate) fn args<'a, T>(p: *mut T) -> R<&'a mut T> {
    // SAFETY: HDF5 passes NULL or a valid arguments struct that outlives the callback.
    unsafe { p.as_mut() }.ok_or_else(|| BlobError::new(ErrorKind::Internal, "NULL arguments"))
}

/// Writes a result through one of HDF5's out pointers, refusing NULL.
pub(crate) fn put<T>(p: *mut T, v: T) -> R<()> {
    if p.is_null() {
        return Err(BlobError::new(
            ErrorKind::Internal,
            "NULL output pointer from HDF5",
        ));
    }
    // SAFETY: non-NULL out pointer from HDF5, valid for one T.
    unsafe { p.write(v) };
    Ok(())
}

/// The location struct HDF5 passed.
pub(crate) fn loc_of<'a>(loc: *const H5VL_loc_params_t) -> R<&'a H5VL_loc_params_t> {
    // SAFETY: HDF5 passes NULL or a valid location that outlives the callback.
    unsafe { loc.as_ref() }.ok_or_else(|| BlobError::new(ErrorKind::Internal, "NULL location"))
}

/// The `close` callback of every object class: frees our object.
pub(crate) unsafe extern "C" fn close_cb(
    o: *mut c_void,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    // SAFETY: HDF5 closes each object it got from us once.
    unsafe { close_obj(o) }
}

/// The `optional` callback of classes whose optional operations are all native-only.
pub(crate) fn no_optional(
    name: &CStr,
    major: Major,
    args: *mut sys::H5VL_optional_args_t,
    what: &str,
) -> herr_t {
    // SAFETY: HDF5 passes NULL or valid arguments.
    let op = unsafe { args.as_ref().map_or(-1, |a| a.op_type) };
    status(name, major, || {
        Err(unsupported(&format!("native-file {what} operation {op}")))
    })
}

/// Links or attributes in the order HDF5 asked for: by name (bytewise, as HDF5 compares)
/// or by creation time, increasing or decreasing.
pub(crate) fn in_order<T>(
    mut v: Vec<T>,
    idx: sys::H5_index_t,
    order: sys::H5_iter_order_t,
    name: impl Fn(&T) -> &str,
    created: impl Fn(&T) -> f64,
) -> Vec<T> {
    if idx == sys::H5_INDEX_CRT_ORDER {
        v.sort_by(|a, b| {
            created(a)
                .total_cmp(&created(b))
                .then_with(|| name(a).cmp(name(b)))
        });
    } else {
        v.sort_by(|a, b| name(a).as_bytes().cmp(name(b).as_bytes()));
    }
    if order == sys::H5_ITER_DEC {
        v.reverse();
    }
    v
}

/// The creation-order index of each name, computed once per listing.
pub(crate) fn creation_index<T: Clone>(
    v: &[T],
    name: impl Fn(&T) -> &str,
    created: impl Fn(&T) -> f64,
) -> std::collections::HashMap<String, i64> {
    in_order(
        v.to_vec(),
        sys::H5_INDEX_CRT_ORDER,
        sys::H5_ITER_INC,
        &name,
        created,
    )
    .iter()
    .enumerate()
    .map(|(i, x)| (name(x).to_string(), i as i64))
    .collect()
}

/// Registers a new handle for `o` with HDF5 (for iteration callbacks); the caller closes it.
pub(crate) fn register(o: Obj) -> R<hid_t> {
    let ty = o.id_type();
    let p = o.into_raw();
    // SAFETY: p is a fresh Box<Obj>; on failure we take it back.
    let id = unsafe { sys::H5VLwrap_register(p, ty) };
    if id < 0 {
        // SAFETY: HDF5 did not take ownership.
        unsafe { close_obj(p) };
        return Err(BlobError::new(
            ErrorKind::Internal,
            "cannot register an object with HDF5",
        ));
    }
    Ok(id)
}

/// Releases a handle from [`register`].
pub(crate) fn release(id: hid_t) {
    // SAFETY: an id we registered.
    unsafe {
        sys::H5Idec_ref(id);
    }
}

/// A C string argument.
pub(crate) fn cstr<'a>(p: *const c_char, what: &str) -> R<&'a str> {
    // SAFETY: HDF5 passes NUL-terminated strings or NULL.
    unsafe { crate::h5::arg_str(p, what) }
}

/// Copies `s` into a caller's buffer the HDF5 way (truncated, NUL-terminated) and returns
/// its full length.
pub(crate) fn copy_name(s: &str, buf: *mut c_char, size: usize) -> usize {
    if !buf.is_null() && size > 0 {
        let n = s.len().min(size - 1);
        // SAFETY: the caller's buffer holds `size` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    s.len()
}

/// Which object a location names, relative to `o`: the domain holding it (another one
/// when the path crosses an external link) and its id.
pub(crate) fn locate(o: &Obj, loc: *const H5VL_loc_params_t) -> R<(Arc<FileCtx>, String)> {
    let loc = loc_of(loc)?;
    let f = &o.file;
    // SAFETY: the union member read is the one `type_` says is set.
    unsafe {
        match loc.type_ {
            sys::H5VL_OBJECT_BY_SELF => Ok((f.clone(), o.oid().to_string())),
            sys::H5VL_OBJECT_BY_NAME => {
                let name = cstr(loc.loc_data.loc_by_name.name, "object name")?;
                f.locate_path(o.oid(), name)
            }
            sys::H5VL_OBJECT_BY_IDX => {
                let by = loc.loc_data.loc_by_idx;
                let (g, group) = f.locate_path(o.oid(), cstr(by.name, "group name")?)?;
                let l = link::nth(&g, &group, by.idx_type, by.order, by.n)?;
                match l.target {
                    meta::Target::Hard(id) => Ok((g, id)),
                    _ => g.locate_path(&group, &l.name),
                }
            }
            sys::H5VL_OBJECT_BY_TOKEN => {
                let t = loc.loc_data.loc_by_token.token;
                let t = t
                    .as_ref()
                    .ok_or_else(|| BlobError::new(ErrorKind::Internal, "NULL token"))?;
                f.locate_token(&t.__data)
            }
            other => Err(BlobError::new(
                ErrorKind::Internal,
                format!("unknown location type {other}"),
            )),
        }
    }
}

/// Like [`locate`] for a location where something is created: it must be in `o`'s domain.
pub(crate) fn locate_here(o: &Obj, loc: *const H5VL_loc_params_t) -> R<String> {
    let (f, id) = locate(o, loc)?;
    if !Arc::ptr_eq(&f, &o.file) {
        return Err(unsupported(
            "creating objects in a domain reached by an external link",
        ));
    }
    Ok(id)
}

pub(crate) fn call<T>(name: &CStr, major: Major, fail: T, f: impl FnOnce() -> R<T>) -> T {
    boundary(name, major, fail, f)
}

pub(crate) fn status(name: &CStr, major: Major, f: impl FnOnce() -> R<()>) -> herr_t {
    boundary(name, major, -1, || f().map(|()| 0))
}

// ---- connector-wide callbacks -------------------------------------------------------

unsafe extern "C" fn initialize(_vipl: hid_t) -> herr_t {
    0
}

unsafe extern "C" fn terminate() -> herr_t {
    0
}

unsafe extern "C" fn get_conn_cls(
    _obj: *mut c_void,
    _lvl: sys::H5VL_get_conn_lvl_t,
    cls: *mut *const H5VL_class_t,
) -> herr_t {
    status(c"get_conn_cls", Major::Vol, || {
        put(cls, &CLASS.0 as *const H5VL_class_t)
    })
}

unsafe extern "C" fn get_cap_flags(_info: *const c_void, flags: *mut u64) -> herr_t {
    status(c"get_cap_flags", Major::Vol, || put(flags, CAP_FLAGS))
}

/// No optional (native-only) operation is supported: HDF5 asks before using one.
unsafe extern "C" fn opt_query(
    _obj: *mut c_void,
    _cls: sys::H5VL_subclass_t,
    _opt_type: c_int,
    flags: *mut u64,
) -> herr_t {
    status(c"opt_query", Major::Vol, || put(flags, 0))
}

unsafe extern "C" fn token_cmp(
    _obj: *mut c_void,
    t1: *const sys::H5O_token_t,
    t2: *const sys::H5O_token_t,
    out: *mut c_int,
) -> herr_t {
    status(c"token_cmp", Major::Object, || {
        // SAFETY: HDF5 passes NULL or valid tokens.
        let (a, b) = unsafe { (t1.as_ref(), t2.as_ref()) };
        let (Some(a), Some(b)) = (a, b) else {
            return Err(BlobError::new(ErrorKind::Internal, "NULL token"));
        };
        put(out, a.__data.cmp(&b.__data) as c_int)
    })
}

unsafe extern "C" fn token_to_str(
    o: *mut c_void,
    _ty: sys::H5I_type_t,
    token: *const sys::H5O_token_t,
    out: *mut *mut c_char,
) -> herr_t {
    status(c"token_to_str", Major::Object, || {
        // SAFETY: valid object and token from HDF5.
        let (o, t) = unsafe { (obj(o)?, token.as_ref()) };
        let t = t.ok_or_else(|| BlobError::new(ErrorKind::Internal, "NULL token"))?;
        let (_, id) = o.file.locate_token(&t.__data)?;
        let s = std::ffi::CString::new(id).unwrap_or_default();
        let n = s.as_bytes_with_nul().len();
        if out.is_null() {
            return Err(BlobError::new(ErrorKind::Internal, "NULL output pointer"));
        }
        // SAFETY: HDF5 frees the string with H5free_memory, so it comes from HDF5's
        // allocator; n bytes are copied into an n-byte allocation.
        unsafe {
            let p = sys::H5allocate_memory(n, false).cast::<c_char>();
            if p.is_null() {
                return Err(BlobError::new(ErrorKind::Internal, "out of memory"));
            }
            std::ptr::copy_nonoverlapping(s.as_ptr(), p, n);
            *out = p;
        }
        Ok(())
    })
}

unsafe extern "C" fn token_from_str(
    o: *mut c_void,
    _ty: sys::H5I_type_t,
    s: *const c_char,
    token: *mut sys::H5O_token_t,
) -> herr_t {
    status(c"token_from_str", Major::Object, || {
        // SAFETY: valid object from HDF5.
        let o = unsafe { obj(o)? };
        let id = cstr(s, "token string")?;
        meta::collection(id)?;
        let t = o.file.register(id);
        // SAFETY: HDF5 passes a token to fill.
        unsafe {
            token
                .as_mut()
                .ok_or_else(|| BlobError::new(ErrorKind::Internal, "NULL token"))?
                .__data = t;
        }
        Ok(())
    })
}

/// The capabilities HDF5's tools and tests look for.
const CAP_FLAGS: u64 = sys::H5VL_CAP_FLAG_FILE_BASIC as u64
    | sys::H5VL_CAP_FLAG_FILE_MORE as u64
    | sys::H5VL_CAP_FLAG_GROUP_BASIC as u64
    | sys::H5VL_CAP_FLAG_DATASET_BASIC as u64
    | sys::H5VL_CAP_FLAG_DATASET_MORE as u64
    | sys::H5VL_CAP_FLAG_ATTR_BASIC as u64
    | sys::H5VL_CAP_FLAG_ATTR_MORE as u64
    | sys::H5VL_CAP_FLAG_LINK_BASIC as u64
    | sys::H5VL_CAP_FLAG_OBJECT_BASIC as u64
    | sys::H5VL_CAP_FLAG_STORED_DATATYPES as u64
    | sys::H5VL_CAP_FLAG_CREATION_ORDER as u64
    | sys::H5VL_CAP_FLAG_ITERATE as u64
    | sys::H5VL_CAP_FLAG_BY_IDX as u64
    | sys::H5VL_CAP_FLAG_GET_PLIST as u64
    | sys::H5VL_CAP_FLAG_HARD_LINKS as u64
    | sys::H5VL_CAP_FLAG_SOFT_LINKS as u64
    | sys::H5VL_CAP_FLAG_EXTERNAL_LINKS as u64
    | sys::H5VL_CAP_FLAG_FILTERS
    | sys::H5VL_CAP_FLAG_FILL_VALUES;

/// The class table lives in a static; HDF5 only reads it.
#[repr(transparent)]
pub struct Class(pub H5VL_class_t);
// SAFETY: the table is immutable; its pointers are to static data and functions.
unsafe impl Sync for Class {}

pub static CLASS: Class = Class(H5VL_class_t {
    version: sys::H5VL_VERSION,
    value: REST_VOL_VALUE,
    name: c"REST".as_ptr(),
    conn_version: 1,
    cap_flags: CAP_FLAGS,
    initialize: Some(initialize),
    terminate: Some(terminate),
    info_cls: sys::H5VL_info_class_t {
        size: 0,
        copy: None,
        cmp: None,
        free: None,
        to_str: None,
        from_str: None,
    },
    wrap_cls: sys::H5VL_wrap_class_t {
        get_object: None,
        get_wrap_ctx: None,
        wrap_object: None,
        unwrap_object: None,
        free_wrap_ctx: None,
    },
    attr_cls: attr::CLASS,
    dataset_cls: dataset::CLASS,
    datatype_cls: datatype::CLASS,
    file_cls: file::CLASS,
    group_cls: group::CLASS,
    link_cls: link::CLASS,
    object_cls: object::CLASS,
    introspect_cls: sys::H5VL_introspect_class_t {
        get_conn_cls: Some(get_conn_cls),
        get_cap_flags: Some(get_cap_flags),
        opt_query: Some(opt_query),
    },
    request_cls: sys::H5VL_request_class_t {
        wait: None,
        notify: None,
        cancel: None,
        specific: None,
        optional: None,
        free: None,
    },
    blob_cls: sys::H5VL_blob_class_t {
        put: None,
        get: None,
        specific: None,
        optional: None,
    },
    token_cls: sys::H5VL_token_class_t {
        cmp: Some(token_cmp),
        to_str: Some(token_to_str),
        from_str: Some(token_from_str),
    },
    optional: None,
});

/// The connector class, for the plugin file `libh5blob_vol.so` (and for programs that
/// register it themselves with `H5VLregister_connector`).
#[unsafe(no_mangle)]
pub extern "C" fn h5blob_rest_vol_class() -> *const c_void {
    (&CLASS.0 as *const H5VL_class_t).cast()
}
