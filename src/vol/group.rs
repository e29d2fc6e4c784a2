//! H5G callbacks: groups are HSDS groups; their links live in the file's metadata cache.

use super::file::new_plist;
use super::meta::{FileCtx, Link, Target};
use super::{
    Kind, Obj, R, call, cstr, hs_err, locate, locate_here, obj, put, read_only, status, unsupported,
};
use crate::blob::{BlobError, ErrorKind};
use crate::h5::{Major, sys};
use crate::runtime::block_on;
use serde_json::{Value, json};
use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::Arc;
use sys::{H5VL_loc_params_t, herr_t, hid_t};

pub(crate) const CLASS: sys::H5VL_group_class_t = sys::H5VL_group_class_t {
    create: Some(create),
    open: Some(open),
    get: Some(get),
    specific: Some(specific),
    optional: None,
    close: Some(super::close_cb),
};

/// Whether a link creation property list asks for missing intermediate groups.
pub(crate) fn wants_intermediate(lcpl: hid_t) -> bool {
    let mut v: u32 = 0;
    // SAFETY: plain HDF5 query; a default/invalid list just answers no.
    lcpl > 0
        && crate::h5::quietly(|| unsafe { sys::H5Pget_create_intermediate_group(lcpl, &mut v) })
            >= 0
        && v > 0
}

/// Creates an object through `POST /<collection>` linked as `name` in `parent`, and
/// records the link. Returns the new id.
pub(crate) fn create_linked(
    f: &FileCtx,
    collection: &str,
    parent: &str,
    name: &str,
    mut body: Value,
) -> R<String> {
    if f.link(parent, name)?.is_some() {
        return Err(BlobError::new(
            ErrorKind::Exists,
            format!("{name:?} already exists in {}", f.domain),
        ));
    }
    body["link"] = json!({"id": parent, "name": name});
    let v = block_on(f.client.send_json(
        reqwest::Method::POST,
        &format!("/{collection}"),
        &f.q(&[]),
        body,
    ))
    .map_err(hs_err)?;
    let id = v["id"].as_str().map(str::to_string).ok_or_else(|| {
        BlobError::new(
            ErrorKind::Server,
            format!("creating {name:?}: the server's answer has no id"),
        )
    })?;
    f.register(&id);
    add_link(f, parent, name, Target::Hard(id.clone()))?;
    if collection == "groups" {
        f.set_links(&id, Vec::new());
    }
    Ok(id)
}

/// Records a link we created in the cached link table of `parent`.
pub(crate) fn add_link(f: &FileCtx, parent: &str, name: &str, target: Target) -> R<()> {
    let mut links: Vec<Link> = (*f.links(parent)?).clone();
    let created = links.iter().map(|l| l.created).fold(0.0, f64::max) + 1e-6;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    links.retain(|l| l.name != name);
    links.push(Link {
        name: name.to_string(),
        target,
        created: now.max(created),
    });
    f.set_links(parent, links);
    Ok(())
}

/// The group a new object's path ends in, creating missing groups on the way when asked.
pub(crate) fn parent_for_create<'p>(
    f: &FileCtx,
    start: &str,
    path: &'p str,
    intermediate: bool,
) -> R<(String, &'p str)> {
    match f.parent_of(start, path) {
        Err(e) if e.kind == ErrorKind::NotFound && intermediate => {
            let trimmed = path.trim_end_matches('/');
            let (dir, last) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
            let mut cur = if path.starts_with('/') {
                f.root.clone()
            } else {
                start.to_string()
            };
            for comp in dir.split('/').filter(|c| !c.is_empty() && *c != ".") {
                cur = match f.link(&cur, comp)? {
                    Some(l) => f.resolve(&cur, &l.name)?,
                    None => create_linked(f, "groups", &cur, comp, json!({}))?,
                };
            }
            Ok((cur, last))
        }
        other => other,
    }
}

unsafe extern "C" fn create(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    lcpl: hid_t,
    _gcpl: hid_t,
    _gapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    call(c"group_create", Major::Group, ptr::null_mut(), || {
        // SAFETY: a live object from HDF5.
        let o = unsafe { obj(o)? };
        let f = &o.file;
        read_only(f)?;
        let start = locate_here(o, loc)?;
        let name = cstr(name, "group name")?;
        let (parent, last) = parent_for_create(f, &start, name, wants_intermediate(lcpl))?;
        let id = create_linked(f, "groups", &parent, last, json!({}))?;
        f.set_attrs_empty(&id);
        Ok(Obj::new(f, Kind::Group(id)).into_raw())
    })
}

unsafe extern "C" fn open(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    _gapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    call(c"group_open", Major::Group, ptr::null_mut(), || {
        // SAFETY: a live object from HDF5.
        let o = unsafe { obj(o)? };
        let (f, start) = locate(o, loc)?;
        let name = cstr(name, "group name")?;
        let (f, id) = f.locate_path(&start, name)?;
        if !id.starts_with('g') {
            return Err(BlobError::new(
                ErrorKind::NotFound,
                format!("{name:?} is not a group"),
            ));
        }
        f.register(&id);
        Ok(Obj::new(&f, Kind::Group(id)).into_raw())
    })
}

pub(crate) fn info(f: &Arc<FileCtx>, gid: &str) -> R<sys::H5G_info_t> {
    let links = f.links(gid)?;
    Ok(sys::H5G_info_t {
        storage_type: sys::H5G_STORAGE_TYPE_COMPACT,
        nlinks: links.len() as u64,
        max_corder: links.len() as i64,
        mounted: false,
    })
}

unsafe extern "C" fn get(
    o: *mut c_void,
    args: *mut sys::H5VL_group_get_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    status(c"group_get", Major::Group, || {
        // SAFETY: HDF5 passes a live object and valid arguments; the union member read is
        // the one op_type selects.
        unsafe {
            let o = obj(o)?;
            let a = super::args(args)?;
            match a.op_type {
                sys::H5VL_GROUP_GET_GCPL => {
                    a.args.get_gcpl.gcpl_id = new_plist(sys::H5P_CLS_GROUP_CREATE_ID_g)?;
                }
                sys::H5VL_GROUP_GET_INFO => {
                    let gi = &mut a.args.get_info;
                    let (f, id) = locate(o, &gi.loc_params)?;
                    if !id.starts_with('g') {
                        return Err(BlobError::new(ErrorKind::NotFound, "not a group"));
                    }
                    put(gi.ginfo, info(&f, &id)?)?;
                }
                other => return Err(unsupported(&format!("group get operation {other}"))),
            }
        }
        Ok(())
    })
}

unsafe extern "C" fn specific(
    o: *mut c_void,
    args: *mut sys::H5VL_group_specific_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    status(c"group_specific", Major::Group, || {
        // SAFETY: as in `get`.
        unsafe {
            let o = obj(o)?;
            let a = super::args(args)?;
            match a.op_type {
                sys::H5VL_GROUP_FLUSH => Ok(()),
                sys::H5VL_GROUP_REFRESH => {
                    o.file.forget_links(o.oid());
                    o.file.forget_attrs(o.oid());
                    Ok(())
                }
                sys::H5VL_GROUP_MOUNT | sys::H5VL_GROUP_UNMOUNT => Err(unsupported("H5Fmount")),
                other => Err(unsupported(&format!("group operation {other}"))),
            }
        }
    })
}
