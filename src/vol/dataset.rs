//! H5D callbacks: datasets are HSDS datasets; values move as binary in the selection's
//! iteration order and are converted and scattered here with HDF5's own routines.

use super::file::new_plist;
use super::group::{create_linked, parent_for_create, wants_intermediate};
use super::hid::Hid;
use super::meta::FileCtx;
use super::refs;
use super::select::{self, Plan};
use super::{
    Kind, Obj, R, call, cstr, hs_err, locate, locate_here, obj, put, read_only, status, types,
    unsupported,
};
use crate::blob::{BlobError, ErrorKind};
use crate::h5::{Major, sys};
use crate::runtime::block_on;
use crate::sync::lock;
use serde_json::{Value, json};
use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::{Arc, Mutex};
use sys::{H5VL_loc_params_t, herr_t, hid_t};

/// `H5S_ALL`, `H5S_BLOCK` and `H5S_PLIST` from H5Spublic.h (cast macros bindgen skips).
const H5S_ALL: hid_t = 0;
const H5S_BLOCK: hid_t = 1;
const H5S_PLIST: hid_t = 2;

pub(crate) const CLASS: sys::H5VL_dataset_class_t = sys::H5VL_dataset_class_t {
    create: Some(create),
    open: Some(open),
    read: Some(read),
    write: Some(write),
    get: Some(get),
    specific: Some(specific),
    optional: Some(optional),
    close: Some(super::close_cb),
};

pub struct Dset {
    pub id: String,
    /// The file datatype (as HSDS describes it).
    pub tid: Hid,
    /// The current dataspace (changed by H5Dset_extent).
    space: Mutex<Hid>,
    dcpl: Hid,
    /// The whole value when the server's domain summary carried it (small datasets);
    /// dropped by our own writes.
    value: Mutex<Option<Value>>,
}

/// The type JSON of a committed type, for type references ("t-...").
pub(crate) fn resolver(f: &FileCtx) -> impl Fn(&str) -> Result<Value, String> + '_ {
    move |id: &str| f.object(id).map(|v| v["type"].clone()).map_err(|e| e.msg)
}

pub(crate) fn type_err(e: String) -> BlobError {
    BlobError::new(ErrorKind::Unsupported, e)
}

impl Dset {
    pub fn load(f: &Arc<FileCtx>, id: &str) -> R<Dset> {
        let v = f.object(id)?;
        let tid = types::type_from_json(&v["type"], &resolver(f)).map_err(type_err)?;
        let space = types::space_from_json(&v["shape"]).map_err(type_err)?;
        let empty = json!({});
        let cprops = v.get("creationProperties").unwrap_or(&empty);
        let dcpl = types::dcpl_from_json(cprops, tid.id()).map_err(type_err)?;
        Ok(Dset {
            id: id.to_string(),
            tid,
            space: Mutex::new(space),
            dcpl,
            value: Mutex::new(v.get("value").filter(|x| !x.is_null()).cloned()),
        })
    }

    pub fn dims(&self) -> Vec<u64> {
        let sp = lock(&self.space);
        dims_of(sp.id())
    }

    fn space_copy(&self) -> R<Hid> {
        // SAFETY: plain HDF5 call on our own dataspace.
        Hid::check(
            unsafe { sys::H5Scopy(lock(&self.space).id()) },
            "copy a dataspace",
        )
        .map_err(internal)
    }
}

fn internal(e: String) -> BlobError {
    BlobError::new(ErrorKind::Internal, e)
}

pub(crate) fn dims_of(space: hid_t) -> Vec<u64> {
    // SAFETY: plain HDF5 queries; the array holds `rank` entries.
    unsafe {
        let rank = sys::H5Sget_simple_extent_ndims(space).max(0) as usize;
        let mut d = vec![0u64; rank];
        if rank > 0 {
            sys::H5Sget_simple_extent_dims(space, d.as_mut_ptr(), ptr::null_mut());
        }
        d
    }
}

/// The type JSON to send for a new dataset or attribute: a committed type by reference.
pub(crate) fn type_json_for(tid: hid_t) -> R<Value> {
    // SAFETY: plain HDF5 queries; H5VLobject returns our own object for a committed type.
    unsafe {
        if sys::H5Tcommitted(tid) > 0 {
            let p = sys::H5VLobject(tid);
            if let Ok(o) = obj(p) {
                if let Kind::Datatype(t) = &o.kind {
                    return Ok(Value::String(t.id.clone()));
                }
            }
        }
    }
    types::type_to_json(tid).map_err(type_err)
}

unsafe extern "C" fn create(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    lcpl: hid_t,
    type_id: hid_t,
    space_id: hid_t,
    dcpl_id: hid_t,
    _dapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    call(c"dataset_create", Major::Dataset, ptr::null_mut(), || {
        // SAFETY: a live object from HDF5.
        let o = unsafe { obj(o)? };
        let f = &o.file;
        read_only(f)?;
        let start = locate_here(o, loc)?;
        let type_json = type_json_for(type_id)?;
        let (shape, maxdims) = types::space_to_json(space_id).map_err(type_err)?;
        let cprops = types::dcpl_to_json(dcpl_id, type_id).map_err(type_err)?;
        let mut body = json!({"type": type_json, "shape": shape, "creationProperties": cprops});
        if let Some(m) = maxdims {
            body["maxdims"] = m;
        }
        let id = if name.is_null() {
            // H5Dcreate_anon
            let v =
                block_on(
                    f.client
                        .send_json(reqwest::Method::POST, "/datasets", &f.q(&[]), body),
                )
                .map_err(hs_err)?;
            let id = v["id"].as_str().unwrap_or_default().to_string();
            f.register(&id);
            id
        } else {
            let name = cstr(name, "dataset name")?;
            let (parent, last) = parent_for_create(f, &start, name, wants_intermediate(lcpl))?;
            create_linked(f, "datasets", &parent, last, body)?
        };
        f.set_attrs_empty(&id);
        let d = Dset::load(f, &id)?;
        Ok(Obj::new(f, Kind::Dataset(Box::new(d))).into_raw())
    })
}

unsafe extern "C" fn open(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    _dapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    call(c"dataset_open", Major::Dataset, ptr::null_mut(), || {
        // SAFETY: a live object from HDF5.
        let o = unsafe { obj(o)? };
        let (f, start) = locate(o, loc)?;
        let name = cstr(name, "dataset name")?;
        let (f, id) = f.locate_path(&start, name)?;
        if !id.starts_with('d') {
            return Err(BlobError::new(
                ErrorKind::NotFound,
                format!("{name:?} is not a dataset"),
            ));
        }
        let d = Dset::load(&f, &id)?;
        Ok(Obj::new(&f, Kind::Dataset(Box::new(d))).into_raw())
    })
}

fn dset(o: &Obj) -> R<&Dset> {
    match &o.kind {
        Kind::Dataset(d) => Ok(d),
        _ => Err(BlobError::new(ErrorKind::Internal, "not a dataset")),
    }
}

/// The file and memory selections of one transfer, with HDF5's special ids resolved.
struct Spaces {
    file: Hid,
    mem: Hid,
    n: usize,
}

fn spaces(d: &Dset, mem_space: hid_t, file_space: hid_t) -> R<Spaces> {
    let file = if file_space == H5S_ALL {
        let s = d.space_copy()?;
        // SAFETY: plain HDF5 call on our copy.
        unsafe { sys::H5Sselect_all(s.id()) };
        s
    } else {
        Hid::borrowed(file_space).map_err(internal)?
    };
    // SAFETY: plain HDF5 query.
    let n = unsafe { sys::H5Sget_select_npoints(file.id()) };
    if n < 0 {
        return Err(internal("cannot count the selected elements".into()));
    }
    let mem = match mem_space {
        H5S_ALL => {
            // SAFETY: plain HDF5 call.
            Hid::check(unsafe { sys::H5Scopy(file.id()) }, "copy a dataspace").map_err(internal)?
        }
        H5S_BLOCK | H5S_PLIST => {
            let dims = [n as u64];
            // SAFETY: one-dimensional space of n elements.
            Hid::check(
                unsafe { sys::H5Screate_simple(1, dims.as_ptr(), ptr::null()) },
                "create a dataspace",
            )
            .map_err(internal)?
        }
        m => Hid::borrowed(m).map_err(internal)?,
    };
    // SAFETY: plain HDF5 query.
    let mn = unsafe { sys::H5Sget_select_npoints(mem.id()) };
    if mn != n {
        return Err(BlobError::new(
            ErrorKind::Config,
            format!("the memory selection has {mn} elements but the file selection {n}"),
        ));
    }
    Ok(Spaces {
        file,
        mem,
        n: n as usize,
    })
}

fn type_size(t: hid_t) -> usize {
    // SAFETY: plain HDF5 query.
    unsafe { sys::H5Tget_size(t) }
}

/// Converts `n` elements in `buf` (laid out as `src`) to `dst` in place, growing the
/// buffer as needed; a background buffer comes from `bkg` when the types are compound.
pub(crate) fn convert(
    src: hid_t,
    dst: hid_t,
    n: usize,
    buf: &mut Vec<u8>,
    bkg: Option<Vec<u8>>,
    dxpl: hid_t,
) -> R<()> {
    // SAFETY: plain HDF5 calls; the buffers hold n * max(size) bytes.
    unsafe {
        if sys::H5Tequal(src, dst) > 0 {
            return Ok(());
        }
        let (ss, ds) = (type_size(src), type_size(dst));
        buf.resize(n * ss.max(ds), 0);
        let mut bkg = bkg.unwrap_or_default();
        bkg.resize(n * ss.max(ds), 0);
        if sys::H5Tconvert(
            src,
            dst,
            n,
            buf.as_mut_ptr().cast(),
            bkg.as_mut_ptr().cast(),
            if dxpl > 0 {
                dxpl
            } else {
                sys::H5P_LST_DATASET_XFER_ID_g
            },
        ) < 0
        {
            return Err(BlobError::new(
                ErrorKind::Unsupported,
                "HDF5 cannot convert between the dataset's type and the memory type",
            ));
        }
        buf.truncate(n * ds);
    }
    Ok(())
}

/// Frees the variable-length memory of `n` elements of `t` in `buf`.
pub(crate) fn reclaim(t: hid_t, n: usize, buf: &mut [u8]) {
    let dims = [n as u64];
    // SAFETY: a simple space of n elements over a buffer holding n elements of t.
    unsafe {
        let s = sys::H5Screate_simple(1, dims.as_ptr(), ptr::null());
        if s >= 0 {
            sys::H5Treclaim(
                t,
                s,
                sys::H5P_LST_DATASET_XFER_ID_g,
                buf.as_mut_ptr().cast(),
            );
            sys::H5Sclose(s);
        }
    }
}

/// Bytes per value of `ftype` in HSDS's binary transfers (`None`: variable-length).
pub(crate) fn stored_size(ftype: hid_t) -> R<Option<usize>> {
    types::stored_size(ftype).map_err(|e| BlobError::new(ErrorKind::Unsupported, e))
}

/// Values as HSDS sent them -> the memory layout of `ftype` (variable-length data decoded;
/// object references stay HSDS's stored form until [`to_mem_type`]).
pub(crate) fn decode_raw(ftype: hid_t, n: usize, raw: Vec<u8>) -> R<Vec<u8>> {
    let Some(size) = stored_size(ftype)? else {
        return types::decode(ftype, n, &raw).map_err(|e| BlobError::new(ErrorKind::Server, e));
    };
    if raw.len() != n * size {
        return Err(BlobError::new(
            ErrorKind::Server,
            format!(
                "the server sent {} bytes for {n} elements of {size} bytes",
                raw.len()
            ),
        ));
    }
    Ok(raw)
}

/// `n` elements in the memory layout of `ftype` -> `mem_type`, freeing the
/// variable-length memory the conversion replaced. Object references become `H5R_ref_t`s
/// of `f`.
pub(crate) fn to_mem_type(
    f: &Arc<FileCtx>,
    ftype: hid_t,
    mem_type: hid_t,
    n: usize,
    mut buf: Vec<u8>,
    bkg: Option<Vec<u8>>,
    dxpl: hid_t,
) -> R<Vec<u8>> {
    if refs::is_ref(ftype) {
        return refs::to_memory(f, mem_type, n, &buf);
    }
    // SAFETY: plain HDF5 query.
    if types::has_vlen(ftype) && unsafe { sys::H5Tequal(ftype, mem_type) } <= 0 {
        let mut before = buf.clone();
        let r = convert(ftype, mem_type, n, &mut buf, bkg, dxpl);
        reclaim(ftype, n, &mut before);
        r?;
    } else {
        convert(ftype, mem_type, n, &mut buf, bkg, dxpl)?;
    }
    Ok(buf)
}

/// `n` elements of `mem_type` -> HSDS's binary encoding of `ftype` (object references
/// must name objects of `f`).
pub(crate) fn from_memory(
    f: &Arc<FileCtx>,
    ftype: hid_t,
    mem_type: hid_t,
    n: usize,
    mut buf: Vec<u8>,
    dxpl: hid_t,
) -> R<Vec<u8>> {
    if refs::is_ref(ftype) {
        return refs::from_memory(f, mem_type, n, &buf);
    }
    // SAFETY: plain HDF5 query.
    let same = unsafe { sys::H5Tequal(ftype, mem_type) } > 0;
    convert(mem_type, ftype, n, &mut buf, None, dxpl)?;
    if types::has_vlen(ftype) {
        let out = types::encode(ftype, n, &buf).map_err(|e| BlobError::new(ErrorKind::Config, e));
        if !same {
            reclaim(ftype, n, &mut buf);
        }
        return out;
    }
    Ok(buf)
}

fn is_compound(t: hid_t) -> bool {
    // SAFETY: plain HDF5 query.
    unsafe { sys::H5Tget_class(t) == sys::H5T_COMPOUND }
}

/// Copies the selected elements of a user buffer out (in iteration order).
fn gather(space: hid_t, t: hid_t, n: usize, buf: *const c_void) -> R<Vec<u8>> {
    let mut out = vec![0u8; n * type_size(t)];
    // SAFETY: the user's buffer covers the memory space; `out` holds n elements.
    let r = unsafe {
        sys::H5Dgather(
            space,
            buf,
            t,
            out.len(),
            out.as_mut_ptr().cast(),
            None,
            ptr::null_mut(),
        )
    };
    if r < 0 {
        return Err(internal("cannot gather from the memory buffer".into()));
    }
    Ok(out)
}

struct ScatterSrc {
    data: *const u8,
    len: usize,
    done: bool,
}

unsafe extern "C" fn scatter_cb(
    src: *mut *const c_void,
    used: *mut usize,
    op_data: *mut c_void,
) -> herr_t {
    // SAFETY: op_data is our ScatterSrc; out pointers come from HDF5.
    unsafe {
        let s = &mut *op_data.cast::<ScatterSrc>();
        if s.done {
            return -1;
        }
        *src = s.data.cast();
        *used = s.len;
        s.done = true;
    }
    0
}

fn scatter(space: hid_t, t: hid_t, data: &[u8], buf: *mut c_void) -> R<()> {
    let mut src = ScatterSrc {
        data: data.as_ptr(),
        len: data.len(),
        done: false,
    };
    // SAFETY: the user's buffer covers the memory space; `data` holds its elements.
    let r = unsafe {
        sys::H5Dscatter(
            Some(scatter_cb),
            (&mut src as *mut ScatterSrc).cast(),
            t,
            space,
            buf,
        )
    };
    if r < 0 {
        return Err(internal("cannot scatter into the memory buffer".into()));
    }
    Ok(())
}

fn read_one(
    o: &Obj,
    mem_type: hid_t,
    mem_space: hid_t,
    file_space: hid_t,
    dxpl: hid_t,
    buf: *mut c_void,
) -> R<()> {
    let d = dset(o)?;
    let sp = spaces(d, mem_space, file_space)?;
    if sp.n == 0 {
        return Ok(());
    }
    let dims = d.dims();
    let ftype = d.tid.id();
    let plan = select::plan(sp.file.id(), &dims)?;
    let whole = matches!(&plan, Plan::Box(b) if b.count == dims && b.start.iter().all(|s| *s == 0));
    let summary = lock(&d.value).clone().filter(|_| whole);
    let values = match summary.map(|v| types::json_to_mem(ftype, sp.n, &v)) {
        Some(Ok(mem)) => mem,
        _ => {
            let elem = stored_size(ftype)?;
            let raw = select::read(&o.file, &d.id, &dims, &plan, elem)?;
            decode_raw(ftype, sp.n, raw)?
        }
    };
    let bkg = if is_compound(mem_type) {
        Some(gather(sp.mem.id(), mem_type, sp.n, buf)?)
    } else {
        None
    };
    let data = to_mem_type(&o.file, ftype, mem_type, sp.n, values, bkg, dxpl)?;
    scatter(sp.mem.id(), mem_type, &data, buf)
}

fn write_one(
    o: &Obj,
    mem_type: hid_t,
    mem_space: hid_t,
    file_space: hid_t,
    dxpl: hid_t,
    buf: *const c_void,
) -> R<()> {
    read_only(&o.file)?;
    let d = dset(o)?;
    let sp = spaces(d, mem_space, file_space)?;
    if sp.n == 0 {
        return Ok(());
    }
    let dims = d.dims();
    let ftype = d.tid.id();
    let plan = select::plan(sp.file.id(), &dims)?;
    if matches!(plan, Plan::None) {
        return Ok(());
    }
    let user = gather(sp.mem.id(), mem_type, sp.n, buf)?;
    let elem = stored_size(ftype)?;
    let data = from_memory(&o.file, ftype, mem_type, sp.n, user, dxpl)?;
    *lock(&d.value) = None;
    select::write(&o.file, &d.id, &dims, &plan, elem, &data)
}

/// Runs `one` for each dataset of a (multi-dataset) transfer, with its ids and buffer.
///
/// # Safety
/// The arrays hold `count` entries each, as HDF5 passes them.
unsafe fn each<B: Copy>(
    count: usize,
    dset: *mut *mut c_void,
    ids: [*mut hid_t; 3],
    buf: *mut B,
    one: impl Fn(&Obj, hid_t, hid_t, hid_t, B) -> R<()>,
) -> R<()> {
    for i in 0..count {
        // SAFETY: per the contract, every array holds `count` entries.
        unsafe {
            let o = obj(*dset.add(i))?;
            one(
                o,
                *ids[0].add(i),
                *ids[1].add(i),
                *ids[2].add(i),
                *buf.add(i),
            )?;
        }
    }
    Ok(())
}

unsafe extern "C" fn read(
    count: usize,
    dset: *mut *mut c_void,
    mem_type: *mut hid_t,
    mem_space: *mut hid_t,
    file_space: *mut hid_t,
    dxpl: hid_t,
    buf: *mut *mut c_void,
    _req: *mut *mut c_void,
) -> herr_t {
    status(c"dataset_read", Major::Dataset, || {
        // SAFETY: HDF5 passes arrays of `count` entries.
        unsafe {
            each(
                count,
                dset,
                [mem_type, mem_space, file_space],
                buf,
                |o, t, m, f, b| read_one(o, t, m, f, dxpl, b),
            )
        }
    })
}

unsafe extern "C" fn write(
    count: usize,
    dset: *mut *mut c_void,
    mem_type: *mut hid_t,
    mem_space: *mut hid_t,
    file_space: *mut hid_t,
    dxpl: hid_t,
    buf: *mut *const c_void,
    _req: *mut *mut c_void,
) -> herr_t {
    status(c"dataset_write", Major::Dataset, || {
        // SAFETY: HDF5 passes arrays of `count` entries.
        unsafe {
            each(
                count,
                dset,
                [mem_type, mem_space, file_space],
                buf,
                |o, t, m, f, b| write_one(o, t, m, f, dxpl, b),
            )
        }
    })
}

unsafe extern "C" fn get(
    o: *mut c_void,
    args: *mut sys::H5VL_dataset_get_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    status(c"dataset_get", Major::Dataset, || {
        // SAFETY: HDF5 passes a live object and valid arguments; union members per op_type.
        unsafe {
            let o = obj(o)?;
            let d = dset(o)?;
            let a = super::args(args)?;
            match a.op_type {
                sys::H5VL_DATASET_GET_DAPL => {
                    a.args.get_dapl.dapl_id = new_plist(sys::H5P_CLS_DATASET_ACCESS_ID_g)?
                }
                sys::H5VL_DATASET_GET_DCPL => {
                    a.args.get_dcpl.dcpl_id =
                        Hid::check(sys::H5Pcopy(d.dcpl.id()), "copy a property list")
                            .map_err(internal)?
                            .into_raw()
                }
                sys::H5VL_DATASET_GET_SPACE => {
                    a.args.get_space.space_id = d.space_copy()?.into_raw()
                }
                sys::H5VL_DATASET_GET_SPACE_STATUS => put(
                    a.args.get_space_status.status,
                    sys::H5D_SPACE_STATUS_ALLOCATED,
                )?,
                sys::H5VL_DATASET_GET_STORAGE_SIZE => {
                    put(
                        a.args.get_storage_size.storage_size,
                        storage_size(&o.file, d)?,
                    )?;
                }
                sys::H5VL_DATASET_GET_TYPE => {
                    a.args.get_type.type_id =
                        Hid::check(sys::H5Tcopy(d.tid.id()), "copy a datatype")
                            .map_err(internal)?
                            .into_raw()
                }
                other => return Err(unsupported(&format!("dataset get operation {other}"))),
            }
        }
        Ok(())
    })
}

/// Bytes HSDS stores for the dataset (its `allocated_size`), or the logical size when
/// the server has not measured it yet.
fn storage_size(f: &FileCtx, d: &Dset) -> R<u64> {
    let v = block_on(
        f.client
            .get_json(&format!("/datasets/{}", d.id), &f.q(&[("verbose", "1")])),
    )
    .map_err(hs_err)?;
    if let Some(n) = v["allocated_size"].as_u64() {
        return Ok(n);
    }
    let s = lock(&d.space);
    // SAFETY: plain HDF5 query on our dataspace.
    let n = unsafe { sys::H5Sget_simple_extent_npoints(s.id()) }.max(0) as u64;
    Ok(n * type_size(d.tid.id()) as u64)
}

unsafe extern "C" fn specific(
    o: *mut c_void,
    args: *mut sys::H5VL_dataset_specific_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    status(c"dataset_specific", Major::Dataset, || {
        // SAFETY: as in `get`.
        unsafe {
            let o = obj(o)?;
            let d = dset(o)?;
            let a = super::args(args)?;
            match a.op_type {
                sys::H5VL_DATASET_SET_EXTENT => {
                    read_only(&o.file)?;
                    let rank = d.dims().len();
                    let size = std::slice::from_raw_parts(a.args.set_extent.size, rank).to_vec();
                    let f = &o.file;
                    block_on(f.client.send_json(
                        reqwest::Method::PUT,
                        &format!("/datasets/{}/shape", d.id),
                        &f.q(&[]),
                        json!({"shape": size}),
                    ))
                    .map_err(hs_err)?;
                    let sp = lock(&d.space);
                    let mut max = vec![0u64; rank];
                    sys::H5Sget_simple_extent_dims(sp.id(), ptr::null_mut(), max.as_mut_ptr());
                    sys::H5Sset_extent_simple(sp.id(), rank as i32, size.as_ptr(), max.as_ptr());
                    f.forget_object(&d.id);
                    *lock(&d.value) = None;
                    Ok(())
                }
                sys::H5VL_DATASET_FLUSH => Ok(()),
                sys::H5VL_DATASET_REFRESH => {
                    o.file.forget_object(&d.id);
                    let fresh = Dset::load(&o.file, &d.id)?;
                    let sp = fresh.space_copy()?;
                    *lock(&d.space) = sp;
                    Ok(())
                }
                other => Err(unsupported(&format!("dataset operation {other}"))),
            }
        }
    })
}

unsafe extern "C" fn optional(
    _o: *mut c_void,
    args: *mut sys::H5VL_optional_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    super::no_optional(c"dataset_optional", Major::Dataset, args, "dataset")
}
