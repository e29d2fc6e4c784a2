//! H5O callbacks: objects opened by path, index or token; object info with real tokens
//! from HSDS ids and reference counts from the links we know; H5Ovisit.

use super::meta::{FileCtx, Target};
use super::{Kind, Obj, R, copy_name, locate, obj, put, register, release, unsupported};
use crate::blob::{BlobError, ErrorKind};
use crate::h5::{Major, sys};
use std::collections::{HashSet, VecDeque};
use std::ffi::{CString, c_void};
use std::ptr;
use std::sync::Arc;
use sys::{H5VL_loc_params_t, herr_t, hid_t};

pub(crate) const CLASS: sys::H5VL_object_class_t = sys::H5VL_object_class_t {
    open: Some(open),
    copy: None,
    get: Some(get),
    specific: Some(specific),
    optional: None,
};

unsafe extern "C" fn open(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    opened: *mut sys::H5I_type_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    super::call(c"object_open", Major::Object, ptr::null_mut(), || {
        // SAFETY: a live object from HDF5.
        let o = unsafe { obj(o)? };
        let (f, id) = locate(o, loc)?;
        let new = Obj::open_id(&f, &id)?;
        if !opened.is_null() {
            // SAFETY: HDF5's out pointer, checked.
            unsafe { *opened = new.id_type() };
        }
        Ok(new.into_raw())
    })
}

pub(crate) fn obj_type(id: &str) -> sys::H5O_type_t {
    match id.as_bytes().first() {
        Some(b'g') => sys::H5O_TYPE_GROUP,
        Some(b'd') => sys::H5O_TYPE_DATASET,
        Some(b't') => sys::H5O_TYPE_NAMED_DATATYPE,
        _ => sys::H5O_TYPE_UNKNOWN,
    }
}

fn time_of(v: &serde_json::Value, key: &str) -> i64 {
    v[key].as_f64().unwrap_or(0.0) as i64
}

pub(crate) fn info(f: &FileCtx, id: &str, fields: u32) -> R<sys::H5O_info2_t> {
    // SAFETY: plain C data; all-zero is valid.
    let mut i: sys::H5O_info2_t = unsafe { std::mem::zeroed() };
    i.fileno = f.fileno as _;
    i.token = sys::H5O_token_t {
        __data: f.register(id),
    };
    i.type_ = obj_type(id);
    i.rc = f.refcount(id);
    if fields & sys::H5O_INFO_TIME != 0 && !id.starts_with('g') {
        let v = f.object(id)?;
        i.ctime = time_of(&v, "created");
        i.btime = i.ctime;
        i.mtime = time_of(&v, "lastModified").max(i.ctime);
        i.atime = i.mtime;
    }
    if fields & sys::H5O_INFO_NUM_ATTRS != 0 {
        i.num_attrs = f.attrs(id)?.len() as u64;
    }
    Ok(i)
}

/// A path from the root to `id` (breadth first over the links we know), for H5Iget_name.
fn path_to(f: &FileCtx, id: &str) -> R<String> {
    if id == f.root {
        return Ok("/".into());
    }
    let mut queue = VecDeque::from([(f.root.clone(), String::new())]);
    let mut seen = HashSet::new();
    while let Some((g, path)) = queue.pop_front() {
        if !seen.insert(g.clone()) {
            continue;
        }
        let mut links = (*f.links(&g)?).clone();
        links.sort_by(|a, b| a.name.cmp(&b.name));
        for l in links {
            if let Target::Hard(t) = &l.target {
                let p = format!("{path}/{}", l.name);
                if t == id {
                    return Ok(p);
                }
                if t.starts_with('g') {
                    queue.push_back((t.clone(), p));
                }
            }
        }
    }
    Err(BlobError::new(
        ErrorKind::NotFound,
        "the object is not reachable from the root group",
    ))
}

unsafe extern "C" fn get(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    args: *mut sys::H5VL_object_get_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    super::status(c"object_get", Major::Object, || {
        // SAFETY: HDF5 passes a live object and valid arguments; union members are read
        // per op_type.
        unsafe {
            let o = obj(o)?;
            let a = super::args(args)?;
            let f = &o.file;
            match a.op_type {
                sys::H5VL_OBJECT_GET_FILE => {
                    put(a.args.get_file.file, Obj::new(f, Kind::File).into_raw())?;
                }
                sys::H5VL_OBJECT_GET_NAME => {
                    let (f, id) = locate(o, loc)?;
                    let g = &mut a.args.get_name;
                    let n = copy_name(&path_to(&f, &id)?, g.buf, g.buf_size);
                    if !g.name_len.is_null() {
                        *g.name_len = n;
                    }
                }
                sys::H5VL_OBJECT_GET_TYPE => {
                    put(a.args.get_type.obj_type, obj_type(&locate(o, loc)?.1))?;
                }
                sys::H5VL_OBJECT_GET_INFO => {
                    let (f, id) = locate(o, loc)?;
                    put(
                        a.args.get_info.oinfo,
                        info(&f, &id, a.args.get_info.fields)?,
                    )?;
                }
                other => return Err(unsupported(&format!("object get operation {other}"))),
            }
        }
        Ok(())
    })
}

unsafe extern "C" fn specific(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    args: *mut sys::H5VL_object_specific_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    super::call(c"object_specific", Major::Object, -1, || {
        // SAFETY: as in `get`.
        unsafe {
            let o = obj(o)?;
            let a = super::args(args)?;
            match a.op_type {
                sys::H5VL_OBJECT_EXISTS => {
                    let exists = match locate(o, loc) {
                        Ok(_) => true,
                        Err(e) if e.kind == ErrorKind::NotFound => false,
                        Err(e) => return Err(e),
                    };
                    put(a.args.exists.exists, exists)?;
                    Ok(0)
                }
                sys::H5VL_OBJECT_LOOKUP => {
                    let (f, id) = locate(o, loc)?;
                    let token = sys::H5O_token_t {
                        __data: f.register(&id),
                    };
                    put(a.args.lookup.token_ptr, token)?;
                    Ok(0)
                }
                sys::H5VL_OBJECT_VISIT => {
                    let v = &a.args.visit;
                    let (f, id) = locate(o, loc)?;
                    visit(&f, &id, v)
                }
                sys::H5VL_OBJECT_FLUSH => Ok(0),
                sys::H5VL_OBJECT_REFRESH => {
                    let (f, id) = locate(o, loc)?;
                    f.forget_object(&id);
                    f.forget_attrs(&id);
                    if id.starts_with('g') {
                        f.forget_links(&id);
                    }
                    Ok(0)
                }
                sys::H5VL_OBJECT_CHANGE_REF_COUNT => Err(unsupported(
                    "changing reference counts (H5Oincr_refcount/H5Odecr_refcount)",
                )),
                other => Err(unsupported(&format!("object operation {other}"))),
            }
        }
    })
}

/// H5Ovisit: the start object as ".", then every object reachable through hard links
/// once, depth first in the requested link order.
fn visit(f: &Arc<FileCtx>, start: &str, v: &sys::H5VL_object_visit_args_t) -> R<herr_t> {
    let Some(op) = v.op else {
        return Err(BlobError::new(ErrorKind::Config, "no visit callback"));
    };
    let hid = register(Obj::open_id(f, start)?)?;
    let mut seen = HashSet::from([start.to_string()]);
    let result = (|| {
        let i = info(f, start, v.fields)?;
        // SAFETY: the user's callback with a registered id and valid pointers.
        let r = unsafe { op(hid, c".".as_ptr(), &i, v.op_data) };
        if r != 0 || !start.starts_with('g') {
            return Ok(r);
        }
        visit_group(f, hid, start, "", v, op, &mut seen)
    })();
    release(hid);
    result
}

fn visit_group(
    f: &Arc<FileCtx>,
    hid: hid_t,
    gid: &str,
    prefix: &str,
    v: &sys::H5VL_object_visit_args_t,
    op: unsafe extern "C" fn(
        hid_t,
        *const std::ffi::c_char,
        *const sys::H5O_info2_t,
        *mut c_void,
    ) -> herr_t,
    seen: &mut HashSet<String>,
) -> R<herr_t> {
    for l in super::link::sorted(f, gid, v.idx_type, v.order)? {
        let Target::Hard(id) = &l.target else {
            continue;
        };
        if !seen.insert(id.clone()) {
            continue;
        }
        let name = format!("{prefix}{}", l.name);
        let i = info(f, id, v.fields)?;
        let cname = CString::new(name.clone()).unwrap_or_default();
        // SAFETY: as in `visit`.
        let r = unsafe { op(hid, cname.as_ptr(), &i, v.op_data) };
        if r != 0 {
            return Ok(r);
        }
        if id.starts_with('g') {
            let r = visit_group(f, hid, id, &format!("{name}/"), v, op, seen)?;
            if r != 0 {
                return Ok(r);
            }
        }
    }
    Ok(0)
}
