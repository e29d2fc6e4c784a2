//! H5T callbacks: committed (named) datatypes are HSDS datatypes.

use super::dataset::{resolver, type_err};
use super::file::new_plist;
use super::group::{create_linked, parent_for_create, wants_intermediate};
use super::hid::Hid;
use super::meta::FileCtx;
use super::{
    Kind, Obj, R, call, cstr, hs_err, locate, locate_here, obj, read_only, status, types,
    unsupported,
};
use crate::blob::{BlobError, ErrorKind};
use crate::h5::{Major, sys};
use crate::runtime::block_on;
use serde_json::json;
use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::Arc;
use sys::{H5VL_loc_params_t, herr_t, hid_t};

pub(crate) const CLASS: sys::H5VL_datatype_class_t = sys::H5VL_datatype_class_t {
    commit: Some(commit),
    open: Some(open),
    get: Some(get),
    specific: Some(specific),
    optional: None,
    close: Some(super::close_cb),
};

pub struct Dtype {
    pub id: String,
    pub tid: Hid,
}

impl Dtype {
    pub fn load(f: &Arc<FileCtx>, id: &str) -> R<Dtype> {
        let v = f.object(id)?;
        let tid = types::type_from_json(&v["type"], &resolver(f)).map_err(type_err)?;
        Ok(Dtype {
            id: id.to_string(),
            tid,
        })
    }
}

unsafe extern "C" fn commit(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    type_id: hid_t,
    lcpl: hid_t,
    _tcpl: hid_t,
    _tapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    call(c"datatype_commit", Major::Datatype, ptr::null_mut(), || {
        // SAFETY: a live object from HDF5.
        let o = unsafe { obj(o)? };
        let f = &o.file;
        read_only(f)?;
        let body = json!({"type": types::type_to_json(type_id).map_err(type_err)?});
        let id = if name.is_null() {
            let v =
                block_on(
                    f.client
                        .send_json(reqwest::Method::POST, "/datatypes", &f.q(&[]), body),
                )
                .map_err(hs_err)?;
            let id = v["id"].as_str().unwrap_or_default().to_string();
            f.register(&id);
            id
        } else {
            let start = locate_here(o, loc)?;
            let name = cstr(name, "datatype name")?;
            let (parent, last) = parent_for_create(f, &start, name, wants_intermediate(lcpl))?;
            create_linked(f, "datatypes", &parent, last, body)?
        };
        f.set_attrs_empty(&id);
        let t = Dtype::load(f, &id)?;
        Ok(Obj::new(f, Kind::Datatype(Box::new(t))).into_raw())
    })
}

unsafe extern "C" fn open(
    o: *mut c_void,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    _tapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    call(c"datatype_open", Major::Datatype, ptr::null_mut(), || {
        // SAFETY: a live object from HDF5.
        let o = unsafe { obj(o)? };
        let (f, start) = locate(o, loc)?;
        let name = cstr(name, "datatype name")?;
        let (f, id) = f.locate_path(&start, name)?;
        if !id.starts_with('t') {
            return Err(BlobError::new(
                ErrorKind::NotFound,
                format!("{name:?} is not a named datatype"),
            ));
        }
        let t = Dtype::load(&f, &id)?;
        Ok(Obj::new(&f, Kind::Datatype(Box::new(t))).into_raw())
    })
}

unsafe extern "C" fn get(
    o: *mut c_void,
    args: *mut sys::H5VL_datatype_get_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    status(c"datatype_get", Major::Datatype, || {
        // SAFETY: HDF5 passes a live object and valid arguments; union members per op_type.
        unsafe {
            let o = obj(o)?;
            let Kind::Datatype(t) = &o.kind else {
                return Err(BlobError::new(ErrorKind::Internal, "not a datatype"));
            };
            let a = super::args(args)?;
            match a.op_type {
                sys::H5VL_DATATYPE_GET_BINARY_SIZE => {
                    if sys::H5Tencode(t.tid.id(), ptr::null_mut(), a.args.get_binary_size.size) < 0
                    {
                        return Err(BlobError::new(
                            ErrorKind::Internal,
                            "cannot encode the datatype",
                        ));
                    }
                }
                sys::H5VL_DATATYPE_GET_BINARY => {
                    let mut size = a.args.get_binary.buf_size;
                    if sys::H5Tencode(t.tid.id(), a.args.get_binary.buf, &mut size) < 0 {
                        return Err(BlobError::new(
                            ErrorKind::Internal,
                            "cannot encode the datatype",
                        ));
                    }
                }
                sys::H5VL_DATATYPE_GET_TCPL => {
                    a.args.get_tcpl.tcpl_id = new_plist(sys::H5P_CLS_DATATYPE_CREATE_ID_g)?
                }
                other => return Err(unsupported(&format!("datatype get operation {other}"))),
            }
        }
        Ok(())
    })
}

unsafe extern "C" fn specific(
    _o: *mut c_void,
    _args: *mut sys::H5VL_datatype_specific_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    // Flush and refresh: committed types never change on the server.
    0
}
