//! H5L callbacks: hard, soft and external links of HSDS groups; iteration and visiting
//! in name or creation order, served from the metadata cache.

use super::group::{add_link, parent_for_create, wants_intermediate};
use super::meta::{FileCtx, Link, Target};
use super::{
    Kind, Obj, R, copy_name, cstr, hs_err, locate, obj, put, read_only, register, release, status,
    unsupported,
};
use crate::blob::{BlobError, ErrorKind};
use crate::h5::{Major, sys};
use crate::runtime::block_on;
use serde_json::json;
use std::collections::HashSet;
use std::ffi::{CString, c_void};
use std::sync::Arc;
use sys::{H5VL_loc_params_t, herr_t, hid_t};

pub(crate) const CLASS: sys::H5VL_link_class_t = sys::H5VL_link_class_t {
    create: Some(create),
    copy: None,
    move_: None,
    get: Some(get),
    specific: Some(specific),
    optional: None,
};

/// A group's links in the order HDF5 asked for.
pub(crate) fn sorted(
    f: &FileCtx,
    gid: &str,
    idx: sys::H5_index_t,
    order: sys::H5_iter_order_t,
) -> R<Vec<Link>> {
    Ok(super::in_order(
        (*f.links(gid)?).clone(),
        idx,
        order,
        |l| &l.name,
        |l| l.created,
    ))
}

/// Creation-order index of each link of a group.
fn corders(f: &FileCtx, gid: &str) -> R<std::collections::HashMap<String, i64>> {
    Ok(super::creation_index(
        &f.links(gid)?,
        |l| &l.name,
        |l| l.created,
    ))
}

pub(crate) fn nth(
    f: &FileCtx,
    gid: &str,
    idx: sys::H5_index_t,
    order: sys::H5_iter_order_t,
    n: u64,
) -> R<Link> {
    sorted(f, gid, idx, order)?
        .into_iter()
        .nth(n as usize)
        .ok_or_else(|| {
            BlobError::new(
                ErrorKind::NotFound,
                format!("link index {n} is out of range"),
            )
        })
}

/// The packed value HDF5 uses for an external link: flags byte, file, NUL, path, NUL.
fn elink_value(file: &str, path: &str) -> Vec<u8> {
    let mut v = vec![0u8];
    v.extend_from_slice(file.as_bytes());
    v.push(0);
    v.extend_from_slice(path.as_bytes());
    v.push(0);
    v
}

/// Link info; `corder` is the link's creation-order index.
pub(crate) fn info(f: &FileCtx, l: &Link, corder: i64) -> sys::H5L_info2_t {
    // SAFETY: H5L_info2_t is plain C data; all-zero is a valid value.
    let mut i: sys::H5L_info2_t = unsafe { std::mem::zeroed() };
    i.corder_valid = true;
    i.corder = corder;
    i.cset = sys::H5T_CSET_UTF8;
    match &l.target {
        Target::Hard(id) => {
            i.type_ = sys::H5L_TYPE_HARD;
            i.u.token = sys::H5O_token_t {
                __data: f.register(id),
            };
        }
        Target::Soft(p) => {
            i.type_ = sys::H5L_TYPE_SOFT;
            i.u.val_size = p.len() + 1;
        }
        Target::External { file, path } => {
            i.type_ = sys::H5L_TYPE_EXTERNAL;
            i.u.val_size = elink_value(file, path).len();
        }
    }
    i
}

/// The group holding the link a location names, and the link's name.
fn link_at(o: &Obj, loc: *const H5VL_loc_params_t) -> R<(String, Link)> {
    let loc = super::loc_of(loc)?;
    let f = &o.file;
    unsafe {
        match loc.type_ {
            sys::H5VL_OBJECT_BY_NAME => {
                let name = cstr(loc.loc_data.loc_by_name.name, "link name")?;
                let (g, last) = f.parent_of(o.oid(), name)?;
                let l = f.link(&g, last)?.ok_or_else(|| {
                    BlobError::new(
                        ErrorKind::NotFound,
                        format!("no link {name:?} in {}", f.domain),
                    )
                })?;
                Ok((g, l))
            }
            sys::H5VL_OBJECT_BY_IDX => {
                let by = loc.loc_data.loc_by_idx;
                let g = f.resolve(o.oid(), cstr(by.name, "group name")?)?;
                let l = nth(f, &g, by.idx_type, by.order, by.n)?;
                Ok((g, l))
            }
            other => Err(BlobError::new(
                ErrorKind::Internal,
                format!("link location type {other} names no link"),
            )),
        }
    }
}

unsafe extern "C" fn create(
    args: *mut sys::H5VL_link_create_args_t,
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    lcpl: hid_t,
    _lapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    status(c"link_create", Major::Link, || {
        // SAFETY: HDF5 passes valid arguments; union members read per op_type. For hard
        // links `o` may be NULL (then the current object's file is used).
        unsafe {
            let a = super::args(args)?;
            let here: &Obj = match obj(o) {
                Ok(x) => x,
                Err(_) if a.op_type == sys::H5VL_LINK_CREATE_HARD => obj(a.args.hard.curr_obj)?,
                Err(e) => return Err(e),
            };
            let f = &here.file;
            read_only(f)?;
            let loc = super::loc_of(loc)?;
            let name = cstr(loc.loc_data.loc_by_name.name, "link name")?;
            let start = if o.is_null() {
                f.root.clone()
            } else {
                here.oid().to_string()
            };
            let (parent, last) = parent_for_create(f, &start, name, wants_intermediate(lcpl))?;
            let (body, target) = match a.op_type {
                sys::H5VL_LINK_CREATE_HARD => {
                    let cur = obj(a.args.hard.curr_obj)?;
                    let (tf, id) = locate(cur, &a.args.hard.curr_loc_params)?;
                    if !Arc::ptr_eq(&tf, f) {
                        return Err(unsupported("hard links to objects of another domain"));
                    }
                    (json!({"id": id}), Target::Hard(id))
                }
                sys::H5VL_LINK_CREATE_SOFT => {
                    let t = cstr(a.args.soft.target, "soft link target")?.to_string();
                    (json!({"h5path": t}), Target::Soft(t))
                }
                sys::H5VL_LINK_CREATE_UD if a.args.ud.type_ == sys::H5L_TYPE_EXTERNAL => {
                    let (mut file, mut path) = (std::ptr::null(), std::ptr::null());
                    let mut flags = 0u32;
                    if sys::H5Lunpack_elink_val(
                        a.args.ud.buf,
                        a.args.ud.buf_size,
                        &mut flags,
                        &mut file,
                        &mut path,
                    ) < 0
                    {
                        return Err(BlobError::new(ErrorKind::Config, "bad external link value"));
                    }
                    let file = cstr(file, "external file")?.to_string();
                    let path = cstr(path, "external path")?.to_string();
                    (
                        json!({"h5domain": file, "h5path": path}),
                        Target::External { file, path },
                    )
                }
                _ => return Err(unsupported("user-defined links")),
            };
            if f.link(&parent, last)?.is_some() {
                return Err(BlobError::new(
                    ErrorKind::Exists,
                    format!("link {name:?} already exists in {}", f.domain),
                ));
            }
            let path = format!("/groups/{parent}/links/{}", enc(last));
            block_on(
                f.client
                    .send_json(reqwest::Method::PUT, &path, &f.q(&[]), body),
            )
            .map_err(hs_err)?;
            add_link(f, &parent, last, target)
        }
    })
}

/// A link name as one URL path segment.
pub(crate) fn enc(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string()
}

unsafe extern "C" fn get(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    args: *mut sys::H5VL_link_get_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    status(c"link_get", Major::Link, || {
        // SAFETY: as in `create`.
        unsafe {
            let o = obj(o)?;
            let a = super::args(args)?;
            let (g, l) = link_at(o, loc)?;
            match a.op_type {
                sys::H5VL_LINK_GET_INFO => {
                    let corder = corders(&o.file, &g)?.get(&l.name).copied().unwrap_or(0);
                    put(a.args.get_info.linfo, info(&o.file, &l, corder))?
                }
                sys::H5VL_LINK_GET_NAME => {
                    let n = &mut a.args.get_name;
                    let len = copy_name(&l.name, n.name, n.name_size);
                    if !n.name_len.is_null() {
                        *n.name_len = len;
                    }
                }
                sys::H5VL_LINK_GET_VAL => {
                    let v = &mut a.args.get_val;
                    let val = match &l.target {
                        Target::Soft(p) => {
                            let mut b = p.as_bytes().to_vec();
                            b.push(0);
                            b
                        }
                        Target::External { file, path } => elink_value(file, path),
                        Target::Hard(_) => {
                            return Err(BlobError::new(
                                ErrorKind::Config,
                                "a hard link has no value",
                            ));
                        }
                    };
                    if !v.buf.is_null() {
                        let n = val.len().min(v.buf_size);
                        std::ptr::copy_nonoverlapping(val.as_ptr(), v.buf.cast::<u8>(), n);
                    }
                }
                other => return Err(unsupported(&format!("link get operation {other}"))),
            }
        }
        Ok(())
    })
}

unsafe extern "C" fn specific(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    args: *mut sys::H5VL_link_specific_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    super::call(c"link_specific", Major::Link, -1, || {
        // SAFETY: as in `create`.
        unsafe {
            let o = obj(o)?;
            let a = super::args(args)?;
            let f = &o.file;
            match a.op_type {
                sys::H5VL_LINK_EXISTS => {
                    let l = super::loc_of(loc)?;
                    let name = cstr(l.loc_data.loc_by_name.name, "link name")?;
                    let exists = match f.parent_of(o.oid(), name) {
                        Ok((g, last)) => f.link(&g, last)?.is_some(),
                        Err(e) if e.kind == ErrorKind::NotFound => false,
                        Err(e) => return Err(e),
                    };
                    put(a.args.exists.exists, exists)?;
                    Ok(0)
                }
                sys::H5VL_LINK_DELETE => {
                    read_only(f)?;
                    let (g, l) = link_at(o, loc)?;
                    let path = format!("/groups/{g}/links/{}", enc(&l.name));
                    block_on(f.client.delete(&path, &f.q(&[]))).map_err(hs_err)?;
                    let mut links: Vec<Link> = (*f.links(&g)?).clone();
                    links.retain(|x| x.name != l.name);
                    f.set_links(&g, links);
                    Ok(0)
                }
                sys::H5VL_LINK_ITER => {
                    let it = &mut a.args.iterate;
                    let (gf, gid) = locate(o, loc)?;
                    let hid = register(Obj::new(&gf, Kind::Group(gid.clone())))?;
                    let r = iterate(&gf, hid, &gid, it, "", &mut HashSet::new());
                    release(hid);
                    r
                }
                other => Err(unsupported(&format!("link operation {other}"))),
            }
        }
    })
}

/// H5Literate / H5Lvisit: calls the user's operator for each link, in order, from
/// `*idx_p`; recursive visits descend into each group once.
fn iterate(
    f: &Arc<FileCtx>,
    hid: hid_t,
    gid: &str,
    it: &mut sys::H5VL_link_iterate_args_t,
    prefix: &str,
    seen: &mut HashSet<String>,
) -> R<herr_t> {
    let Some(op) = it.op else {
        return Err(BlobError::new(ErrorKind::Config, "no iteration callback"));
    };
    seen.insert(gid.to_string());
    let links = sorted(f, gid, it.idx_type, it.order)?;
    let corder = corders(f, gid)?;
    let first = if prefix.is_empty() && !it.idx_p.is_null() {
        // SAFETY: HDF5's index pointer, checked non-NULL.
        unsafe { *it.idx_p as usize }
    } else {
        0
    };
    let mut ret = 0;
    for (i, l) in links.iter().enumerate().skip(first) {
        let name = format!("{prefix}{}", l.name);
        let cname = CString::new(name.clone()).unwrap_or_default();
        let li = info(f, l, corder.get(&l.name).copied().unwrap_or(0));
        // SAFETY: the user's callback with a registered group id and valid pointers.
        ret = unsafe { op(hid, cname.as_ptr(), &li, it.op_data) };
        if prefix.is_empty() && !it.idx_p.is_null() {
            // SAFETY: checked non-NULL above.
            unsafe { *it.idx_p = (i + 1) as u64 };
        }
        if ret != 0 {
            break;
        }
        if it.recursive {
            if let Target::Hard(id) = &l.target {
                if id.starts_with('g') && !seen.contains(id) {
                    ret = iterate(f, hid, id, it, &format!("{name}/"), seen)?;
                    if ret != 0 {
                        break;
                    }
                }
            }
        }
    }
    Ok(ret)
}
