//! An owned HDF5 identifier (datatype, dataspace, property list): released on drop.

use crate::h5::sys;
use sys::hid_t;

/// Owns one reference to an HDF5 identifier; `Drop` gives it back with `H5Idec_ref`.
#[derive(Debug)]
pub struct Hid(hid_t);

impl Hid {
    /// Takes ownership of `id`; `None` when HDF5 returned a failure (negative id).
    pub fn new(id: hid_t) -> Option<Hid> {
        (id >= 0).then_some(Hid(id))
    }

    /// Takes ownership of `id` or reports `what` failed.
    pub fn check(id: hid_t, what: &str) -> Result<Hid, String> {
        Hid::new(id).ok_or_else(|| format!("HDF5 failed to {what}"))
    }

    /// A new reference to an identifier someone else owns (HDF5 passed it to a callback).
    pub fn borrowed(id: hid_t) -> Result<Hid, String> {
        // SAFETY: plain HDF5 call; fails cleanly on an invalid id.
        if unsafe { sys::H5Iinc_ref(id) } < 0 {
            return Err("invalid HDF5 identifier".into());
        }
        Ok(Hid(id))
    }

    pub fn id(&self) -> hid_t {
        self.0
    }

    /// Gives up ownership: the caller (usually HDF5) now owns the reference.
    pub fn into_raw(self) -> hid_t {
        let id = self.0;
        std::mem::forget(self);
        id
    }
}

impl Drop for Hid {
    fn drop(&mut self) {
        // SAFETY: we own one reference to a valid id.
        unsafe {
            sys::H5Idec_ref(self.0);
        }
    }
}
