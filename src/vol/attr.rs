//! H5A callbacks: attributes of HSDS groups, datasets and named datatypes. Values come
//! from the open-time prefetch when it brought them, otherwise one request each.

use super::dataset::{
    decode_raw, from_memory, resolver, stored_size, to_mem_type, type_err, type_json_for,
};
use super::file::new_plist;
use super::hid::Hid;
use super::link::enc;
use super::meta::{AttrMeta, AttrValue, FileCtx, collection, parse_attr};
use super::{
    Kind, Obj, R, call, copy_name, cstr, hs_err, locate, locate_here, obj, put, read_only,
    register, release, types, unsupported,
};
use crate::blob::{BlobError, ErrorKind};
use crate::h5::{Major, sys};
use crate::runtime::block_on;
use bytes::Bytes;
use serde_json::json;
use std::ffi::{CString, c_char, c_void};
use std::ptr;
use std::sync::Arc;
use sys::{H5VL_loc_params_t, herr_t, hid_t};

pub(crate) const CLASS: sys::H5VL_attr_class_t = sys::H5VL_attr_class_t {
    create: Some(create),
    open: Some(open),
    read: Some(read),
    write: Some(write),
    get: Some(get),
    specific: Some(specific),
    optional: None,
    close: Some(super::close_cb),
};

pub struct Attr {
    /// The object the attribute belongs to.
    pub owner: String,
    pub name: String,
    tid: Hid,
    sid: Hid,
}

fn internal(e: String) -> BlobError {
    BlobError::new(ErrorKind::Internal, e)
}

fn attr_path(owner: &str, name: &str) -> R<String> {
    Ok(format!(
        "/{}/{owner}/attributes/{}",
        collection(owner)?,
        enc(name)
    ))
}

/// An object's attributes in the order HDF5 asked for.
fn sorted(
    f: &FileCtx,
    owner: &str,
    idx: sys::H5_index_t,
    order: sys::H5_iter_order_t,
) -> R<Vec<AttrMeta>> {
    Ok(super::in_order(
        (*f.attrs(owner)?).clone(),
        idx,
        order,
        |a| &a.name,
        |a| a.created,
    ))
}

/// Creation-order index of each attribute of an object.
fn corders(f: &FileCtx, owner: &str) -> R<std::collections::HashMap<String, i64>> {
    Ok(super::creation_index(
        &f.attrs(owner)?,
        |a| &a.name,
        |a| a.created,
    ))
}

fn find(f: &FileCtx, owner: &str, name: &str) -> R<AttrMeta> {
    let mut found = f.attrs(owner)?.iter().find(|a| a.name == name).cloned();
    if found.is_none() && f.unsummarise(owner) {
        found = f.attrs(owner)?.iter().find(|a| a.name == name).cloned();
    }
    found.ok_or_else(|| {
        BlobError::new(
            ErrorKind::NotFound,
            format!("no attribute {name:?} on this object in {}", f.domain),
        )
    })
}

impl Attr {
    fn from_meta(f: &FileCtx, owner: &str, m: &AttrMeta) -> R<Attr> {
        Ok(Attr {
            owner: owner.to_string(),
            name: m.name.clone(),
            tid: types::type_from_json(&m.type_json, &resolver(f)).map_err(type_err)?,
            sid: types::space_from_json(&m.shape).map_err(type_err)?,
        })
    }

    fn npoints(&self) -> usize {
        // SAFETY: plain HDF5 query on our dataspace.
        unsafe { sys::H5Sget_simple_extent_npoints(self.sid.id()).max(0) as usize }
    }
}

fn the_attr(o: &Obj) -> R<&Attr> {
    match &o.kind {
        Kind::Attr(a) => Ok(a),
        _ => Err(BlobError::new(ErrorKind::Internal, "not an attribute")),
    }
}

/// The domain, object and attribute a location plus optional name designate.
fn designate(
    o: &Obj,
    loc: *const H5VL_loc_params_t,
    name: Option<&str>,
) -> R<(Arc<FileCtx>, String, AttrMeta)> {
    let l = super::loc_of(loc)?;
    let f = &o.file;
    unsafe {
        match l.type_ {
            sys::H5VL_OBJECT_BY_IDX => {
                let by = l.loc_data.loc_by_idx;
                let (f, owner) = f.locate_path(o.oid(), cstr(by.name, "object name")?)?;
                let a = sorted(&f, &owner, by.idx_type, by.order)?
                    .into_iter()
                    .nth(by.n as usize)
                    .ok_or_else(|| {
                        BlobError::new(
                            ErrorKind::NotFound,
                            format!("attribute index {} is out of range", by.n),
                        )
                    })?;
                Ok((f, owner, a))
            }
            _ => {
                let (f, owner) = locate(o, loc)?;
                let name = match (name, &o.kind) {
                    (Some(n), _) => n.to_string(),
                    (None, Kind::Attr(a)) if l.type_ == sys::H5VL_OBJECT_BY_SELF => a.name.clone(),
                    _ => return Err(BlobError::new(ErrorKind::Config, "no attribute name")),
                };
                let a = find(&f, &owner, &name)?;
                Ok((f, owner, a))
            }
        }
    }
}

unsafe extern "C" fn create(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    type_id: hid_t,
    space_id: hid_t,
    _acpl: hid_t,
    _aapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    call(c"attr_create", Major::Attr, ptr::null_mut(), || {
        // SAFETY: a live object from HDF5.
        let o = unsafe { obj(o)? };
        let f = &o.file;
        read_only(f)?;
        let owner = locate_here(o, loc)?;
        let name = cstr(name, "attribute name")?;
        if f.attrs(&owner)?.iter().any(|a| a.name == name) {
            return Err(BlobError::new(
                ErrorKind::Exists,
                format!("attribute {name:?} already exists"),
            ));
        }
        let type_json = type_json_for(type_id)?;
        let (shape, _) = types::space_to_json(space_id).map_err(type_err)?;
        let body = json!({"type": type_json, "shape": shape});
        block_on(f.client.send_json(
            reqwest::Method::PUT,
            &attr_path(&owner, name)?,
            &f.q(&[]),
            body,
        ))
        .map_err(hs_err)?;
        // The server fills a new attribute's value; read it back when asked.
        let meta = AttrMeta {
            name: name.to_string(),
            type_json,
            shape,
            value: None,
            created: now(),
        };
        let mut all: Vec<AttrMeta> = (*f.attrs(&owner)?).clone();
        all.push(meta.clone());
        f.set_attrs(&owner, all);
        let a = Attr::from_meta(f, &owner, &meta)?;
        Ok(Obj::new(f, Kind::Attr(Box::new(a))).into_raw())
    })
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

unsafe extern "C" fn open(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    _aapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    call(c"attr_open", Major::Attr, ptr::null_mut(), || {
        // SAFETY: a live object from HDF5.
        let o = unsafe { obj(o)? };
        let name = if name.is_null() {
            None
        } else {
            Some(cstr(name, "attribute name")?)
        };
        let (f, owner, m) = designate(o, loc, name)?;
        let a = Attr::from_meta(&f, &owner, &m)?;
        Ok(Obj::new(&f, Kind::Attr(Box::new(a))).into_raw())
    })
}

/// The attribute's value in the memory layout of its own type.
fn value(f: &Arc<FileCtx>, a: &Attr) -> R<Vec<u8>> {
    let n = a.npoints();
    let cached = find(f, &a.owner, &a.name)?.value;
    let v = match cached {
        Some(v) => v,
        None => {
            let j = block_on(f.client.get_json(
                &attr_path(&a.owner, &a.name)?,
                &f.q(&[("encoding", "base64")]),
            ))
            .map_err(hs_err)?;
            parse_attr(Some(&a.name), &j)
                .and_then(|m| m.value)
                .unwrap_or(AttrValue::Json(serde_json::Value::Null))
        }
    };
    match v {
        AttrValue::Binary(b) => decode_raw(a.tid.id(), n, b.to_vec()),
        AttrValue::Json(serde_json::Value::Null) => match stored_size(a.tid.id())? {
            Some(size) => Ok(vec![0u8; n * size]),
            None => types::json_to_mem(a.tid.id(), n, &serde_json::Value::Null)
                .map_err(|e| BlobError::new(ErrorKind::Server, e)),
        },
        AttrValue::Json(j) => {
            types::json_to_mem(a.tid.id(), n, &j).map_err(|e| BlobError::new(ErrorKind::Server, e))
        }
    }
}

unsafe extern "C" fn read(
    o: *mut c_void,
    mem_type: hid_t,
    buf: *mut c_void,
    dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    super::status(c"attr_read", Major::Attr, || {
        // SAFETY: a live object from HDF5.
        let o = unsafe { obj(o)? };
        let a = the_attr(o)?;
        let n = a.npoints();
        if n == 0 {
            return Ok(());
        }
        let raw = value(&o.file, a)?;
        // SAFETY: plain HDF5 query; the user's buffer holds n elements of mem_type.
        let msize = unsafe { sys::H5Tget_size(mem_type) };
        let bkg = if unsafe { sys::H5Tget_class(mem_type) } == sys::H5T_COMPOUND {
            // SAFETY: as above.
            Some(unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), n * msize) }.to_vec())
        } else {
            None
        };
        let data = to_mem_type(&o.file, a.tid.id(), mem_type, n, raw, bkg, dxpl)?;
        // SAFETY: as above.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), buf.cast::<u8>(), n * msize) };
        Ok(())
    })
}

unsafe extern "C" fn write(
    o: *mut c_void,
    mem_type: hid_t,
    buf: *const c_void,
    dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    super::status(c"attr_write", Major::Attr, || {
        // SAFETY: a live object from HDF5.
        let o = unsafe { obj(o)? };
        let f = &o.file;
        read_only(f)?;
        let a = the_attr(o)?;
        let n = a.npoints();
        if n == 0 {
            return Ok(());
        }
        // SAFETY: the user's buffer holds n elements of mem_type.
        let user = unsafe {
            let msize = sys::H5Tget_size(mem_type);
            std::slice::from_raw_parts(buf.cast::<u8>(), n * msize).to_vec()
        };
        let path = format!("{}/value", attr_path(&a.owner, &a.name)?);
        let stored = if types::has_vlen(a.tid.id()) {
            // HSDS takes variable-length attribute values only as JSON.
            let mut mem = user;
            super::dataset::convert(mem_type, a.tid.id(), n, &mut mem, None, dxpl)?;
            let v = vlen_strings_json(a.tid.id(), a.sid.id(), n, &mem);
            // SAFETY: plain HDF5 query.
            if unsafe { sys::H5Tequal(mem_type, a.tid.id()) } <= 0 {
                super::dataset::reclaim(a.tid.id(), n, &mut mem);
            }
            let v = v?;
            block_on(f.client.send_json(
                reqwest::Method::PUT,
                &path,
                &f.q(&[]),
                json!({"value": v}),
            ))
            .map_err(hs_err)?;
            AttrValue::Json(v)
        } else {
            let data = Bytes::from(from_memory(f, a.tid.id(), mem_type, n, user, dxpl)?);
            block_on(f.client.put_binary(&path, &f.q(&[]), data.clone())).map_err(hs_err)?;
            AttrValue::Binary(data)
        };
        let mut all: Vec<AttrMeta> = (*f.attrs(&a.owner)?).clone();
        for m in all.iter_mut().filter(|m| m.name == a.name) {
            m.value = Some(stored.clone());
        }
        f.set_attrs(&a.owner, all);
        Ok(())
    })
}

/// Variable-length string values (memory layout: `char *` each) as HSDS's JSON value,
/// nested by the dataspace's dimensions.
fn vlen_strings_json(t: hid_t, space: hid_t, n: usize, mem: &[u8]) -> R<serde_json::Value> {
    use serde_json::Value;
    // SAFETY: plain HDF5 query.
    if unsafe { sys::H5Tis_variable_str(t) } <= 0 {
        return Err(unsupported(
            "writing attributes of variable-length types other than strings",
        ));
    }
    let w = std::mem::size_of::<*const c_char>();
    let mut flat = Vec::with_capacity(n);
    for i in 0..n {
        let mut p = [0u8; 8];
        p[..w].copy_from_slice(&mem[i * w..(i + 1) * w]);
        let p = usize::from_ne_bytes(p) as *const c_char;
        let s = if p.is_null() {
            String::new()
        } else {
            // SAFETY: HDF5's vlen string memory: NUL-terminated.
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .into_owned()
        };
        flat.push(Value::String(s));
    }
    let dims = super::dataset::dims_of(space);
    if dims.is_empty() {
        return Ok(flat.pop().unwrap_or(Value::Null));
    }
    fn nest(flat: &mut std::vec::IntoIter<Value>, dims: &[u64]) -> Value {
        if dims.len() == 1 {
            Value::Array(flat.take(dims[0] as usize).collect())
        } else {
            Value::Array((0..dims[0]).map(|_| nest(flat, &dims[1..])).collect())
        }
    }
    Ok(nest(&mut flat.into_iter(), &dims))
}

/// Attribute info; `corder` is the attribute's creation-order index.
fn ainfo(f: &FileCtx, owner: &str, m: &AttrMeta, corder: i64) -> R<sys::H5A_info_t> {
    let a = Attr::from_meta(f, owner, m)?;
    // SAFETY: plain HDF5 query.
    let size = unsafe { sys::H5Tget_size(a.tid.id()) };
    Ok(sys::H5A_info_t {
        corder_valid: true,
        corder: corder as u32,
        cset: sys::H5T_CSET_UTF8,
        data_size: (a.npoints() * size) as u64,
    })
}

unsafe extern "C" fn get(
    o: *mut c_void,
    args: *mut sys::H5VL_attr_get_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    super::status(c"attr_get", Major::Attr, || {
        // SAFETY: HDF5 passes a live object and valid arguments; union members per op_type.
        unsafe {
            let o = obj(o)?;
            let a = super::args(args)?;
            match a.op_type {
                sys::H5VL_ATTR_GET_ACPL => {
                    a.args.get_acpl.acpl_id = new_plist(sys::H5P_CLS_ATTRIBUTE_CREATE_ID_g)?
                }
                sys::H5VL_ATTR_GET_SPACE => {
                    let at = the_attr(o)?;
                    a.args.get_space.space_id =
                        Hid::check(sys::H5Scopy(at.sid.id()), "copy a dataspace")
                            .map_err(internal)?
                            .into_raw()
                }
                sys::H5VL_ATTR_GET_TYPE => {
                    let at = the_attr(o)?;
                    a.args.get_type.type_id =
                        Hid::check(sys::H5Tcopy(at.tid.id()), "copy a datatype")
                            .map_err(internal)?
                            .into_raw()
                }
                sys::H5VL_ATTR_GET_STORAGE_SIZE => {
                    let at = the_attr(o)?;
                    *a.args.get_storage_size.data_size =
                        (at.npoints() * sys::H5Tget_size(at.tid.id())) as u64;
                }
                sys::H5VL_ATTR_GET_INFO => {
                    let gi = &mut a.args.get_info;
                    let name = if gi.attr_name.is_null() {
                        None
                    } else {
                        Some(cstr(gi.attr_name, "attribute name")?)
                    };
                    let (f, owner, m) = designate(o, &gi.loc_params, name)?;
                    let corder = corders(&f, &owner)?.get(&m.name).copied().unwrap_or(0);
                    put(gi.ainfo, ainfo(&f, &owner, &m, corder)?)?;
                }
                sys::H5VL_ATTR_GET_NAME => {
                    let g = &mut a.args.get_name;
                    let (_, _, m) = designate(o, &g.loc_params, None)?;
                    let n = copy_name(&m.name, g.buf, g.buf_size);
                    if !g.attr_name_len.is_null() {
                        *g.attr_name_len = n;
                    }
                }
                other => return Err(unsupported(&format!("attribute get operation {other}"))),
            }
        }
        Ok(())
    })
}

fn delete(f: &FileCtx, owner: &str, name: &str) -> R<()> {
    read_only(f)?;
    block_on(f.client.delete(&attr_path(owner, name)?, &f.q(&[]))).map_err(hs_err)?;
    let mut all: Vec<AttrMeta> = (*f.attrs(owner)?).clone();
    all.retain(|a| a.name != name);
    f.set_attrs(owner, all);
    Ok(())
}

/// HSDS has no rename: copy type, shape and value to the new name, then delete the old.
fn rename(f: &Arc<FileCtx>, owner: &str, old: &str, new: &str) -> R<()> {
    read_only(f)?;
    let m = find(f, owner, old)?;
    if f.attrs(owner)?.iter().any(|a| a.name == new) {
        return Err(BlobError::new(
            ErrorKind::Exists,
            format!("attribute {new:?} already exists"),
        ));
    }
    let a = Attr::from_meta(f, owner, &m)?;
    let n = a.npoints();
    let raw = if n > 0 {
        let mem = value(f, &a)?;
        // Object references are already in their stored form.
        Some(if super::refs::is_ref(a.tid.id()) {
            mem
        } else {
            from_memory(f, a.tid.id(), a.tid.id(), n, mem, 0)?
        })
    } else {
        None
    };
    block_on(f.client.send_json(
        reqwest::Method::PUT,
        &attr_path(owner, new)?,
        &f.q(&[]),
        json!({"type": m.type_json, "shape": m.shape}),
    ))
    .map_err(hs_err)?;
    if let Some(raw) = &raw {
        block_on(f.client.put_binary(
            &format!("{}/value", attr_path(owner, new)?),
            &f.q(&[]),
            Bytes::from(raw.clone()),
        ))
        .map_err(hs_err)?;
    }
    let mut all: Vec<AttrMeta> = (*f.attrs(owner)?).clone();
    let mut renamed = m.clone();
    renamed.name = new.to_string();
    renamed.value = raw.map(|r| AttrValue::Binary(r.into()));
    all.push(renamed);
    f.set_attrs(owner, all);
    delete(f, owner, old)
}

unsafe extern "C" fn specific(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    args: *mut sys::H5VL_attr_specific_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    super::call(c"attr_specific", Major::Attr, -1, || {
        // SAFETY: as in `get`.
        unsafe {
            let o = obj(o)?;
            let a = super::args(args)?;
            let (f, owner) = locate(o, loc)?;
            let f = &f;
            match a.op_type {
                sys::H5VL_ATTR_DELETE => {
                    delete(f, &owner, cstr(a.args.del.name, "attribute name")?)?;
                    Ok(0)
                }
                sys::H5VL_ATTR_DELETE_BY_IDX => {
                    let d = a.args.delete_by_idx;
                    let m = sorted(f, &owner, d.idx_type, d.order)?
                        .into_iter()
                        .nth(d.n as usize)
                        .ok_or_else(|| {
                            BlobError::new(ErrorKind::NotFound, "attribute index out of range")
                        })?;
                    delete(f, &owner, &m.name)?;
                    Ok(0)
                }
                sys::H5VL_ATTR_EXISTS => {
                    let name = cstr(a.args.exists.name, "attribute name")?;
                    put(
                        a.args.exists.exists,
                        f.attrs(&owner)?.iter().any(|x| x.name == name),
                    )?;
                    Ok(0)
                }
                sys::H5VL_ATTR_RENAME => {
                    let r = a.args.rename;
                    rename(
                        f,
                        &owner,
                        cstr(r.old_name, "old name")?,
                        cstr(r.new_name, "new name")?,
                    )?;
                    Ok(0)
                }
                sys::H5VL_ATTR_ITER => {
                    let it = &mut a.args.iterate;
                    let Some(op) = it.op else {
                        return Err(BlobError::new(ErrorKind::Config, "no iteration callback"));
                    };
                    let list = sorted(f, &owner, it.idx_type, it.order)?;
                    let corder = corders(f, &owner)?;
                    let hid = register(Obj::open_id(f, &owner)?)?;
                    let first = if it.idx.is_null() {
                        0
                    } else {
                        *it.idx as usize
                    };
                    let mut ret = 0;
                    for (i, m) in list.iter().enumerate().skip(first) {
                        let c = corder.get(&m.name).copied().unwrap_or(0);
                        let info = match ainfo(f, &owner, m, c) {
                            Ok(x) => x,
                            Err(e) => {
                                release(hid);
                                return Err(e);
                            }
                        };
                        let name = CString::new(m.name.clone()).unwrap_or_default();
                        ret = op(hid, name.as_ptr(), &info, it.op_data);
                        if !it.idx.is_null() {
                            *it.idx = (i + 1) as u64;
                        }
                        if ret != 0 {
                            break;
                        }
                    }
                    release(hid);
                    Ok(ret)
                }
                other => Err(unsupported(&format!("attribute operation {other}"))),
            }
        }
    })
}
