//! H5F callbacks: an HDF5 file is an HSDS domain (`/home/<user>/<name>.h5`).

use super::meta::FileCtx;
use super::{Kind, Obj, call, copy_name, cstr, obj, put, status, unsupported};
use crate::blob::{BlobError, ErrorKind};
use crate::h5::{Major, sys};
use std::ffi::{c_char, c_uint, c_void};
use std::ptr;
use sys::{herr_t, hid_t};

pub(crate) const CLASS: sys::H5VL_file_class_t = sys::H5VL_file_class_t {
    create: Some(create),
    open: Some(open),
    get: Some(get),
    specific: Some(specific),
    optional: Some(optional),
    close: Some(super::close_cb),
};

unsafe extern "C" fn create(
    name: *const c_char,
    flags: c_uint,
    _fcpl: hid_t,
    _fapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    call(c"file_create", Major::File, ptr::null_mut(), || {
        let f = FileCtx::create(cstr(name, "file name")?, flags)?;
        Ok(Obj::new(&f, Kind::File).into_raw())
    })
}

unsafe extern "C" fn open(
    name: *const c_char,
    flags: c_uint,
    _fapl: hid_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> *mut c_void {
    call(c"file_open", Major::File, ptr::null_mut(), || {
        let f = FileCtx::open(cstr(name, "file name")?, flags)?;
        Ok(Obj::new(&f, Kind::File).into_raw())
    })
}

unsafe extern "C" fn get(
    o: *mut c_void,
    args: *mut sys::H5VL_file_get_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    status(c"file_get", Major::File, || {
        // SAFETY: HDF5 passes a live object and valid arguments; each arm reads the union
        // member its op_type selects and writes through the out pointers HDF5 gave.
        unsafe {
            let o = obj(o)?;
            let a = super::args(args)?;
            let f = &o.file;
            match a.op_type {
                sys::H5VL_FILE_GET_CONT_INFO => {
                    let info = super::args(a.args.get_cont_info.info)?;
                    info.feature_flags = 0;
                    info.token_size = 16;
                    info.blob_id_size = 0;
                }
                sys::H5VL_FILE_GET_FAPL => {
                    a.args.get_fapl.fapl_id = new_plist(sys::H5P_CLS_FILE_ACCESS_ID_g)?;
                }
                sys::H5VL_FILE_GET_FCPL => {
                    a.args.get_fcpl.fcpl_id = new_plist(sys::H5P_CLS_FILE_CREATE_ID_g)?;
                }
                sys::H5VL_FILE_GET_FILENO => put(a.args.get_fileno.fileno, f.fileno as _)?,
                sys::H5VL_FILE_GET_INTENT => {
                    let intent = if f.writable {
                        crate::h5::H5F_ACC_RDWR
                    } else {
                        0
                    };
                    put(a.args.get_intent.flags, intent)?;
                }
                sys::H5VL_FILE_GET_NAME => {
                    let g = &mut a.args.get_name;
                    let n = copy_name(&f.domain, g.buf, g.buf_size);
                    if !g.file_name_len.is_null() {
                        *g.file_name_len = n;
                    }
                }
                sys::H5VL_FILE_GET_OBJ_COUNT => return Err(unsupported("H5Fget_obj_count")),
                sys::H5VL_FILE_GET_OBJ_IDS => return Err(unsupported("H5Fget_obj_ids")),
                other => return Err(unsupported(&format!("file get operation {other}"))),
            }
        }
        Ok(())
    })
}

pub(crate) fn new_plist(class: hid_t) -> Result<hid_t, BlobError> {
    // SAFETY: plain HDF5 call on a property list class id.
    let id = unsafe { sys::H5Pcreate(class) };
    if id < 0 {
        return Err(BlobError::new(
            ErrorKind::Internal,
            "cannot create a property list",
        ));
    }
    Ok(id)
}

unsafe extern "C" fn specific(
    o: *mut c_void,
    args: *mut sys::H5VL_file_specific_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    status(c"file_specific", Major::File, || {
        // SAFETY: as in `get`.
        unsafe {
            let a = super::args(args)?;
            match a.op_type {
                // Every change is on the server when its request returns.
                sys::H5VL_FILE_FLUSH => {}
                sys::H5VL_FILE_REOPEN => {
                    let o = obj(o)?;
                    put(a.args.reopen.file, Obj::new(&o.file, Kind::File).into_raw())?;
                }
                sys::H5VL_FILE_IS_ACCESSIBLE => {
                    let acc = a.args.is_accessible;
                    let name = cstr(acc.filename, "file name")?;
                    put(acc.accessible, FileCtx::accessible(name)?)?;
                }
                sys::H5VL_FILE_DELETE => {
                    FileCtx::delete(cstr(a.args.del.filename, "file name")?)?;
                }
                sys::H5VL_FILE_IS_EQUAL => {
                    let (x, y) = (obj(o)?, obj(a.args.is_equal.obj2)?);
                    let same = x.file.domain == y.file.domain
                        && x.file.client.display == y.file.client.display;
                    put(a.args.is_equal.same_file, same)?;
                }
                other => return Err(unsupported(&format!("file operation {other}"))),
            }
        }
        Ok(())
    })
}

unsafe extern "C" fn optional(
    _o: *mut c_void,
    args: *mut sys::H5VL_optional_args_t,
    _dxpl: hid_t,
    _req: *mut *mut c_void,
) -> herr_t {
    super::no_optional(c"file_optional", Major::File, args, "file")
}
