//! HSDS JSON and HDF5, both ways: datatypes, dataspaces and dataset creation properties;
//! and values between HSDS's encodings (binary, JSON) and HDF5's memory layout.
//!
//! The JSON forms are h5json's (hdf5dtype.py, array_util.py, filters.py), which HSDS and
//! h5pyd share, so what we send looks like what `hsload` sends.

use std::collections::HashSet;
use std::ffi::{CStr, CString, c_char, c_void};
use std::ptr;

use serde_json::{Map, Number, Value, json};

use super::hid::Hid;
use crate::h5::{quietly, sys};
use sys::hid_t;

/// Deepest nesting of types (and committed-type references) we follow.
const MAX_DEPTH: usize = 32;
/// `H5S_UNLIMITED`, a cast macro bindgen does not translate.
const H5S_UNLIMITED: u64 = u64::MAX;
/// `H5T_VARIABLE` as the size argument of `H5Tset_size`.
const H5T_VARIABLE: usize = usize::MAX;
/// Bytes of a `char*` (vlen string) in memory.
const PTR: usize = size_of::<usize>();
/// Bytes of an `hvl_t {size_t len; void *p}` (vlen sequence) in memory.
const HVL: usize = 2 * PTR;
/// Gzip level h5json and h5pyd use when a deflate filter names none.
const DEFAULT_GZIP: u32 = 4;

/// h5json's FILTER_DEFS: class, id, name.
const FILTERS: [(&str, u32, &str); 13] = [
    ("H5Z_FILTER_DEFLATE", 1, "gzip"),
    ("H5Z_FILTER_SHUFFLE", 2, "shuffle"),
    ("H5Z_FILTER_FLETCHER32", 3, "fletcher32"),
    ("H5Z_FILTER_SZIP", 4, "szip"),
    ("H5Z_FILTER_NBIT", 5, "nbit"),
    ("H5Z_FILTER_SCALEOFFSET", 6, "scaleoffset"),
    ("H5Z_FILTER_LZF", 32000, "lzf"),
    ("H5Z_FILTER_BLOSC", 32001, "blosclz"),
    ("H5Z_FILTER_SNAPPY", 32003, "snappy"),
    ("H5Z_FILTER_LZ4", 32004, "lz4"),
    ("H5Z_FILTER_LZ4HC", 32005, "lz4hc"),
    ("H5Z_FILTER_BITSHUFFLE", 32008, "bitshuffle"),
    ("H5Z_FILTER_ZSTD", 32015, "zstd"),
];

const SCALE_TYPES: [(&str, u32); 3] = [
    ("H5Z_SO_FLOAT_DSCALE", sys::H5Z_SO_FLOAT_DSCALE),
    ("H5Z_SO_FLOAT_ESCALE", sys::H5Z_SO_FLOAT_ESCALE),
    ("H5Z_SO_INT", sys::H5Z_SO_INT),
];

const ALLOC_TIMES: [(&str, sys::H5D_alloc_time_t); 4] = [
    ("H5D_ALLOC_TIME_DEFAULT", sys::H5D_ALLOC_TIME_DEFAULT),
    ("H5D_ALLOC_TIME_EARLY", sys::H5D_ALLOC_TIME_EARLY),
    ("H5D_ALLOC_TIME_LATE", sys::H5D_ALLOC_TIME_LATE),
    ("H5D_ALLOC_TIME_INCR", sys::H5D_ALLOC_TIME_INCR),
];

const FILL_TIMES: [(&str, sys::H5D_fill_time_t); 3] = [
    ("H5D_FILL_TIME_IFSET", sys::H5D_FILL_TIME_IFSET),
    ("H5D_FILL_TIME_ALLOC", sys::H5D_FILL_TIME_ALLOC),
    ("H5D_FILL_TIME_NEVER", sys::H5D_FILL_TIME_NEVER),
];

const STR_PADS: [(&str, sys::H5T_str_t); 3] = [
    ("H5T_STR_NULLTERM", sys::H5T_STR_NULLTERM),
    ("H5T_STR_NULLPAD", sys::H5T_STR_NULLPAD),
    ("H5T_STR_SPACEPAD", sys::H5T_STR_SPACEPAD),
];

const CSETS: [(&str, sys::H5T_cset_t); 2] = [
    ("H5T_CSET_ASCII", sys::H5T_CSET_ASCII),
    ("H5T_CSET_UTF8", sys::H5T_CSET_UTF8),
];

/// HSDS type JSON -> HDF5 datatype. A committed-type reference (a JSON string "t-<uuid>") is
/// resolved through `resolve`, which returns that committed type's own type JSON.
pub fn type_from_json(
    v: &Value,
    resolve: &dyn Fn(&str) -> Result<Value, String>,
) -> Result<Hid, String> {
    open();
    from_json(v, resolve, 0)
}

/// HDF5 datatype -> HSDS type JSON (used when creating datasets/attributes/committed types).
pub fn type_to_json(tid: hid_t) -> Result<Value, String> {
    open();
    to_json(tid, 0)
}

/// HSDS shape JSON -> dataspace: `{"class":"H5S_SIMPLE","dims":[..],"maxdims":[..]}` (a
/// maxdims entry 0 or "H5S_UNLIMITED" is unlimited), `{"class":"H5S_SCALAR"}` or
/// `{"class":"H5S_NULL"}`; also the create-request forms (a dims list, a class name).
pub fn space_from_json(shape: &Value) -> Result<Hid, String> {
    open();
    let (class, dims, maxdims) = match shape {
        Value::String(s) => (s.as_str(), None, None),
        Value::Array(_) | Value::Number(_) => ("H5S_SIMPLE", Some(shape), None),
        Value::Object(o) => (
            str_key(o, "class", "HSDS shape")?,
            o.get("dims"),
            o.get("maxdims"),
        ),
        _ => return Err(format!("HSDS shape must be an object, got {}", show(shape))),
    };
    match class {
        // SAFETY: plain HDF5 call.
        "H5S_SCALAR" => Hid::check(
            unsafe { sys::H5Screate(sys::H5S_SCALAR) },
            "create a scalar dataspace",
        ),
        // SAFETY: plain HDF5 call.
        "H5S_NULL" => Hid::check(
            unsafe { sys::H5Screate(sys::H5S_NULL) },
            "create a null dataspace",
        ),
        "H5S_SIMPLE" => {
            let dims = u64_list(
                dims.ok_or("H5S_SIMPLE shape without \"dims\"")?,
                "shape dims",
            )?;
            if dims.is_empty() || dims.len() > sys::H5S_MAX_RANK as usize {
                return Err(format!("H5S_SIMPLE shape with {} dims", dims.len()));
            }
            let max = match maxdims {
                None | Some(Value::Null) => None,
                Some(m) => Some(maxdims_list(m, dims.len())?),
            };
            if let Some(max) = &max
                && let Some(i) = (0..dims.len()).find(|&i| max[i] < dims[i])
            {
                return Err(format!(
                    "shape maxdims {} smaller than dims {} in dimension {i}",
                    max[i], dims[i]
                ));
            }
            let maxp = max.as_ref().map_or(ptr::null(), |m| m.as_ptr());
            // SAFETY: dims (and maxdims when given) hold `rank` values.
            let sid = unsafe { sys::H5Screate_simple(dims.len() as i32, dims.as_ptr(), maxp) };
            Hid::check(sid, "create a simple dataspace")
        }
        other => Err(format!("unsupported HSDS shape class {other}")),
    }
}

/// Dataspace -> the shape of a create request: a dims list (or "H5S_SCALAR"/"H5S_NULL"),
/// and maxdims (0 = unlimited) when some dimension can grow.
pub fn space_to_json(sid: hid_t) -> Result<(Value, Option<Value>), String> {
    // SAFETY: plain HDF5 call; fails cleanly on an invalid id.
    let class = unsafe { sys::H5Sget_simple_extent_type(sid) };
    match class {
        sys::H5S_SCALAR => Ok((json!("H5S_SCALAR"), None)),
        sys::H5S_NULL => Ok((json!("H5S_NULL"), None)),
        sys::H5S_SIMPLE => {
            let (dims, max) = extent(sid)?;
            let maxdims = (dims != max).then(|| {
                let m: Vec<u64> = max
                    .iter()
                    .map(|&m| if m == H5S_UNLIMITED { 0 } else { m })
                    .collect();
                json!(m)
            });
            Ok((json!(dims), maxdims))
        }
        _ => Err("invalid dataspace".into()),
    }
}

/// HSDS "creationProperties" -> a dataset creation property list: layout (chunk dims,
/// contiguous, compact), fillValue (JSON, or base64 of HSDS binary), filters, allocTime and
/// fillTime. Filters HDF5 lacks are recorded as optional (`H5Z_FLAG_OPTIONAL`), with their
/// "parameters" as cd_values.
///
/// HSDS's layouts over external chunks (`H5D_CHUNKED_REF*`, `H5D_CONTIGUOUS_REF`) read as
/// chunked or contiguous; other layout classes and other keys are ignored.
pub fn dcpl_from_json(cprops: &Value, tid: hid_t) -> Result<Hid, String> {
    open();
    let empty = Map::new();
    let cp = match cprops {
        Value::Object(o) => o,
        Value::Null => &empty,
        _ => {
            return Err(format!(
                "creationProperties must be an object, got {}",
                show(cprops)
            ));
        }
    };
    // SAFETY: plain HDF5 call; the class global is set by H5open.
    let dcpl = Hid::check(
        unsafe { sys::H5Pcreate(sys::H5P_CLS_DATASET_CREATE_ID_g) },
        "create a dataset creation property list",
    )?;
    let d = dcpl.id();
    if let Some(layout) = cp.get("layout").filter(|l| !l.is_null()) {
        set_layout(d, layout)?;
    }
    if let Some(filters) = cp.get("filters").filter(|f| !f.is_null()) {
        let list = filters
            .as_array()
            .ok_or_else(|| format!("filters must be a list, got {}", show(filters)))?;
        for f in list {
            add_filter(d, f, tid)?;
        }
    }
    if let Some(fv) = cp.get("fillValue").filter(|f| !f.is_null()) {
        let encoding = cp.get("fillValue_encoding").and_then(Value::as_str);
        let mut buf = match encoding {
            Some("base64") => {
                let s = fv
                    .as_str()
                    .ok_or("base64 fillValue must be a string".to_string())?;
                decode(tid, 1, &base64_decode(s)?)?
            }
            None | Some("None") => json_to_mem(tid, 1, fv)?,
            Some(e) => return Err(format!("unsupported fillValue_encoding {e:?}")),
        };
        // SAFETY: buf holds one value of `tid`; HDF5 copies it, vlen parts included.
        let r = unsafe { sys::H5Pset_fill_value(d, tid, buf.as_ptr().cast()) };
        if let Ok(node) = describe(tid, 0) {
            free_values(&node, &mut buf);
        }
        if r < 0 {
            return Err(format!("HDF5 rejected fillValue {}", show(fv)));
        }
    }
    if let Some(t) = cp.get("allocTime").filter(|t| !t.is_null()) {
        let t = lookup(&ALLOC_TIMES, t, "allocTime")?;
        // SAFETY: plain HDF5 call on our property list.
        check(unsafe { sys::H5Pset_alloc_time(d, t) }, "set allocTime")?;
    }
    if let Some(t) = cp.get("fillTime").filter(|t| !t.is_null()) {
        let t = lookup(&FILL_TIMES, t, "fillTime")?;
        // SAFETY: plain HDF5 call on our property list.
        check(unsafe { sys::H5Pset_fill_time(d, t) }, "set fillTime")?;
    } else if has_vlen(tid) {
        // HDF5 fills variable-length datasets at allocation; a created one says so.
        // SAFETY: plain HDF5 call on our property list.
        check(
            unsafe { sys::H5Pset_fill_time(d, sys::H5D_FILL_TIME_ALLOC) },
            "set fillTime",
        )?;
    }
    Ok(dcpl)
}

/// Dataset creation property list -> HSDS "creationProperties": chunked layout, fillValue
/// when the user set one, filters (id, class, name and options, as h5json), allocTime and
/// fillTime.
///
/// A contiguous layout (HDF5's default) is left out so HSDS chooses chunks: it stores a
/// contiguous dataset as a single chunk and refuses one larger than its chunk cache.
pub fn dcpl_to_json(dcpl: hid_t, tid: hid_t) -> Result<Value, String> {
    open();
    let mut cp = Map::new();
    // SAFETY: plain HDF5 call; fails cleanly on an invalid id.
    let layout = unsafe { sys::H5Pget_layout(dcpl) };
    match layout {
        sys::H5D_COMPACT => {
            cp.insert("layout".into(), json!({"class": "H5D_COMPACT"}));
        }
        // HSDS stores a contiguous dataset as one chunk and refuses large ones; without a
        // layout it picks chunks itself, which is what HDF5's default should become.
        sys::H5D_CONTIGUOUS | sys::H5D_VIRTUAL => {}
        sys::H5D_CHUNKED => {
            let mut dims = [0u64; sys::H5S_MAX_RANK as usize];
            // SAFETY: dims has room for H5S_MAX_RANK values.
            let rank = unsafe { sys::H5Pget_chunk(dcpl, dims.len() as i32, dims.as_mut_ptr()) };
            let mut l = json!({"class": "H5D_CHUNKED"});
            if rank > 0 {
                l["dims"] = json!(dims[..rank as usize]);
            }
            cp.insert("layout".into(), l);
        }
        _ => return Err("HDF5 failed to get the dataset layout".into()),
    }
    let mut alloc = sys::H5D_ALLOC_TIME_ERROR;
    // SAFETY: out pointer is valid.
    check(
        unsafe { sys::H5Pget_alloc_time(dcpl, &mut alloc) },
        "get allocTime",
    )?;
    if let Some((name, _)) = ALLOC_TIMES.iter().find(|(_, v)| *v == alloc) {
        cp.insert("allocTime".into(), json!(name));
    }
    let mut fill_time = sys::H5D_FILL_TIME_ERROR;
    // SAFETY: out pointer is valid.
    check(
        unsafe { sys::H5Pget_fill_time(dcpl, &mut fill_time) },
        "get fillTime",
    )?;
    if let Some((name, _)) = FILL_TIMES.iter().find(|(_, v)| *v == fill_time) {
        cp.insert("fillTime".into(), json!(name));
    }
    let mut status = sys::H5D_FILL_VALUE_ERROR;
    // SAFETY: out pointer is valid.
    check(
        unsafe { sys::H5Pfill_value_defined(dcpl, &mut status) },
        "query the fill value",
    )?;
    if status == sys::H5D_FILL_VALUE_USER_DEFINED {
        cp.insert("fillValue".into(), fill_value_json(dcpl, tid)?);
    }
    let filters = filters_to_json(dcpl)?;
    if !filters.is_empty() {
        cp.insert("filters".into(), Value::Array(filters));
    }
    Ok(Value::Object(cp))
}

/// True when values of `tid` hold variable-length data (vlen strings or sequences) anywhere.
pub fn has_vlen(tid: hid_t) -> bool {
    vlen_inside(tid, 0)
}

/// Bytes per value of `tid` in HSDS's binary transfers: `None` for variable-length data
/// (each item carries its length), 48 for an object reference (the id as a string), the
/// type's size otherwise. References nested in other types have no binary form here.
pub fn stored_size(tid: hid_t) -> Result<Option<usize>, String> {
    if has_vlen(tid) {
        return Ok(None);
    }
    if super::refs::is_ref(tid) {
        return Ok(Some(super::refs::STORED));
    }
    // SAFETY: plain HDF5 query.
    if unsafe { sys::H5Tdetect_class(tid, sys::H5T_REFERENCE) } > 0 {
        return Err("object references inside compound or array types are not supported".into());
    }
    Ok(Some(type_size(tid)?))
}

/// HSDS binary values -> `n` values in the memory layout of `tid`.
///
/// Fixed-size data is the same bytes (HSDS packs compounds; a padded `tid` is repacked).
/// Each vlen item is a 4-byte little-endian byte count and its bytes; in memory a vlen
/// string becomes a malloc'd NUL-terminated `char*` and a vlen sequence an `hvl_t` with
/// malloc'd data. Every length is checked against what remains: truncated or oversized
/// input is an error, after freeing what was allocated.
///
/// The caller owns the allocations in the result (`H5Treclaim` frees them). A vlen
/// sequence of a base holding vlen data (h5json writes those too) is read record by record
/// until its byte count is used up.
pub fn decode(tid: hid_t, n: usize, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let node = describe(tid, 0)?;
    let total = n
        .checked_mul(node.mem)
        .ok_or_else(|| format!("{n} values are too many"))?;
    if node.flat {
        if bytes.len() != total {
            return Err(format!(
                "HSDS sent {} bytes for {n} values of {} bytes",
                bytes.len(),
                node.mem
            ));
        }
        return Ok(bytes.to_vec());
    }
    if n.checked_mul(node.min_packed)
        .is_none_or(|least| least > bytes.len())
    {
        return Err(format!(
            "HSDS sent {} bytes, too few for {n} values",
            bytes.len()
        ));
    }
    let mut out = vec![0u8; total];
    let mut pos = 0;
    let mut result = Ok(());
    for dst in out.chunks_exact_mut(node.mem) {
        result = read_value(&node, bytes, &mut pos, dst);
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() && pos != bytes.len() {
        result = Err(format!(
            "HSDS sent {} bytes, {} more than {n} values hold",
            bytes.len(),
            bytes.len() - pos
        ));
    }
    match result {
        Ok(()) => Ok(out),
        Err(e) => {
            free_values(&node, &mut out);
            Err(e)
        }
    }
}

/// Memory layout -> HSDS binary: the inverse of [`decode`]; a NULL `char*` is "".
///
/// The pointers inside `mem` (vlen data) are followed: `mem` must come from HDF5 or from
/// [`decode`]/[`json_to_mem`] for the same type.
pub fn encode(tid: hid_t, n: usize, mem: &[u8]) -> Result<Vec<u8>, String> {
    let node = describe(tid, 0)?;
    let total = n
        .checked_mul(node.mem)
        .ok_or_else(|| format!("{n} values are too many"))?;
    if mem.len() != total {
        return Err(format!(
            "buffer holds {} bytes, expected {n} values of {} bytes",
            mem.len(),
            node.mem
        ));
    }
    if node.flat {
        return Ok(mem.to_vec());
    }
    let mut out = Vec::with_capacity(n.saturating_mul(node.min_packed));
    for src in mem.chunks_exact(node.mem) {
        write_value(&node, src, &mut out)?;
    }
    Ok(out)
}

/// JSON values (attribute or fill values as HSDS returns them) -> `n` values in the memory
/// layout of `tid`.
///
/// Nested lists are flattened to `n` values; `null` is `n` zero values (as in h5json).
/// Enum values may be given by member name, opaque values as base64 strings.
pub fn json_to_mem(tid: hid_t, n: usize, v: &Value) -> Result<Vec<u8>, String> {
    if super::refs::is_ref(tid) {
        return refs_from_json(n, v);
    }
    let node = describe(tid, 0)?;
    let total = n
        .checked_mul(node.mem)
        .ok_or_else(|| format!("{n} values are too many"))?;
    if v.is_null() {
        return Ok(vec![0u8; total]);
    }
    let mut items = Vec::new();
    gather(&node, v, &mut items)?;
    if items.len() != n {
        return Err(format!(
            "expected {n} values, the JSON holds {}: {}",
            items.len(),
            show(v)
        ));
    }
    let mut out = vec![0u8; total];
    for (item, dst) in items.iter().zip(out.chunks_exact_mut(node.mem)) {
        if let Err(e) = value_from_json(&node, item, dst) {
            free_values(&node, &mut out);
            return Err(e);
        }
    }
    Ok(out)
}

/// Object references in JSON (ids, possibly nested by dimension; null for none) -> `n`
/// stored references, as HSDS sends them in binary.
fn refs_from_json(n: usize, v: &Value) -> Result<Vec<u8>, String> {
    fn flat<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| flat(x, out)),
            x => out.push(x),
        }
    }
    let stored = super::refs::STORED;
    if v.is_null() {
        return Ok(vec![0u8; n * stored]);
    }
    let mut items = Vec::new();
    flat(v, &mut items);
    if items.len() != n {
        return Err(format!(
            "expected {n} references, the JSON holds {}: {}",
            items.len(),
            show(v)
        ));
    }
    let mut out = Vec::with_capacity(n * stored);
    for item in items {
        let s = match item {
            Value::String(s) => s.as_str(),
            Value::Null => "",
            x => {
                return Err(format!(
                    "an object reference must be a string, got {}",
                    show(x)
                ));
            }
        };
        let id = super::refs::parse(s.as_bytes()).map_err(|e| e.msg)?;
        out.extend_from_slice(&super::refs::store(id.as_deref()).map_err(|e| e.msg)?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Datatypes: JSON -> HDF5

fn from_json(
    v: &Value,
    resolve: &dyn Fn(&str) -> Result<Value, String>,
    depth: usize,
) -> Result<Hid, String> {
    if depth > MAX_DEPTH {
        return Err("HSDS type nests too deeply (a committed type referring to itself?)".into());
    }
    let o = match v {
        Value::String(s) => {
            if let Some(id) = predefined(s) {
                return copy_type(id);
            }
            let id = s.strip_prefix("datatypes/").unwrap_or(s);
            if !id.starts_with("t-") {
                return Err(format!("unknown HSDS type name {s:?}"));
            }
            let t = resolve(id)?;
            return from_json(&t, resolve, depth + 1);
        }
        Value::Object(o) => o,
        _ => return Err(format!("HSDS type must be an object, got {}", show(v))),
    };
    let class = str_key(o, "class", "HSDS type")?;
    let sub = |key: &str| -> Result<Hid, String> {
        let b = o
            .get(key)
            .ok_or_else(|| format!("{class} type without \"{key}\""))?;
        from_json(b, resolve, depth + 1)
    };
    match class {
        "H5T_INTEGER" | "H5T_FLOAT" => {
            let base = str_key(o, "base", class)?;
            let prefix = if class == "H5T_INTEGER" {
                "H5T_STD_"
            } else {
                "H5T_IEEE_"
            };
            match predefined(base) {
                Some(id) if base.starts_with(prefix) => copy_type(id),
                _ => Err(format!("unsupported {class} base {base:?}")),
            }
        }
        "H5T_STRING" => string_from_json(o),
        "H5T_COMPOUND" => compound_from_json(o, resolve, depth),
        "H5T_ARRAY" => {
            let base = sub("base")?;
            let dims = u64_list(
                o.get("dims").ok_or("H5T_ARRAY type without \"dims\"")?,
                "H5T_ARRAY dims",
            )?;
            if dims.is_empty() || dims.len() > sys::H5S_MAX_RANK as usize || dims.contains(&0) {
                return Err(format!("invalid H5T_ARRAY dims {dims:?}"));
            }
            // SAFETY: base is a valid type; dims holds `rank` values.
            let t = unsafe { sys::H5Tarray_create2(base.id(), dims.len() as u32, dims.as_ptr()) };
            Hid::check(t, "create an array type")
        }
        "H5T_ENUM" => {
            let base = sub("base")?;
            enum_from_json(o, &base)
        }
        "H5T_VLEN" => {
            let base = sub("base")?;
            // SAFETY: base is a valid type.
            Hid::check(
                unsafe { sys::H5Tvlen_create(base.id()) },
                "create a vlen type",
            )
        }
        "H5T_OPAQUE" => {
            let size = positive(
                o.get("size").ok_or("H5T_OPAQUE type without \"size\"")?,
                "H5T_OPAQUE size",
            )?;
            // SAFETY: plain HDF5 call.
            let t = Hid::check(
                unsafe { sys::H5Tcreate(sys::H5T_OPAQUE, size) },
                "create an opaque type",
            )?;
            if let Some(tag) = opt_str(o, "tag", "H5T_OPAQUE")?.filter(|t| !t.is_empty()) {
                if tag.len() >= sys::H5T_OPAQUE_TAG_MAX as usize {
                    return Err(format!(
                        "H5T_OPAQUE tag longer than {}",
                        sys::H5T_OPAQUE_TAG_MAX
                    ));
                }
                let c = cstring(tag, "H5T_OPAQUE tag")?;
                // SAFETY: t is our opaque type; c is NUL-terminated.
                check(
                    unsafe { sys::H5Tset_tag(t.id(), c.as_ptr()) },
                    "set the opaque tag",
                )?;
            }
            Ok(t)
        }
        "H5T_REFERENCE" => match o.get("base").and_then(Value::as_str) {
            // SAFETY: reads HDF5's predefined type id after the library is open.
            Some("H5T_STD_REF_OBJ") => copy_type(unsafe { sys::H5T_STD_REF_OBJ_g }),
            Some("H5T_STD_REF_DSETREG") => {
                Err("region references (H5T_STD_REF_DSETREG) are not supported".into())
            }
            _ => Err(format!("unsupported HSDS reference type {}", show(v))),
        },
        other => Err(format!("unsupported HSDS type class {other}")),
    }
}

fn string_from_json(o: &Map<String, Value>) -> Result<Hid, String> {
    let length = match o.get("length") {
        Some(Value::String(s)) if s == "H5T_VARIABLE" => None,
        Some(v) => Some(positive(v, "H5T_STRING length")?),
        None => return Err("H5T_STRING type without \"length\"".into()),
    };
    let cset = match o.get("charSet") {
        None | Some(Value::Null) => sys::H5T_CSET_ASCII,
        Some(v) => lookup(&CSETS, v, "H5T_STRING charSet")?,
    };
    let pad = match o.get("strPad") {
        None | Some(Value::Null) if length.is_none() => sys::H5T_STR_NULLTERM,
        None | Some(Value::Null) => sys::H5T_STR_NULLPAD,
        Some(v) => lookup(&STR_PADS, v, "H5T_STRING strPad")?,
    };
    // SAFETY: reads HDF5's predefined C string type, set by H5open.
    let t = copy_type(unsafe { sys::H5T_C_S1_g })?;
    // SAFETY: t is a string type we own.
    let ok = unsafe {
        sys::H5Tset_size(t.id(), length.unwrap_or(H5T_VARIABLE)) >= 0
            && sys::H5Tset_cset(t.id(), cset) >= 0
            && sys::H5Tset_strpad(t.id(), pad) >= 0
    };
    if !ok {
        return Err(format!("HDF5 rejected string type {}", show(&json!(o))));
    }
    Ok(t)
}

fn compound_from_json(
    o: &Map<String, Value>,
    resolve: &dyn Fn(&str) -> Result<Value, String>,
    depth: usize,
) -> Result<Hid, String> {
    let fields = o
        .get("fields")
        .and_then(Value::as_array)
        .ok_or("H5T_COMPOUND type without a \"fields\" list")?;
    if fields.is_empty() {
        return Err("H5T_COMPOUND type with no fields".into());
    }
    let mut members = Vec::with_capacity(fields.len());
    let mut names = HashSet::new();
    let mut size = 0usize;
    for f in fields {
        let fo = f
            .as_object()
            .ok_or_else(|| format!("H5T_COMPOUND field must be an object, got {}", show(f)))?;
        let name = str_key(fo, "name", "H5T_COMPOUND field")?;
        if !names.insert(name) {
            return Err(format!("H5T_COMPOUND field {name:?} appears twice"));
        }
        let ty = fo
            .get("type")
            .ok_or_else(|| format!("H5T_COMPOUND field {name:?} without \"type\""))?;
        let t = from_json(ty, resolve, depth + 1)?;
        let s = type_size(t.id())?;
        size = size.checked_add(s).ok_or("H5T_COMPOUND type too large")?;
        members.push((cstring(name, "H5T_COMPOUND field name")?, t, s));
    }
    // SAFETY: plain HDF5 call.
    let c = Hid::check(
        unsafe { sys::H5Tcreate(sys::H5T_COMPOUND, size) },
        "create a compound type",
    )?;
    let mut offset = 0;
    for (name, t, s) in &members {
        // SAFETY: c and t are valid types; name is NUL-terminated; the field fits.
        let r = unsafe { sys::H5Tinsert(c.id(), name.as_ptr(), offset, t.id()) };
        if r < 0 {
            return Err(format!("HDF5 failed to add compound field {name:?}"));
        }
        offset += s;
    }
    Ok(c)
}

fn enum_from_json(o: &Map<String, Value>, base: &Hid) -> Result<Hid, String> {
    if type_class(base.id())? != sys::H5T_INTEGER {
        return Err("H5T_ENUM base must be an H5T_INTEGER type".into());
    }
    let fmt = IntFmt::of(base.id())?;
    let members: Vec<(String, i128)> = match o.get("mapping").or_else(|| o.get("members")) {
        // A JSON object has no order we can see: ascending values, as h5py's bools.
        Some(Value::Object(m)) => {
            let mut list = m
                .iter()
                .map(|(k, v)| Ok((k.clone(), json_int(v)?)))
                .collect::<Result<Vec<_>, String>>()?;
            list.sort_by_key(|(_, v)| *v);
            list
        }
        // h5json's getTypeItem form, [{"name":..,"value":..}]: its order is the file's.
        Some(Value::Array(list)) => list
            .iter()
            .map(|m| {
                let mo = m
                    .as_object()
                    .ok_or_else(|| format!("H5T_ENUM member must be an object, got {}", show(m)))?;
                let name = str_key(mo, "name", "H5T_ENUM member")?;
                let value = mo
                    .get("value")
                    .ok_or_else(|| format!("H5T_ENUM member {name:?} without \"value\""))?;
                Ok((name.to_string(), json_int(value)?))
            })
            .collect::<Result<Vec<_>, String>>()?,
        _ => return Err("H5T_ENUM type without \"mapping\"".into()),
    };
    if members.is_empty() {
        return Err("H5T_ENUM type with no members".into());
    }
    // SAFETY: base is a valid integer type.
    let e = Hid::check(
        unsafe { sys::H5Tenum_create(base.id()) },
        "create an enum type",
    )?;
    let (mut names, mut values) = (HashSet::new(), HashSet::new());
    let mut buf = vec![0u8; fmt.size];
    for (name, value) in &members {
        if !names.insert(name.as_str()) || !values.insert(*value) {
            return Err(format!(
                "H5T_ENUM member {name:?} = {value} repeats a name or value"
            ));
        }
        fmt.write(*value, &mut buf)
            .map_err(|e| format!("H5T_ENUM member {name:?}: {e}"))?;
        let c = cstring(name, "H5T_ENUM member name")?;
        // SAFETY: e is our enum type; buf holds one value of its base type.
        let r = unsafe { sys::H5Tenum_insert(e.id(), c.as_ptr(), buf.as_ptr().cast()) };
        if r < 0 {
            return Err(format!("HDF5 failed to add enum member {name:?}"));
        }
    }
    Ok(e)
}

/// HDF5's predefined type for an h5json base type name.
fn predefined(name: &str) -> Option<hid_t> {
    // SAFETY: reads HDF5's predefined-type globals, set by H5open (our entry points call it).
    let id = unsafe {
        match name {
            "H5T_STD_I8LE" => sys::H5T_STD_I8LE_g,
            "H5T_STD_I8BE" => sys::H5T_STD_I8BE_g,
            "H5T_STD_U8LE" => sys::H5T_STD_U8LE_g,
            "H5T_STD_U8BE" => sys::H5T_STD_U8BE_g,
            "H5T_STD_I16LE" => sys::H5T_STD_I16LE_g,
            "H5T_STD_I16BE" => sys::H5T_STD_I16BE_g,
            "H5T_STD_U16LE" => sys::H5T_STD_U16LE_g,
            "H5T_STD_U16BE" => sys::H5T_STD_U16BE_g,
            "H5T_STD_I32LE" => sys::H5T_STD_I32LE_g,
            "H5T_STD_I32BE" => sys::H5T_STD_I32BE_g,
            "H5T_STD_U32LE" => sys::H5T_STD_U32LE_g,
            "H5T_STD_U32BE" => sys::H5T_STD_U32BE_g,
            "H5T_STD_I64LE" => sys::H5T_STD_I64LE_g,
            "H5T_STD_I64BE" => sys::H5T_STD_I64BE_g,
            "H5T_STD_U64LE" => sys::H5T_STD_U64LE_g,
            "H5T_STD_U64BE" => sys::H5T_STD_U64BE_g,
            "H5T_IEEE_F16LE" => sys::H5T_IEEE_F16LE_g,
            "H5T_IEEE_F16BE" => sys::H5T_IEEE_F16BE_g,
            "H5T_IEEE_F32LE" => sys::H5T_IEEE_F32LE_g,
            "H5T_IEEE_F32BE" => sys::H5T_IEEE_F32BE_g,
            "H5T_IEEE_F64LE" => sys::H5T_IEEE_F64LE_g,
            "H5T_IEEE_F64BE" => sys::H5T_IEEE_F64BE_g,
            _ => return None,
        }
    };
    Some(id)
}

// ---------------------------------------------------------------------------------------
// Datatypes: HDF5 -> JSON

fn to_json(tid: hid_t, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("HDF5 type nests too deeply".into());
    }
    let class = type_class(tid)?;
    Ok(match class {
        sys::H5T_INTEGER => json!({"class": "H5T_INTEGER", "base": IntFmt::of(tid)?.name()?}),
        sys::H5T_FLOAT => json!({"class": "H5T_FLOAT", "base": float_name(tid)?}),
        sys::H5T_STRING => {
            let variable = is_variable_str(tid)?;
            // SAFETY: tid is a valid string type.
            let (cset, pad) = unsafe { (sys::H5Tget_cset(tid), sys::H5Tget_strpad(tid)) };
            let cset = name_of(&CSETS, cset).ok_or("unsupported string character set")?;
            let pad = name_of(&STR_PADS, pad).ok_or("unsupported string padding")?;
            let length = if variable {
                json!("H5T_VARIABLE")
            } else {
                json!(type_size(tid)?)
            };
            json!({"class": "H5T_STRING", "charSet": cset, "length": length, "strPad": pad})
        }
        sys::H5T_COMPOUND => {
            let mut fields = Vec::new();
            for i in 0..nmembers(tid)? {
                let t = member_type(tid, i)?;
                fields.push(
                    json!({"name": member_name(tid, i)?, "type": to_json(t.id(), depth + 1)?}),
                );
            }
            json!({"class": "H5T_COMPOUND", "fields": fields})
        }
        sys::H5T_ARRAY => {
            let base = super_type(tid)?;
            json!({"class": "H5T_ARRAY", "base": to_json(base.id(), depth + 1)?, "dims": array_dims(tid)?})
        }
        sys::H5T_ENUM => {
            let base = super_type(tid)?;
            let fmt = IntFmt::of(base.id())?;
            let mut members = Vec::new();
            let mut buf = vec![0u8; fmt.size];
            for i in 0..nmembers(tid)? {
                // SAFETY: buf holds one value of the enum's base type.
                let r = unsafe { sys::H5Tget_member_value(tid, i, buf.as_mut_ptr().cast()) };
                check(r, "get an enum member value")?;
                members
                    .push(json!({"name": member_name(tid, i)?, "value": int_json(fmt.read(&buf))}));
            }
            json!({"class": "H5T_ENUM", "base": to_json(base.id(), depth + 1)?, "members": members})
        }
        sys::H5T_VLEN => {
            let base = super_type(tid)?;
            json!({"class": "H5T_VLEN", "base": to_json(base.id(), depth + 1)?, "size": "H5T_VARIABLE"})
        }
        sys::H5T_OPAQUE => {
            let mut t = json!({"class": "H5T_OPAQUE", "size": type_size(tid)?});
            // SAFETY: tid is a valid opaque type; HDF5 allocates the tag (or returns NULL).
            let p = unsafe { sys::H5Tget_tag(tid) };
            if !p.is_null() {
                // SAFETY: p is a NUL-terminated string HDF5 allocated for us; freed once.
                let tag = unsafe {
                    let s = CStr::from_ptr(p).to_string_lossy().into_owned();
                    sys::H5free_memory(p.cast());
                    s
                };
                if !tag.is_empty() {
                    t["tag"] = json!(tag);
                }
            }
            t
        }
        sys::H5T_REFERENCE => {
            // SAFETY: plain HDF5 queries on predefined types.
            let object = unsafe {
                sys::H5Tequal(tid, sys::H5T_STD_REF_g) > 0
                    || sys::H5Tequal(tid, sys::H5T_STD_REF_OBJ_g) > 0
            };
            if !object {
                return Err("region references (H5T_STD_REF_DSETREG) are not supported".into());
            }
            json!({"class": "H5T_REFERENCE", "base": "H5T_STD_REF_OBJ", "length": super::refs::STORED})
        }
        other => return Err(format!("unsupported HDF5 type class {}", class_name(other))),
    })
}

fn float_name(tid: hid_t) -> Result<String, String> {
    let size = type_size(tid)?;
    if ![2, 4, 8].contains(&size) {
        return Err(format!("unsupported floating-point size {size} bytes"));
    }
    Ok(format!("H5T_IEEE_F{}{}", size * 8, order_name(tid)?))
}

fn order_name(tid: hid_t) -> Result<&'static str, String> {
    // SAFETY: plain HDF5 call on a valid atomic type.
    match unsafe { sys::H5Tget_order(tid) } {
        sys::H5T_ORDER_BE => Ok("BE"),
        sys::H5T_ORDER_LE | sys::H5T_ORDER_NONE => Ok("LE"),
        o => Err(format!("unsupported byte order {o}")),
    }
}

fn class_name(class: sys::H5T_class_t) -> String {
    match class {
        sys::H5T_INTEGER => "H5T_INTEGER".into(),
        sys::H5T_FLOAT => "H5T_FLOAT".into(),
        sys::H5T_TIME => "H5T_TIME".into(),
        sys::H5T_STRING => "H5T_STRING".into(),
        sys::H5T_BITFIELD => "H5T_BITFIELD".into(),
        sys::H5T_OPAQUE => "H5T_OPAQUE".into(),
        sys::H5T_COMPOUND => "H5T_COMPOUND".into(),
        sys::H5T_REFERENCE => "H5T_REFERENCE".into(),
        sys::H5T_ENUM => "H5T_ENUM".into(),
        sys::H5T_VLEN => "H5T_VLEN".into(),
        sys::H5T_ARRAY => "H5T_ARRAY".into(),
        c => format!("{c}"),
    }
}

fn vlen_inside(tid: hid_t, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match type_class(tid) {
        Ok(sys::H5T_VLEN) => true,
        Ok(sys::H5T_STRING) => is_variable_str(tid).unwrap_or(false),
        Ok(sys::H5T_ARRAY) => super_type(tid).is_ok_and(|b| vlen_inside(b.id(), depth + 1)),
        Ok(sys::H5T_COMPOUND) => nmembers(tid).is_ok_and(|n| {
            (0..n).any(|i| member_type(tid, i).is_ok_and(|t| vlen_inside(t.id(), depth + 1)))
        }),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Dataset creation properties

fn set_layout(dcpl: hid_t, layout: &Value) -> Result<(), String> {
    let o = layout
        .as_object()
        .ok_or_else(|| format!("layout must be an object, got {}", show(layout)))?;
    let class = str_key(o, "class", "layout")?;
    let set = |l: sys::H5D_layout_t| {
        // SAFETY: plain HDF5 call on our property list.
        check(unsafe { sys::H5Pset_layout(dcpl, l) }, "set the layout")
    };
    match class {
        "H5D_CHUNKED" | "H5D_CHUNKED_REF" | "H5D_CHUNKED_REF_INDIRECT" => {
            let Some(dims) = o.get("dims") else {
                return set(sys::H5D_CHUNKED);
            };
            let dims = u64_list(dims, "chunk dims")?;
            if dims.is_empty() || dims.len() > sys::H5S_MAX_RANK as usize || dims.contains(&0) {
                return Err(format!("invalid chunk dims {dims:?}"));
            }
            // SAFETY: dims holds `rank` values.
            let r = unsafe { sys::H5Pset_chunk(dcpl, dims.len() as i32, dims.as_ptr()) };
            if r < 0 {
                return Err(format!("HDF5 rejected chunk dims {dims:?}"));
            }
            Ok(())
        }
        "H5D_CONTIGUOUS" | "H5D_CONTIGUOUS_REF" => set(sys::H5D_CONTIGUOUS),
        "H5D_COMPACT" => set(sys::H5D_COMPACT),
        _ => Ok(()),
    }
}

fn add_filter(dcpl: hid_t, f: &Value, tid: hid_t) -> Result<(), String> {
    let o = f
        .as_object()
        .ok_or_else(|| format!("filter must be an object, got {}", show(f)))?;
    let id = filter_id(o)?;
    if id == sys::H5Z_FILTER_NONE {
        return Ok(());
    }
    let cd: Vec<u32> = match id {
        sys::H5Z_FILTER_DEFLATE => vec![opt_u32(o, "level")?.unwrap_or(DEFAULT_GZIP)],
        sys::H5Z_FILTER_SZIP => {
            let coding = match o.get("coding") {
                None | Some(Value::Null) => sys::H5_SZIP_NN_OPTION_MASK,
                Some(Value::String(s)) if s == "H5_SZIP_NN_OPTION_MASK" => {
                    sys::H5_SZIP_NN_OPTION_MASK
                }
                Some(Value::String(s)) if s == "H5_SZIP_EC_OPTION_MASK" => {
                    sys::H5_SZIP_EC_OPTION_MASK
                }
                Some(v) => v
                    .as_u64()
                    .and_then(|m| u32::try_from(m).ok())
                    .ok_or_else(|| format!("invalid szip coding {}", show(v)))?,
            };
            let ppb = opt_u32(o, "pixelsPerBlock")?.unwrap_or(8);
            vec![coding | sys::H5_SZIP_ALLOW_K13_OPTION_MASK, ppb]
        }
        sys::H5Z_FILTER_SCALEOFFSET => {
            let scale_type = match o.get("scaleType") {
                None | Some(Value::Null) if type_class(tid)? == sys::H5T_FLOAT => {
                    sys::H5Z_SO_FLOAT_DSCALE
                }
                None | Some(Value::Null) => sys::H5Z_SO_INT,
                Some(v) => match v.as_u64() {
                    Some(n) => u32::try_from(n).map_err(|_| format!("invalid scaleType {n}"))?,
                    None => lookup(&SCALE_TYPES, v, "scaleType")?,
                },
            };
            vec![scale_type, opt_u32(o, "scaleOffset")?.unwrap_or(0)]
        }
        sys::H5Z_FILTER_SHUFFLE | sys::H5Z_FILTER_FLETCHER32 | sys::H5Z_FILTER_NBIT => vec![],
        _ => match o.get("parameters").or_else(|| o.get("cd_values")) {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| {
                    v.as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| format!("invalid parameter {} of filter {id}", show(v)))
                })
                .collect::<Result<_, _>>()?,
            // h5json's getFilterItem stores a single parameter bare.
            Some(v) => vec![
                v.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| format!("invalid parameters {} of filter {id}", show(v)))?,
            ],
        },
    };
    // The library's own setter for a filter it has (encoder included); any other filter
    // is recorded as optional, which HDF5 allows for filters it lacks.
    let usable = quietly(|| {
        let mut config = 0u32;
        // SAFETY: plain HDF5 calls; the out pointer is valid.
        unsafe {
            sys::H5Zfilter_avail(id as i32) > 0
                && sys::H5Zget_filter_info(id as i32, &mut config) >= 0
                && config & sys::H5Z_FILTER_CONFIG_ENCODE_ENABLED != 0
        }
    });
    let r = quietly(|| {
        // SAFETY: plain HDF5 calls on our property list; cd holds what each one reads.
        unsafe {
            match (usable, id) {
                (true, sys::H5Z_FILTER_DEFLATE) => sys::H5Pset_deflate(dcpl, cd[0]),
                // What HDF5's set_local leaves in a created dataset: the element size.
                (true, sys::H5Z_FILTER_SHUFFLE) => {
                    let size = [sys::H5Tget_size(tid) as u32];
                    sys::H5Pset_filter(dcpl, id as i32, sys::H5Z_FLAG_OPTIONAL, 1, size.as_ptr())
                }
                (true, sys::H5Z_FILTER_FLETCHER32) => sys::H5Pset_fletcher32(dcpl),
                (true, sys::H5Z_FILTER_SZIP) => sys::H5Pset_szip(dcpl, cd[0], cd[1]),
                (true, sys::H5Z_FILTER_NBIT) => sys::H5Pset_nbit(dcpl),
                (true, sys::H5Z_FILTER_SCALEOFFSET) => match i32::try_from(cd[1]) {
                    Ok(factor) => sys::H5Pset_scaleoffset(dcpl, cd[0], factor),
                    Err(_) => -1,
                },
                _ => sys::H5Pset_filter(
                    dcpl,
                    id as i32,
                    sys::H5Z_FLAG_OPTIONAL,
                    cd.len(),
                    cd.as_ptr(),
                ),
            }
        }
    });
    if r < 0 {
        return Err(format!("HDF5 refused filter {}", show(f)));
    }
    Ok(())
}

fn filter_id(o: &Map<String, Value>) -> Result<u32, String> {
    if let Some(v) = o.get("id").filter(|v| !v.is_null()) {
        return v
            .as_u64()
            .filter(|&id| id <= u64::from(sys::H5Z_FILTER_MAX))
            .map(|id| id as u32)
            .ok_or_else(|| format!("invalid filter id {}", show(v)));
    }
    if let Some(c) = o.get("class").and_then(Value::as_str)
        && let Some(f) = FILTERS.iter().find(|f| f.0 == c)
    {
        return Ok(f.1);
    }
    if let Some(n) = o.get("name").and_then(Value::as_str) {
        let n = if n == "deflate" || n == "zlib" {
            "gzip"
        } else {
            n
        };
        if let Some(f) = FILTERS.iter().find(|f| f.2 == n) {
            return Ok(f.1);
        }
    }
    Err(format!("filter without a known id: {}", show(&json!(o))))
}

fn filters_to_json(dcpl: hid_t) -> Result<Vec<Value>, String> {
    // SAFETY: plain HDF5 call.
    let n = unsafe { sys::H5Pget_nfilters(dcpl) };
    if n < 0 {
        return Err("HDF5 failed to count the filters".into());
    }
    let mut out = Vec::new();
    for i in 0..n as u32 {
        let mut flags = 0u32;
        let mut cd = [0u32; 32];
        let mut ncd = cd.len();
        let mut name: [c_char; 256] = [0; 256];
        let mut config = 0u32;
        // SAFETY: every out pointer is valid for the sizes passed.
        let id = unsafe {
            sys::H5Pget_filter2(
                dcpl,
                i,
                &mut flags,
                &mut ncd,
                cd.as_mut_ptr(),
                name.len(),
                name.as_mut_ptr(),
                &mut config,
            )
        };
        if id < 0 {
            return Err(format!("HDF5 failed to get filter {i}"));
        }
        let cd = &cd[..ncd.min(cd.len())];
        let id = id as u32;
        let mut f = Map::new();
        f.insert("id".into(), json!(id));
        match FILTERS.iter().find(|f| f.1 == id) {
            Some((class, _, fname)) => {
                f.insert("class".into(), json!(class));
                f.insert("name".into(), json!(fname));
            }
            None => {
                name[name.len() - 1] = 0;
                // SAFETY: name is NUL-terminated (its last byte was just zeroed).
                let hdf5_name = unsafe { CStr::from_ptr(name.as_ptr()) }.to_string_lossy();
                let fname = if hdf5_name.is_empty() {
                    format!("user filter {id}")
                } else {
                    hdf5_name.into_owned()
                };
                f.insert("class".into(), json!("H5Z_FILTER_USER"));
                f.insert("name".into(), json!(fname));
                if !cd.is_empty() {
                    f.insert("parameters".into(), json!(cd));
                }
            }
        }
        match id {
            sys::H5Z_FILTER_DEFLATE => {
                f.insert(
                    "level".into(),
                    json!(cd.first().copied().unwrap_or(DEFAULT_GZIP)),
                );
            }
            sys::H5Z_FILTER_SZIP => {
                if let Some(&mask) = cd.first() {
                    let coding = if mask & sys::H5_SZIP_NN_OPTION_MASK != 0 {
                        "H5_SZIP_NN_OPTION_MASK"
                    } else {
                        "H5_SZIP_EC_OPTION_MASK"
                    };
                    f.insert("coding".into(), json!(coding));
                }
                for (key, i) in [
                    ("pixelsPerBlock", 1),
                    ("bitsPerPixel", 2),
                    ("pixelsPerScanLine", 3),
                ] {
                    if let Some(v) = cd.get(i) {
                        f.insert(key.into(), json!(v));
                    }
                }
            }
            sys::H5Z_FILTER_SCALEOFFSET => {
                if let Some((name, _)) = cd
                    .first()
                    .and_then(|t| SCALE_TYPES.iter().find(|(_, v)| v == t))
                {
                    f.insert("scaleType".into(), json!(name));
                }
                if let Some(v) = cd.get(1) {
                    f.insert("scaleOffset".into(), json!(v));
                }
            }
            _ => {}
        }
        out.push(Value::Object(f));
    }
    Ok(out)
}

fn fill_value_json(dcpl: hid_t, tid: hid_t) -> Result<Value, String> {
    let node = describe(tid, 0)?;
    let mut buf = vec![0u8; node.mem];
    // SAFETY: buf holds one value of `tid`.
    let r = unsafe { sys::H5Pget_fill_value(dcpl, tid, buf.as_mut_ptr().cast()) };
    check(r, "get the fill value")?;
    let v = mem_to_json(&node, &buf);
    if node.vlen {
        // SAFETY: plain HDF5 call.
        let space = Hid::check(
            unsafe { sys::H5Screate(sys::H5S_SCALAR) },
            "create a scalar dataspace",
        )?;
        // SAFETY: buf holds one value of `tid` whose vlen parts HDF5 allocated.
        unsafe {
            sys::H5Treclaim(
                tid,
                space.id(),
                sys::H5P_DEFAULT as hid_t,
                buf.as_mut_ptr().cast(),
            );
        }
    }
    v
}

// ---------------------------------------------------------------------------------------
// Values: a type's memory layout, walked without HDF5 calls per element

/// One datatype's layout in memory and in HSDS's packed binary form.
struct Node {
    /// Bytes of one value in memory (`H5Tget_size`).
    mem: usize,
    /// Fewest bytes one value takes in HSDS binary.
    min_packed: usize,
    /// Bytes of one value in HSDS binary, when fixed.
    packed: Option<usize>,
    /// Memory and HSDS binary are the same bytes.
    flat: bool,
    /// Holds vlen data (pointers we allocate and free).
    vlen: bool,
    kind: Kind,
}

enum Kind {
    Int(IntFmt),
    /// A copy of the type, for conversions to and from `double`.
    Float(Hid),
    Str(sys::H5T_str_t),
    VStr,
    Opaque,
    Enum(IntFmt, Vec<(String, i128)>),
    Compound(Vec<Field>),
    Array(Vec<usize>, Box<Node>),
    Vlen(Box<Node>),
}

struct Field {
    name: String,
    offset: usize,
    node: Node,
}

impl Node {
    fn leaf(size: usize, kind: Kind) -> Node {
        Node {
            mem: size,
            min_packed: size,
            packed: Some(size),
            flat: true,
            vlen: false,
            kind,
        }
    }

    fn variable(mem: usize, kind: Kind) -> Node {
        Node {
            mem,
            min_packed: 4,
            packed: None,
            flat: false,
            vlen: true,
            kind,
        }
    }
}

fn describe(tid: hid_t, depth: usize) -> Result<Node, String> {
    if depth > MAX_DEPTH {
        return Err("HDF5 type nests too deeply".into());
    }
    let class = type_class(tid)?;
    let size = type_size(tid)?;
    Ok(match class {
        sys::H5T_INTEGER => Node::leaf(size, Kind::Int(IntFmt::of(tid)?)),
        sys::H5T_BITFIELD => Node::leaf(size, Kind::Int(IntFmt::bits(tid)?)),
        sys::H5T_FLOAT => Node::leaf(size, Kind::Float(copy_type(tid)?)),
        sys::H5T_STRING if is_variable_str(tid)? => {
            if size != PTR {
                return Err("vlen string type is not in memory layout".into());
            }
            Node::variable(PTR, Kind::VStr)
        }
        sys::H5T_STRING => {
            // SAFETY: tid is a valid string type.
            let pad = unsafe { sys::H5Tget_strpad(tid) };
            Node::leaf(size, Kind::Str(pad))
        }
        sys::H5T_OPAQUE => Node::leaf(size, Kind::Opaque),
        sys::H5T_ENUM => {
            let base = super_type(tid)?;
            let fmt = IntFmt::of(base.id())?;
            let mut members = Vec::new();
            let mut buf = vec![0u8; fmt.size];
            for i in 0..nmembers(tid)? {
                // SAFETY: buf holds one value of the enum's base type.
                let r = unsafe { sys::H5Tget_member_value(tid, i, buf.as_mut_ptr().cast()) };
                check(r, "get an enum member value")?;
                members.push((member_name(tid, i)?, fmt.read(&buf)));
            }
            Node::leaf(size, Kind::Enum(fmt, members))
        }
        sys::H5T_COMPOUND => {
            let mut fields = Vec::new();
            let (mut packed, mut min_packed) = (Some(0usize), 0usize);
            let (mut flat, mut vlen) = (true, false);
            for i in 0..nmembers(tid)? {
                let t = member_type(tid, i)?;
                let node = describe(t.id(), depth + 1)?;
                // SAFETY: i is a valid member index.
                let offset = unsafe { sys::H5Tget_member_offset(tid, i) };
                if offset.checked_add(node.mem).is_none_or(|end| end > size) {
                    return Err("compound field outside its type".into());
                }
                flat &= node.flat && packed == Some(offset);
                vlen |= node.vlen;
                packed = packed.zip(node.packed).and_then(|(a, b)| a.checked_add(b));
                min_packed = min_packed.saturating_add(node.min_packed);
                fields.push(Field {
                    name: member_name(tid, i)?,
                    offset,
                    node,
                });
            }
            flat &= packed == Some(size);
            Node {
                mem: size,
                min_packed,
                packed,
                flat,
                vlen,
                kind: Kind::Compound(fields),
            }
        }
        sys::H5T_ARRAY => {
            let dims = array_dims(tid)?;
            let count = dims
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .ok_or("array type too large")?;
            let base = describe(super_type(tid)?.id(), depth + 1)?;
            if count.checked_mul(base.mem) != Some(size) {
                return Err("array type size does not match its base".into());
            }
            Node {
                mem: size,
                min_packed: count.saturating_mul(base.min_packed),
                packed: base.packed.and_then(|p| p.checked_mul(count)),
                flat: base.flat,
                vlen: base.vlen,
                kind: Kind::Array(dims, Box::new(base)),
            }
        }
        sys::H5T_VLEN => {
            if size != HVL {
                return Err("vlen type is not in memory layout".into());
            }
            let base = describe(super_type(tid)?.id(), depth + 1)?;
            Node::variable(HVL, Kind::Vlen(Box::new(base)))
        }
        sys::H5T_REFERENCE => {
            return Err(
                "object references inside compound, array or variable-length types are not \
                 supported"
                    .into(),
            );
        }
        other => return Err(format!("unsupported HDF5 type class {}", class_name(other))),
    })
}

/// Reads one value of `node` from HSDS binary at `*pos` into `dst` (one value in memory).
fn read_value(node: &Node, src: &[u8], pos: &mut usize, dst: &mut [u8]) -> Result<(), String> {
    if node.flat {
        dst.copy_from_slice(take(src, pos, node.mem)?);
        return Ok(());
    }
    match &node.kind {
        Kind::Compound(fields) => {
            for f in fields {
                let d = &mut dst[f.offset..f.offset + f.node.mem];
                read_value(&f.node, src, pos, d)?;
            }
        }
        Kind::Array(_, base) => {
            for d in dst.chunks_exact_mut(base.mem) {
                read_value(base, src, pos, d)?;
            }
        }
        Kind::VStr => {
            let count = take_count(src, pos)?;
            let body = take(src, pos, count)?;
            let p = alloc(count + 1)?;
            // SAFETY: p has room for count + 1 bytes; body holds count bytes.
            unsafe {
                ptr::copy_nonoverlapping(body.as_ptr(), p, count);
                *p.add(count) = 0;
            }
            put_usize(dst, 0, p as usize);
        }
        Kind::Vlen(base) => {
            let count = take_count(src, pos)?;
            let body = take(src, pos, count)?;
            let items = read_sequence(base, body)?;
            let len = items.len() / base.mem;
            let p = if items.is_empty() {
                ptr::null_mut()
            } else {
                let p = alloc(items.len());
                let Ok(p) = p else {
                    let mut items = items;
                    free_values(base, &mut items);
                    return Err("out of memory for vlen data".into());
                };
                // SAFETY: p has room for items.len() bytes.
                unsafe { ptr::copy_nonoverlapping(items.as_ptr(), p, items.len()) };
                p
            };
            put_usize(dst, 0, len);
            put_usize(dst, PTR, p as usize);
        }
        // Fixed-size leaves are always flat.
        _ => dst.copy_from_slice(take(src, pos, node.mem)?),
    }
    Ok(())
}

/// The elements of one vlen sequence (HSDS binary `body`) in memory layout.
fn read_sequence(base: &Node, body: &[u8]) -> Result<Vec<u8>, String> {
    let mut items = Vec::new();
    let mut pos = 0;
    if let Some(size) = base.packed {
        if body.len() % size != 0 {
            return Err(format!(
                "vlen data of {} bytes is not a whole number of {size}-byte values",
                body.len()
            ));
        }
        items.resize(body.len() / size * base.mem, 0);
        if base.flat {
            items.copy_from_slice(body);
            return Ok(items);
        }
        for d in items.chunks_exact_mut(base.mem) {
            if let Err(e) = read_value(base, body, &mut pos, d) {
                free_values(base, &mut items);
                return Err(e);
            }
        }
        return Ok(items);
    }
    // Records of variable size: read until the byte count is used up.
    while pos < body.len() {
        let start = items.len();
        items.resize(start + base.mem, 0);
        let before = pos;
        let r = read_value(base, body, &mut pos, &mut items[start..]);
        if r.is_err() || pos == before {
            free_values(base, &mut items);
            return Err(r.err().unwrap_or_else(|| "empty vlen record".into()));
        }
    }
    Ok(items)
}

/// Appends one value of `node` (memory layout in `src`) to `out` in HSDS binary.
fn write_value(node: &Node, src: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    if node.flat {
        out.extend_from_slice(&src[..node.mem]);
        return Ok(());
    }
    match &node.kind {
        Kind::Compound(fields) => {
            for f in fields {
                write_value(&f.node, &src[f.offset..f.offset + f.node.mem], out)?;
            }
        }
        Kind::Array(_, base) => {
            for s in src.chunks_exact(base.mem) {
                write_value(base, s, out)?;
            }
        }
        Kind::VStr => {
            let p = get_usize(src, 0) as *const c_char;
            let bytes: &[u8] = if p.is_null() {
                &[]
            } else {
                // SAFETY: per `encode`'s contract a non-NULL char* is a NUL-terminated string.
                unsafe { CStr::from_ptr(p) }.to_bytes()
            };
            put_count(out, bytes.len())?;
            out.extend_from_slice(bytes);
        }
        Kind::Vlen(base) => {
            let len = get_usize(src, 0);
            let p = get_usize(src, PTR) as *const u8;
            let at = out.len();
            out.extend_from_slice(&[0; 4]);
            if len > 0 {
                if p.is_null() {
                    return Err(format!("vlen value of {len} elements has no data"));
                }
                let bytes = len
                    .checked_mul(base.mem)
                    .filter(|&b| b <= isize::MAX as usize)
                    .ok_or_else(|| format!("vlen value of {len} elements is too large"))?;
                // SAFETY: per `encode`'s contract p points to `len` values of the base type.
                let items = unsafe { std::slice::from_raw_parts(p, bytes) };
                for s in items.chunks_exact(base.mem) {
                    write_value(base, s, out)?;
                }
            }
            let count = out.len() - at - 4;
            let count = i32::try_from(count)
                .map_err(|_| format!("vlen value of {count} bytes is too large for HSDS"))?;
            out[at..at + 4].copy_from_slice(&count.to_le_bytes());
        }
        _ => out.extend_from_slice(&src[..node.mem]),
    }
    Ok(())
}

/// Frees the vlen data of the values of `node` in `buf`, leaving NULL pointers behind.
fn free_values(node: &Node, buf: &mut [u8]) {
    if !node.vlen {
        return;
    }
    for v in buf.chunks_exact_mut(node.mem) {
        match &node.kind {
            Kind::VStr => {
                let p = get_usize(v, 0);
                // SAFETY: non-NULL pointers in our buffers came from libc::malloc.
                unsafe { libc::free(p as *mut c_void) };
                put_usize(v, 0, 0);
            }
            Kind::Vlen(base) => {
                let (len, p) = (get_usize(v, 0), get_usize(v, PTR) as *mut u8);
                if !p.is_null() {
                    if base.vlen {
                        // SAFETY: p holds `len` values of the base type, allocated by us.
                        let items = unsafe { std::slice::from_raw_parts_mut(p, len * base.mem) };
                        free_values(base, items);
                    }
                    // SAFETY: p came from libc::malloc.
                    unsafe { libc::free(p.cast()) };
                }
                put_usize(v, 0, 0);
                put_usize(v, PTR, 0);
            }
            Kind::Compound(fields) => {
                for f in fields {
                    free_values(&f.node, &mut v[f.offset..f.offset + f.node.mem]);
                }
            }
            Kind::Array(_, base) => free_values(base, v),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// Values: JSON

/// Whether `v` reads as one value of `node` (its shape, not its range).
fn fits(node: &Node, v: &Value) -> bool {
    match (&node.kind, v) {
        (_, Value::Null) => true,
        (Kind::Int(_), Value::Number(_) | Value::Bool(_)) => true,
        (Kind::Float(_) | Kind::Enum(..), Value::Number(_) | Value::Bool(_) | Value::String(_)) => {
            true
        }
        (Kind::Str(_) | Kind::VStr | Kind::Opaque, Value::String(_)) => true,
        (Kind::Compound(_), Value::Object(_)) => true,
        (Kind::Compound(fields), Value::Array(list)) => {
            list.len() == fields.len() && fields.iter().zip(list).all(|(f, x)| fits(&f.node, x))
        }
        (Kind::Array(dims, base), _) => {
            let mut items = Vec::new();
            gather(base, v, &mut items).is_ok() && items.len() == dims.iter().product::<usize>()
        }
        (Kind::Vlen(base), Value::Array(list)) => list.iter().all(|x| fits(base, x)),
        _ => false,
    }
}

/// Flattens nested lists in `v` down to values of `node`.
fn gather<'a>(node: &Node, v: &'a Value, out: &mut Vec<&'a Value>) -> Result<(), String> {
    if fits(node, v) {
        out.push(v);
        return Ok(());
    }
    match v {
        Value::Array(list) => list.iter().try_for_each(|x| gather(node, x, out)),
        _ => Err(format!("JSON value {} does not match the type", show(v))),
    }
}

/// Writes one value of `node` from JSON into `dst` (zeroed, one value in memory).
fn value_from_json(node: &Node, v: &Value, dst: &mut [u8]) -> Result<(), String> {
    if v.is_null() {
        return Ok(());
    }
    match &node.kind {
        Kind::Int(fmt) => fmt.write(json_int(v)?, dst),
        Kind::Float(t) => {
            let x = json_f64(v)?;
            let mut buf = vec![0u8; node.mem.max(8)];
            buf[..8].copy_from_slice(&x.to_ne_bytes());
            // SAFETY: buf holds one double and has room for one value of the type.
            let r = unsafe {
                sys::H5Tconvert(
                    sys::H5T_NATIVE_DOUBLE_g,
                    t.id(),
                    1,
                    buf.as_mut_ptr().cast(),
                    ptr::null_mut(),
                    sys::H5P_DEFAULT as hid_t,
                )
            };
            check(r, "convert a number")?;
            dst.copy_from_slice(&buf[..node.mem]);
            Ok(())
        }
        Kind::Enum(fmt, members) => {
            let value = match v {
                Value::String(s) => members
                    .iter()
                    .find(|(name, _)| name == s)
                    .map(|(_, value)| *value)
                    .ok_or_else(|| format!("{s:?} is not a member of the enum"))?,
                _ => json_int(v)?,
            };
            fmt.write(value, dst)
        }
        Kind::Str(pad) => {
            let s = v
                .as_str()
                .ok_or_else(|| format!("expected a string, got {}", show(v)))?;
            let n = s.len().min(dst.len());
            dst[..n].copy_from_slice(&s.as_bytes()[..n]);
            if *pad == sys::H5T_STR_SPACEPAD {
                dst[n..].fill(b' ');
            }
            Ok(())
        }
        Kind::VStr => {
            let s = v
                .as_str()
                .ok_or_else(|| format!("expected a string, got {}", show(v)))?;
            let p = alloc(s.len() + 1)?;
            // SAFETY: p has room for the string and its NUL.
            unsafe {
                ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
                *p.add(s.len()) = 0;
            }
            put_usize(dst, 0, p as usize);
            Ok(())
        }
        Kind::Opaque => {
            let s = v
                .as_str()
                .ok_or_else(|| format!("expected a base64 string, got {}", show(v)))?;
            let bytes = base64_decode(s)?;
            if bytes.len() > dst.len() {
                return Err(format!(
                    "opaque value of {} bytes is larger than its type ({} bytes)",
                    bytes.len(),
                    dst.len()
                ));
            }
            dst[..bytes.len()].copy_from_slice(&bytes);
            Ok(())
        }
        Kind::Compound(fields) => {
            for (i, f) in fields.iter().enumerate() {
                let x = match v {
                    Value::Array(list) => list.get(i),
                    Value::Object(o) => o.get(&f.name),
                    _ => return Err(format!("expected a compound value, got {}", show(v))),
                };
                if let Some(x) = x {
                    let d = &mut dst[f.offset..f.offset + f.node.mem];
                    value_from_json(&f.node, x, d)
                        .map_err(|e| format!("compound field {:?}: {e}", f.name))?;
                }
            }
            Ok(())
        }
        Kind::Array(_, base) => {
            let mut items = Vec::new();
            gather(base, v, &mut items)?;
            let count = dst.len() / base.mem;
            if items.len() != count {
                return Err(format!(
                    "array value {} does not hold {count} elements",
                    show(v)
                ));
            }
            for (x, d) in items.iter().zip(dst.chunks_exact_mut(base.mem)) {
                value_from_json(base, x, d)?;
            }
            Ok(())
        }
        Kind::Vlen(base) => {
            let list = v
                .as_array()
                .ok_or_else(|| format!("expected a list, got {}", show(v)))?;
            if list.is_empty() {
                return Ok(());
            }
            let mut items = vec![0u8; list.len() * base.mem];
            for (x, d) in list.iter().zip(items.chunks_exact_mut(base.mem)) {
                if let Err(e) = value_from_json(base, x, d) {
                    free_values(base, &mut items);
                    return Err(e);
                }
            }
            let p = match alloc(items.len()) {
                Ok(p) => p,
                Err(e) => {
                    free_values(base, &mut items);
                    return Err(e);
                }
            };
            // SAFETY: p has room for items.len() bytes.
            unsafe { ptr::copy_nonoverlapping(items.as_ptr(), p, items.len()) };
            put_usize(dst, 0, list.len());
            put_usize(dst, PTR, p as usize);
            Ok(())
        }
    }
}

/// One value of `node` in memory as h5json's JSON (`bytesArrayToList`).
fn mem_to_json(node: &Node, src: &[u8]) -> Result<Value, String> {
    Ok(match &node.kind {
        Kind::Int(fmt) | Kind::Enum(fmt, _) => int_json(fmt.read(src)),
        Kind::Float(t) => {
            let mut buf = vec![0u8; node.mem.max(8)];
            buf[..node.mem].copy_from_slice(src);
            // SAFETY: buf holds one value of the type and has room for one double.
            let r = unsafe {
                sys::H5Tconvert(
                    t.id(),
                    sys::H5T_NATIVE_DOUBLE_g,
                    1,
                    buf.as_mut_ptr().cast(),
                    ptr::null_mut(),
                    sys::H5P_DEFAULT as hid_t,
                )
            };
            check(r, "convert a number")?;
            let mut d = [0u8; 8];
            d.copy_from_slice(&buf[..8]);
            let x = f64::from_ne_bytes(d);
            match Number::from_f64(x) {
                Some(n) => Value::Number(n),
                None if x.is_nan() => json!("nan"),
                None if x > 0.0 => json!("inf"),
                None => json!("-inf"),
            }
        }
        Kind::Str(pad) => {
            let end = if *pad == sys::H5T_STR_NULLTERM {
                src.iter().position(|&b| b == 0).unwrap_or(src.len())
            } else {
                let padding = if *pad == sys::H5T_STR_SPACEPAD {
                    b' '
                } else {
                    0
                };
                src.iter().rposition(|&b| b != padding).map_or(0, |i| i + 1)
            };
            json!(String::from_utf8_lossy(&src[..end]))
        }
        Kind::VStr => {
            let p = get_usize(src, 0) as *const c_char;
            if p.is_null() {
                json!("")
            } else {
                // SAFETY: a non-NULL char* in a value HDF5 gave us is a NUL-terminated string.
                json!(unsafe { CStr::from_ptr(p) }.to_string_lossy())
            }
        }
        Kind::Opaque => {
            if src.iter().all(|&b| b == 0) {
                json!("")
            } else {
                json!(base64_encode(src))
            }
        }
        Kind::Compound(fields) => Value::Array(
            fields
                .iter()
                .map(|f| mem_to_json(&f.node, &src[f.offset..f.offset + f.node.mem]))
                .collect::<Result<_, _>>()?,
        ),
        Kind::Array(dims, base) => {
            let items = src
                .chunks_exact(base.mem)
                .map(|s| mem_to_json(base, s))
                .collect::<Result<Vec<_>, _>>()?;
            nest(items, dims)
        }
        Kind::Vlen(base) => {
            let (len, p) = (get_usize(src, 0), get_usize(src, PTR) as *const u8);
            if len == 0 || p.is_null() {
                json!([])
            } else {
                // SAFETY: a vlen value HDF5 gave us points to `len` values of its base type.
                let items = unsafe { std::slice::from_raw_parts(p, len * base.mem) };
                Value::Array(
                    items
                        .chunks_exact(base.mem)
                        .map(|s| mem_to_json(base, s))
                        .collect::<Result<_, _>>()?,
                )
            }
        }
    })
}

/// A flat list as nested lists of `dims`.
fn nest(items: Vec<Value>, dims: &[usize]) -> Value {
    if dims.len() <= 1 {
        return Value::Array(items);
    }
    let inner = dims[1..].iter().product::<usize>().max(1);
    Value::Array(
        items
            .chunks(inner)
            .map(|c| nest(c.to_vec(), &dims[1..]))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------
// Integers

/// An integer type's size, signedness and byte order.
#[derive(Clone, Copy)]
struct IntFmt {
    size: usize,
    signed: bool,
    be: bool,
}

impl IntFmt {
    fn of(tid: hid_t) -> Result<IntFmt, String> {
        let mut fmt = IntFmt::bits(tid)?;
        // SAFETY: plain HDF5 call on a valid integer type.
        fmt.signed = match unsafe { sys::H5Tget_sign(tid) } {
            sys::H5T_SGN_2 => true,
            sys::H5T_SGN_NONE => false,
            _ => return Err("HDF5 failed to get an integer's sign".into()),
        };
        Ok(fmt)
    }

    /// An unsigned integer of the type's size and order (bitfields, and the base of `of`).
    fn bits(tid: hid_t) -> Result<IntFmt, String> {
        let size = type_size(tid)?;
        if size > 8 {
            return Err(format!("unsupported integer size {size} bytes"));
        }
        Ok(IntFmt {
            size,
            signed: false,
            be: order_name(tid)? == "BE",
        })
    }

    fn name(&self) -> Result<String, String> {
        if ![1, 2, 4, 8].contains(&self.size) {
            return Err(format!("unsupported integer size {} bytes", self.size));
        }
        Ok(format!(
            "H5T_STD_{}{}{}",
            if self.signed { "I" } else { "U" },
            self.size * 8,
            if self.be { "BE" } else { "LE" }
        ))
    }

    fn range(&self) -> (i128, i128) {
        let bits = self.size as u32 * 8;
        if self.signed {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        } else {
            (0, (1i128 << bits) - 1)
        }
    }

    fn write(&self, v: i128, dst: &mut [u8]) -> Result<(), String> {
        let (lo, hi) = self.range();
        if v < lo || v > hi {
            return Err(format!(
                "{v} does not fit a {}-byte {} integer",
                self.size,
                if self.signed { "signed" } else { "unsigned" }
            ));
        }
        let d = &mut dst[..self.size];
        d.copy_from_slice(&v.to_le_bytes()[..self.size]);
        if self.be {
            d.reverse();
        }
        Ok(())
    }

    fn read(&self, src: &[u8]) -> i128 {
        let mut b = [0u8; 16];
        b[..self.size].copy_from_slice(&src[..self.size]);
        if self.be {
            b[..self.size].reverse();
        }
        if self.signed && self.size > 0 && b[self.size - 1] & 0x80 != 0 {
            b[self.size..].fill(0xff);
        }
        i128::from_le_bytes(b)
    }
}

fn int_json(v: i128) -> Value {
    if let Ok(i) = i64::try_from(v) {
        json!(i)
    } else if let Ok(u) = u64::try_from(v) {
        json!(u)
    } else {
        json!(v as f64)
    }
}

fn json_int(v: &Value) -> Result<i128, String> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i.into())
            } else if let Some(u) = n.as_u64() {
                Ok(u.into())
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 1e30 => Ok(f as i128),
                    _ => Err(format!("expected an integer, got {n}")),
                }
            }
        }
        Value::Bool(b) => Ok(i128::from(*b)),
        _ => Err(format!("expected an integer, got {}", show(v))),
    }
}

fn json_f64(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("expected a number, got {n}")),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "nan" => Ok(f64::NAN),
            "inf" | "+inf" | "infinity" | "+infinity" => Ok(f64::INFINITY),
            "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
            t => t
                .parse()
                .map_err(|_| format!("expected a number, got {s:?}")),
        },
        _ => Err(format!("expected a number, got {}", show(v))),
    }
}

// ---------------------------------------------------------------------------------------
// Small helpers

fn open() {
    // SAFETY: H5open is idempotent; it sets the predefined type and class globals we read.
    unsafe {
        sys::H5open();
    }
}

fn check(r: sys::herr_t, what: &str) -> Result<(), String> {
    if r < 0 {
        Err(format!("HDF5 failed to {what}"))
    } else {
        Ok(())
    }
}

fn copy_type(tid: hid_t) -> Result<Hid, String> {
    // SAFETY: plain HDF5 call; fails cleanly on an invalid id.
    Hid::check(unsafe { sys::H5Tcopy(tid) }, "copy a datatype")
}

fn type_class(tid: hid_t) -> Result<sys::H5T_class_t, String> {
    // SAFETY: plain HDF5 call; fails cleanly on an invalid id.
    let c = unsafe { sys::H5Tget_class(tid) };
    if c < 0 {
        return Err("invalid datatype".into());
    }
    Ok(c)
}

fn type_size(tid: hid_t) -> Result<usize, String> {
    // SAFETY: plain HDF5 call; fails cleanly (0) on an invalid id.
    match unsafe { sys::H5Tget_size(tid) } {
        0 => Err("HDF5 failed to get a datatype's size".into()),
        s => Ok(s),
    }
}

fn is_variable_str(tid: hid_t) -> Result<bool, String> {
    // SAFETY: plain HDF5 call; fails cleanly on an invalid id.
    match unsafe { sys::H5Tis_variable_str(tid) } {
        r if r < 0 => Err("HDF5 failed to inspect a string type".into()),
        r => Ok(r > 0),
    }
}

fn super_type(tid: hid_t) -> Result<Hid, String> {
    // SAFETY: plain HDF5 call; fails cleanly on types without a base.
    Hid::check(unsafe { sys::H5Tget_super(tid) }, "get a base type")
}

fn nmembers(tid: hid_t) -> Result<u32, String> {
    // SAFETY: plain HDF5 call; fails cleanly on an invalid id.
    let n = unsafe { sys::H5Tget_nmembers(tid) };
    u32::try_from(n).map_err(|_| "HDF5 failed to count a type's members".to_string())
}

fn member_type(tid: hid_t, i: u32) -> Result<Hid, String> {
    // SAFETY: plain HDF5 call; fails cleanly on a bad index.
    Hid::check(
        unsafe { sys::H5Tget_member_type(tid, i) },
        "get a compound field type",
    )
}

fn member_name(tid: hid_t, i: u32) -> Result<String, String> {
    // SAFETY: plain HDF5 call; HDF5 allocates the name (or returns NULL).
    let p = unsafe { sys::H5Tget_member_name(tid, i) };
    if p.is_null() {
        return Err("HDF5 failed to get a member name".into());
    }
    // SAFETY: p is a NUL-terminated string HDF5 allocated for us; freed once.
    unsafe {
        let s = CStr::from_ptr(p).to_string_lossy().into_owned();
        sys::H5free_memory(p.cast());
        Ok(s)
    }
}

fn array_dims(tid: hid_t) -> Result<Vec<usize>, String> {
    // SAFETY: plain HDF5 call.
    let rank = unsafe { sys::H5Tget_array_ndims(tid) };
    let rank = usize::try_from(rank)
        .ok()
        .filter(|&r| r <= sys::H5S_MAX_RANK as usize)
        .ok_or("HDF5 failed to get array dims")?;
    let mut dims = vec![0u64; rank];
    // SAFETY: dims has room for `rank` values.
    check(
        unsafe { sys::H5Tget_array_dims2(tid, dims.as_mut_ptr()) },
        "get array dims",
    )?;
    dims.into_iter()
        .map(|d| usize::try_from(d).map_err(|_| "array dims too large".to_string()))
        .collect()
}

/// A simple dataspace's current and maximum dims.
fn extent(sid: hid_t) -> Result<(Vec<u64>, Vec<u64>), String> {
    // SAFETY: plain HDF5 call.
    let rank = unsafe { sys::H5Sget_simple_extent_ndims(sid) };
    let rank = usize::try_from(rank).map_err(|_| "invalid dataspace".to_string())?;
    let (mut dims, mut max) = (vec![0u64; rank], vec![0u64; rank]);
    // SAFETY: both buffers have room for `rank` values.
    let r = unsafe { sys::H5Sget_simple_extent_dims(sid, dims.as_mut_ptr(), max.as_mut_ptr()) };
    if r < 0 {
        return Err("HDF5 failed to get dataspace dims".into());
    }
    Ok((dims, max))
}

fn str_key<'a>(o: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a str, String> {
    match o.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(format!(
            "{what} \"{key}\" must be a string, got {}",
            show(v)
        )),
        None => Err(format!("{what} without \"{key}\"")),
    }
}

fn opt_str<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<Option<&'a str>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => str_key(o, key, what).map(Some),
    }
}

fn opt_u32(o: &Map<String, Value>, key: &str) -> Result<Option<u32>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "filter option \"{key}\" must be a small integer, got {}",
                    show(v)
                )
            }),
    }
}

fn positive(v: &Value, what: &str) -> Result<usize, String> {
    v.as_u64()
        .filter(|&n| n > 0)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("{what} must be a positive integer, got {}", show(v)))
}

/// A list of non-negative integers (or one integer).
fn u64_list(v: &Value, what: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("{what} must be a list of integers, got {}", show(v));
    match v {
        Value::Number(n) => Ok(vec![n.as_u64().ok_or_else(bad)?]),
        Value::Array(list) => list.iter().map(|x| x.as_u64().ok_or_else(bad)).collect(),
        _ => Err(bad()),
    }
}

fn maxdims_list(v: &Value, rank: usize) -> Result<Vec<u64>, String> {
    let bad = || format!("invalid shape maxdims {}", show(v));
    let one = |x: &Value| -> Result<u64, String> {
        match x {
            Value::String(s) if s == "H5S_UNLIMITED" => Ok(H5S_UNLIMITED),
            _ => match x.as_u64().ok_or_else(bad)? {
                0 => Ok(H5S_UNLIMITED),
                m => Ok(m),
            },
        }
    };
    let max = match v {
        Value::Array(list) => list.iter().map(one).collect::<Result<Vec<_>, _>>()?,
        _ => vec![one(v)?],
    };
    if max.len() != rank {
        return Err(format!(
            "shape maxdims {} do not match {rank} dims",
            show(v)
        ));
    }
    Ok(max)
}

fn lookup<T: Copy>(table: &[(&str, T)], v: &Value, what: &str) -> Result<T, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("{what} must be a string, got {}", show(v)))?;
    table
        .iter()
        .find(|(name, _)| *name == s)
        .map(|(_, t)| *t)
        .ok_or_else(|| format!("unsupported {what} {s:?}"))
}

fn name_of<T: PartialEq>(table: &[(&'static str, T)], v: T) -> Option<&'static str> {
    table.iter().find(|(_, t)| *t == v).map(|(name, _)| *name)
}

fn cstring(s: &str, what: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{what} {s:?} contains a NUL byte"))
}

/// A JSON value for an error message, cut short.
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

fn take<'a>(src: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], String> {
    let rest = src.len() - *pos;
    if n > rest {
        return Err(format!(
            "HSDS data truncated: {n} bytes needed at offset {}, {rest} left",
            *pos
        ));
    }
    let s = &src[*pos..*pos + n];
    *pos += n;
    Ok(s)
}

/// A vlen item's 4-byte little-endian byte count (h5json reads it as a signed int).
fn take_count(src: &[u8], pos: &mut usize) -> Result<usize, String> {
    let b = take(src, pos, 4)?;
    let count = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    usize::try_from(count).map_err(|_| format!("negative vlen byte count {count}"))
}

fn put_count(out: &mut Vec<u8>, n: usize) -> Result<(), String> {
    let n =
        i32::try_from(n).map_err(|_| format!("vlen value of {n} bytes is too large for HSDS"))?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

fn get_usize(b: &[u8], at: usize) -> usize {
    let mut a = [0u8; PTR];
    a.copy_from_slice(&b[at..at + PTR]);
    usize::from_ne_bytes(a)
}

fn put_usize(b: &mut [u8], at: usize, v: usize) {
    b[at..at + PTR].copy_from_slice(&v.to_ne_bytes());
}

fn alloc(n: usize) -> Result<*mut u8, String> {
    // SAFETY: plain allocation; checked for NULL below.
    let p = unsafe { libc::malloc(n.max(1)) }.cast::<u8>();
    if p.is_null() {
        return Err(format!("out of memory allocating {n} bytes"));
    }
    Ok(p)
}

pub(crate) use crate::base64::{decode as base64_decode, encode as base64_encode};

#[cfg(test)]
mod tests {
    use super::*;

    /// HDF5 here is built without thread safety: one test at a time calls it.
    static HDF5: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn init() -> std::sync::MutexGuard<'static, ()> {
        let guard = HDF5.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: H5open is idempotent.
        unsafe {
            sys::H5open();
        }
        guard
    }

    fn no_refs(id: &str) -> Result<Value, String> {
        Err(format!("no committed type {id}"))
    }

    fn t(v: Value) -> Hid {
        match type_from_json(&v, &no_refs) {
            Ok(t) => t,
            Err(e) => panic!("{v}: {e}"),
        }
    }

    fn equal(a: hid_t, b: hid_t) -> bool {
        // SAFETY: plain HDF5 call on valid types.
        unsafe { sys::H5Tequal(a, b) > 0 }
    }

    /// Frees the vlen data of n values of `tid` in `buf` through HDF5.
    fn reclaim(tid: hid_t, n: usize, buf: &mut [u8]) {
        let dims = [n as u64];
        // SAFETY: plain HDF5 calls; buf holds n values of tid.
        unsafe {
            let space = Hid::new(sys::H5Screate_simple(1, dims.as_ptr(), ptr::null())).unwrap();
            let r = sys::H5Treclaim(
                tid,
                space.id(),
                sys::H5P_DEFAULT as hid_t,
                buf.as_mut_ptr().cast(),
            );
            assert!(r >= 0);
        }
    }

    fn vstr_at(buf: &[u8], at: usize) -> String {
        let p = get_usize(buf, at) as *const c_char;
        assert!(!p.is_null());
        // SAFETY: decode wrote a NUL-terminated string here.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
    }

    fn vstr() -> Value {
        json!({"class": "H5T_STRING", "charSet": "H5T_CSET_UTF8", "length": "H5T_VARIABLE", "strPad": "H5T_STR_NULLTERM"})
    }

    fn int(base: &str) -> Value {
        json!({"class": "H5T_INTEGER", "base": base})
    }

    fn counted(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in parts {
            out.extend_from_slice(&(p.len() as u32).to_le_bytes());
            out.extend_from_slice(p);
        }
        out
    }

    #[test]
    fn every_class_round_trips() {
        let _h5 = init();
        let types = [
            int("H5T_STD_I8LE"),
            int("H5T_STD_U16BE"),
            int("H5T_STD_I32LE"),
            int("H5T_STD_U64LE"),
            int("H5T_STD_I64BE"),
            json!({"class": "H5T_FLOAT", "base": "H5T_IEEE_F16LE"}),
            json!({"class": "H5T_FLOAT", "base": "H5T_IEEE_F32BE"}),
            json!({"class": "H5T_FLOAT", "base": "H5T_IEEE_F64LE"}),
            json!({"class": "H5T_STRING", "charSet": "H5T_CSET_ASCII", "length": 7, "strPad": "H5T_STR_NULLPAD"}),
            json!({"class": "H5T_STRING", "charSet": "H5T_CSET_UTF8", "length": 3, "strPad": "H5T_STR_SPACEPAD"}),
            json!({"class": "H5T_STRING", "charSet": "H5T_CSET_ASCII", "length": 5, "strPad": "H5T_STR_NULLTERM"}),
            vstr(),
            json!({"class": "H5T_COMPOUND", "fields": [
                {"name": "a", "type": int("H5T_STD_I8LE")},
                {"name": "b", "type": {"class": "H5T_FLOAT", "base": "H5T_IEEE_F64LE"}},
                {"name": "s", "type": vstr()},
                {"name": "nested", "type": {"class": "H5T_COMPOUND", "fields": [
                    {"name": "x", "type": int("H5T_STD_U32BE")}]}}]}),
            json!({"class": "H5T_ARRAY", "base": int("H5T_STD_I16LE"), "dims": [2, 3]}),
            json!({"class": "H5T_ENUM", "base": int("H5T_STD_I8LE"),
                   "members": [{"name": "FALSE", "value": 0}, {"name": "TRUE", "value": 1}]}),
            json!({"class": "H5T_ENUM", "base": int("H5T_STD_U16BE"),
                   "members": [{"name": "B", "value": 7}, {"name": "A", "value": 2}]}),
            json!({"class": "H5T_VLEN", "base": int("H5T_STD_I32LE"), "size": "H5T_VARIABLE"}),
            json!({"class": "H5T_VLEN", "size": "H5T_VARIABLE", "base": {"class": "H5T_COMPOUND", "fields": [
                {"name": "n", "type": vstr()}]}}),
            json!({"class": "H5T_OPAQUE", "size": 6, "tag": "blob"}),
            json!({"class": "H5T_OPAQUE", "size": 2}),
        ];
        for v in types {
            let tid = t(v.clone());
            assert_eq!(type_to_json(tid.id()).unwrap(), v);
        }
    }

    #[test]
    fn json_forms_normalise() {
        let _h5 = init();
        // "mapping" (a JSON object) inserts in ascending value order; "members" on output.
        let e = t(
            json!({"class": "H5T_ENUM", "base": int("H5T_STD_I8LE"), "mapping": {"TRUE": 1, "FALSE": 0}}),
        );
        assert_eq!(
            type_to_json(e.id()).unwrap(),
            json!({"class": "H5T_ENUM", "base": int("H5T_STD_I8LE"),
                   "members": [{"name": "FALSE", "value": 0}, {"name": "TRUE", "value": 1}]})
        );
        // Defaults: ASCII; NULLTERM for variable strings, NULLPAD for fixed ones.
        let s = t(json!({"class": "H5T_STRING", "length": 4}));
        assert_eq!(
            type_to_json(s.id()).unwrap(),
            json!({"class": "H5T_STRING", "charSet": "H5T_CSET_ASCII", "length": 4, "strPad": "H5T_STR_NULLPAD"})
        );
        // VLEN without "size"; array dims as a bare integer; a predefined name as a type.
        let v = t(json!({"class": "H5T_VLEN", "base": "H5T_STD_U8LE"}));
        assert_eq!(
            type_to_json(v.id()).unwrap(),
            json!({"class": "H5T_VLEN", "base": int("H5T_STD_U8LE"), "size": "H5T_VARIABLE"})
        );
        let a = t(json!({"class": "H5T_ARRAY", "base": int("H5T_STD_U8LE"), "dims": 4}));
        assert_eq!(type_to_json(a.id()).unwrap()["dims"], json!([4]));
    }

    #[test]
    fn predefined_types_are_hdf5s() {
        let _h5 = init();
        // SAFETY: reads predefined type globals after H5open.
        let pairs = unsafe {
            [
                ("H5T_STD_I8LE", sys::H5T_STD_I8LE_g),
                ("H5T_STD_U8BE", sys::H5T_STD_U8BE_g),
                ("H5T_STD_I16BE", sys::H5T_STD_I16BE_g),
                ("H5T_STD_U16LE", sys::H5T_STD_U16LE_g),
                ("H5T_STD_I32BE", sys::H5T_STD_I32BE_g),
                ("H5T_STD_I32LE", sys::H5T_STD_I32LE_g),
                ("H5T_STD_U32LE", sys::H5T_STD_U32LE_g),
                ("H5T_STD_I64LE", sys::H5T_STD_I64LE_g),
                ("H5T_STD_U64BE", sys::H5T_STD_U64BE_g),
                ("H5T_IEEE_F16LE", sys::H5T_IEEE_F16LE_g),
                ("H5T_IEEE_F32LE", sys::H5T_IEEE_F32LE_g),
                ("H5T_IEEE_F32BE", sys::H5T_IEEE_F32BE_g),
                ("H5T_IEEE_F64BE", sys::H5T_IEEE_F64BE_g),
            ]
        };
        for (name, id) in pairs {
            let class = if name.contains("IEEE") {
                "H5T_FLOAT"
            } else {
                "H5T_INTEGER"
            };
            let tid = t(json!({"class": class, "base": name}));
            assert!(equal(tid.id(), id), "{name}");
            // And back from HDF5's own type (native types map to their standard twins).
            assert_eq!(
                type_to_json(id).unwrap(),
                json!({"class": class, "base": name})
            );
        }
        // SAFETY: as above.
        let native = unsafe { sys::H5T_NATIVE_INT_g };
        assert_eq!(type_to_json(native).unwrap(), int("H5T_STD_I32LE"));
        let s = t(vstr());
        // SAFETY: plain HDF5 calls on our type.
        unsafe {
            assert!(sys::H5Tis_variable_str(s.id()) > 0);
            assert_eq!(sys::H5Tget_cset(s.id()), sys::H5T_CSET_UTF8);
        }
        let f = t(json!({"class": "H5T_STRING", "length": 9, "strPad": "H5T_STR_SPACEPAD"}));
        assert_eq!(type_size(f.id()).unwrap(), 9);
        // SAFETY: plain HDF5 call on our type.
        assert_eq!(unsafe { sys::H5Tget_strpad(f.id()) }, sys::H5T_STR_SPACEPAD);
    }

    #[test]
    fn compound_fields_are_packed() {
        let _h5 = init();
        let c = t(json!({"class": "H5T_COMPOUND", "fields": [
            {"name": "a", "type": int("H5T_STD_I8LE")},
            {"name": "b", "type": {"class": "H5T_FLOAT", "base": "H5T_IEEE_F64LE"}},
            {"name": "c", "type": {"class": "H5T_STRING", "length": 3}},
            {"name": "d", "type": vstr()}]}));
        assert_eq!(type_size(c.id()).unwrap(), 1 + 8 + 3 + PTR);
        let offsets: Vec<usize> = (0..4)
            // SAFETY: valid member indexes of our compound.
            .map(|i| unsafe { sys::H5Tget_member_offset(c.id(), i) })
            .collect();
        assert_eq!(offsets, [0, 1, 9, 12]);
        assert_eq!(member_name(c.id(), 3).unwrap(), "d");
    }

    #[test]
    fn committed_types_resolve() {
        let _h5 = init();
        let resolve = |id: &str| -> Result<Value, String> {
            match id {
                "t-1" => Ok(int("H5T_STD_I16BE")),
                "t-loop" => Ok(json!("t-loop")),
                _ => Err(format!("no type {id}")),
            }
        };
        let a = type_from_json(&json!("t-1"), &resolve).unwrap();
        // SAFETY: reads a predefined type global after H5open.
        assert!(equal(a.id(), unsafe { sys::H5T_STD_I16BE_g }));
        let c = type_from_json(
            &json!({"class": "H5T_COMPOUND", "fields": [{"name": "x", "type": "datatypes/t-1"}]}),
            &resolve,
        )
        .unwrap();
        assert_eq!(type_size(c.id()).unwrap(), 2);
        let e = type_from_json(&json!("t-loop"), &resolve).unwrap_err();
        assert!(e.contains("too deeply"), "{e}");
        assert_eq!(
            type_from_json(&json!("t-2"), &resolve).unwrap_err(),
            "no type t-2"
        );
    }

    #[test]
    fn bad_types_are_errors() {
        let _h5 = init();
        let cases = [
            (
                json!({"class": "H5T_REFERENCE", "base": "H5T_STD_REF_DSETREG"}),
                "region references (H5T_STD_REF_DSETREG) are not supported",
            ),
            (
                json!({"class": "H5T_TIME"}),
                "unsupported HSDS type class H5T_TIME",
            ),
            (
                json!({"base": "H5T_STD_I8LE"}),
                "HSDS type without \"class\"",
            ),
            (
                int("H5T_STD_I24LE"),
                "unsupported H5T_INTEGER base \"H5T_STD_I24LE\"",
            ),
            (
                json!({"class": "H5T_FLOAT", "base": "H5T_STD_I32LE"}),
                "unsupported H5T_FLOAT base",
            ),
            (
                json!({"class": "H5T_STRING", "length": 0}),
                "H5T_STRING length must be a positive integer",
            ),
            (
                json!({"class": "H5T_STRING", "length": 3, "charSet": "H5T_CSET_EBCDIC"}),
                "unsupported H5T_STRING charSet",
            ),
            (json!({"class": "H5T_COMPOUND", "fields": []}), "no fields"),
            (
                json!({"class": "H5T_COMPOUND", "fields": [{"name": "a", "type": int("H5T_STD_I8LE")},
                                                        {"name": "a", "type": int("H5T_STD_I8LE")}]}),
                "appears twice",
            ),
            (
                json!({"class": "H5T_ENUM", "base": {"class": "H5T_FLOAT", "base": "H5T_IEEE_F32LE"}, "mapping": {"A": 1}}),
                "H5T_ENUM base must be",
            ),
            (
                json!({"class": "H5T_ENUM", "base": int("H5T_STD_U8LE"), "mapping": {"A": 300}}),
                "does not fit",
            ),
            (
                json!({"class": "H5T_ARRAY", "base": int("H5T_STD_U8LE"), "dims": [0]}),
                "invalid H5T_ARRAY dims",
            ),
            (
                json!({"class": "H5T_OPAQUE", "size": -1}),
                "H5T_OPAQUE size must be a positive integer",
            ),
            (json!(42), "HSDS type must be an object"),
            (json!("H5T_NATIVE_INT"), "unknown HSDS type name"),
        ];
        for (v, want) in cases {
            let e = type_from_json(&v, &no_refs).unwrap_err();
            assert!(e.contains(want), "{v}: {e}");
        }
        // SAFETY: plain HDF5 call.
        let bitfield = Hid::new(unsafe { sys::H5Tcopy(sys::H5T_STD_B8LE_g) }).unwrap();
        assert_eq!(
            type_to_json(bitfield.id()).unwrap_err(),
            "unsupported HDF5 type class H5T_BITFIELD"
        );
    }

    #[test]
    fn vlen_detection() {
        let _h5 = init();
        assert!(!has_vlen(t(int("H5T_STD_I32LE")).id()));
        assert!(!has_vlen(
            t(json!({"class": "H5T_STRING", "length": 4})).id()
        ));
        assert!(has_vlen(t(vstr()).id()));
        assert!(has_vlen(
            t(json!({"class": "H5T_VLEN", "base": "H5T_STD_I8LE"})).id()
        ));
        let c = t(json!({"class": "H5T_COMPOUND", "fields": [
            {"name": "a", "type": int("H5T_STD_I8LE")},
            {"name": "s", "type": vstr()}]}));
        assert!(has_vlen(c.id()));
        let a = t(
            json!({"class": "H5T_ARRAY", "base": {"class": "H5T_COMPOUND", "fields": [
            {"name": "s", "type": vstr()}]}, "dims": [2]}),
        );
        assert!(has_vlen(a.id()));
        let fixed = t(json!({"class": "H5T_ARRAY", "base": int("H5T_STD_I8LE"), "dims": [2]}));
        assert!(!has_vlen(fixed.id()));
    }

    #[test]
    fn fixed_values_pass_through() {
        let _h5 = init();
        let i = t(int("H5T_STD_I32BE"));
        let bytes = [0, 0, 0, 1, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff];
        let mem = decode(i.id(), 3, &bytes).unwrap();
        assert_eq!(mem, bytes);
        assert_eq!(encode(i.id(), 3, &mem).unwrap(), bytes);
        let c = t(json!({"class": "H5T_COMPOUND", "fields": [
            {"name": "a", "type": int("H5T_STD_I8LE")},
            {"name": "b", "type": int("H5T_STD_I16LE")}]}));
        let bytes = [1, 2, 0, 3, 4, 0];
        assert_eq!(decode(c.id(), 2, &bytes).unwrap(), bytes);
        assert!(
            decode(c.id(), 2, &bytes[..5])
                .unwrap_err()
                .contains("5 bytes")
        );
        assert!(decode(c.id(), 1, &bytes).is_err());
        assert!(encode(c.id(), 3, &bytes).is_err());
        assert!(decode(c.id(), usize::MAX, &bytes).is_err());
    }

    #[test]
    fn padded_compound_is_repacked() {
        let _h5 = init();
        // A memory compound with padding (as a C struct): { i8 a; <3 pad>; i32 b; }.
        // SAFETY: plain HDF5 calls building a type we own.
        let c = unsafe {
            let c = Hid::new(sys::H5Tcreate(sys::H5T_COMPOUND, 8)).unwrap();
            sys::H5Tinsert(c.id(), c"a".as_ptr(), 0, sys::H5T_STD_I8LE_g);
            sys::H5Tinsert(c.id(), c"b".as_ptr(), 4, sys::H5T_STD_I32LE_g);
            c
        };
        let packed = [7, 1, 0, 0, 0, 8, 2, 0, 0, 0];
        let mem = decode(c.id(), 2, &packed).unwrap();
        assert_eq!(mem, [7, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(encode(c.id(), 2, &mem).unwrap(), packed);
    }

    #[test]
    fn vlen_strings_round_trip() {
        let _h5 = init();
        let s = t(vstr());
        let bytes = counted(&[b"abc", b"", "h\u{e9}".as_bytes()]);
        let mut mem = decode(s.id(), 3, &bytes).unwrap();
        assert_eq!(mem.len(), 3 * PTR);
        assert_eq!(vstr_at(&mem, 0), "abc");
        assert_eq!(vstr_at(&mem, PTR), "");
        assert_eq!(vstr_at(&mem, 2 * PTR), "h\u{e9}");
        assert_eq!(encode(s.id(), 3, &mem).unwrap(), bytes);
        reclaim(s.id(), 3, &mut mem);
        // A NULL char* is an empty string.
        assert_eq!(encode(s.id(), 1, &[0; PTR]).unwrap(), [0, 0, 0, 0]);
    }

    #[test]
    fn vlen_sequences_round_trip() {
        let _h5 = init();
        let v = t(json!({"class": "H5T_VLEN", "base": int("H5T_STD_I16LE")}));
        let bytes = counted(&[&[1, 0, 2, 0, 3, 0], &[], &[0xff, 0x7f]]);
        let mut mem = decode(v.id(), 3, &bytes).unwrap();
        assert_eq!(mem.len(), 3 * HVL);
        assert_eq!(get_usize(&mem, 0), 3);
        assert_eq!(get_usize(&mem, HVL), 0);
        assert_eq!(get_usize(&mem, HVL + PTR), 0);
        assert_eq!(get_usize(&mem, 2 * HVL), 1);
        let p = get_usize(&mem, PTR) as *const i16;
        // SAFETY: decode allocated 3 i16 values here.
        assert_eq!(unsafe { std::slice::from_raw_parts(p, 3) }, [1, 2, 3]);
        assert_eq!(encode(v.id(), 3, &mem).unwrap(), bytes);
        reclaim(v.id(), 3, &mut mem);
        // A byte count that is not a whole number of elements.
        let e = decode(v.id(), 1, &counted(&[&[1, 0, 2]])).unwrap_err();
        assert!(e.contains("whole number"), "{e}");
    }

    #[test]
    fn compounds_with_vlen_round_trip() {
        let _h5 = init();
        let c = t(json!({"class": "H5T_COMPOUND", "fields": [
            {"name": "id", "type": int("H5T_STD_I32LE")},
            {"name": "name", "type": vstr()},
            {"name": "tags", "type": {"class": "H5T_VLEN", "base": {"class": "H5T_COMPOUND", "fields": [
                {"name": "k", "type": int("H5T_STD_U8LE")},
                {"name": "v", "type": vstr()}]}}}]}));
        let size = type_size(c.id()).unwrap();
        assert_eq!(size, 4 + PTR + HVL);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&7i32.to_le_bytes());
        bytes.extend_from_slice(&counted(&[b"seven"]));
        // Two records of a vlen-holding base: the count is their total byte size.
        let mut tags = vec![1u8];
        tags.extend_from_slice(&counted(&[b"x"]));
        tags.push(2);
        tags.extend_from_slice(&counted(&[b"yz"]));
        bytes.extend_from_slice(&counted(&[&tags]));
        bytes.extend_from_slice(&(-1i32).to_le_bytes());
        bytes.extend_from_slice(&counted(&[b""]));
        bytes.extend_from_slice(&counted(&[b""]));
        let mut mem = decode(c.id(), 2, &bytes).unwrap();
        assert_eq!(mem.len(), 2 * size);
        assert_eq!(&mem[..4], 7i32.to_le_bytes());
        assert_eq!(vstr_at(&mem, 4), "seven");
        assert_eq!(get_usize(&mem, 4 + PTR), 2);
        assert_eq!(get_usize(&mem, size + 4 + PTR), 0);
        let tags_p = get_usize(&mem, 4 + 2 * PTR) as *const u8;
        // SAFETY: decode allocated 2 records of 1 + PTR bytes here.
        let tag_mem = unsafe { std::slice::from_raw_parts(tags_p, 2 * (1 + PTR)) };
        assert_eq!(tag_mem[0], 1);
        assert_eq!(vstr_at(tag_mem, 1), "x");
        assert_eq!(vstr_at(tag_mem, 2 + PTR), "yz");
        assert_eq!(encode(c.id(), 2, &mem).unwrap(), bytes);
        reclaim(c.id(), 2, &mut mem);
    }

    #[test]
    fn bad_binary_is_an_error() {
        let _h5 = init();
        let s = t(vstr());
        let cases: [(&[u8], usize, &str); 5] = [
            (&[5, 0, 0, 0, b'a', b'b'], 1, "truncated"),
            (&[1, 0, 0], 1, "too few"),
            (&[0, 0, 0, 0, 0, 0, 0, 0], 1, "more than"),
            (&[0xff, 0xff, 0xff, 0xff], 1, "negative"),
            (&[0, 0, 0, 0], 1_000_000, "too few"),
        ];
        for (bytes, n, want) in cases {
            let e = decode(s.id(), n, bytes).unwrap_err();
            assert!(e.contains(want), "{bytes:?}: {e}");
        }
        // A failure after some strings were allocated frees them (no leak to observe
        // here, but nothing must crash either).
        let c = t(json!({"class": "H5T_COMPOUND", "fields": [
            {"name": "a", "type": vstr()}, {"name": "b", "type": vstr()}]}));
        let mut bytes = counted(&[b"ok", b"ok"]);
        bytes.extend_from_slice(&counted(&[b"fine"]));
        bytes.extend_from_slice(&[9, 0, 0, 0, b'x']);
        assert!(decode(c.id(), 2, &bytes).unwrap_err().contains("truncated"));
        let v = t(
            json!({"class": "H5T_VLEN", "base": {"class": "H5T_COMPOUND", "fields": [
            {"name": "s", "type": vstr()}]}}),
        );
        let mut inner = counted(&[b"a"]);
        inner.extend_from_slice(&[7, 0, 0, 0]);
        let e = decode(v.id(), 1, &counted(&[&inner])).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn json_values_to_memory() {
        let _h5 = init();
        let i = t(int("H5T_STD_I16BE"));
        assert_eq!(json_to_mem(i.id(), 1, &json!(258)).unwrap(), [1, 2]);
        assert_eq!(
            json_to_mem(i.id(), 2, &json!([[1], [-1]])).unwrap(),
            [0, 1, 0xff, 0xff]
        );
        assert_eq!(json_to_mem(i.id(), 2, &Value::Null).unwrap(), [0; 4]);
        assert!(
            json_to_mem(i.id(), 1, &json!(40000))
                .unwrap_err()
                .contains("does not fit")
        );
        assert!(
            json_to_mem(i.id(), 3, &json!([1, 2]))
                .unwrap_err()
                .contains("expected 3 values")
        );
        let f = t(json!({"class": "H5T_FLOAT", "base": "H5T_IEEE_F32LE"}));
        assert_eq!(
            json_to_mem(f.id(), 1, &json!(1.5)).unwrap(),
            1.5f32.to_le_bytes()
        );
        let nan = json_to_mem(f.id(), 1, &json!("nan")).unwrap();
        assert!(f32::from_le_bytes(nan.try_into().unwrap()).is_nan());
        let h = t(json!({"class": "H5T_FLOAT", "base": "H5T_IEEE_F16LE"}));
        assert_eq!(json_to_mem(h.id(), 1, &json!(1.0)).unwrap(), [0x00, 0x3c]);
        let e = t(
            json!({"class": "H5T_ENUM", "base": int("H5T_STD_I8LE"), "mapping": {"FALSE": 0, "TRUE": 1}}),
        );
        assert_eq!(
            json_to_mem(e.id(), 3, &json!([1, "FALSE", true])).unwrap(),
            [1, 0, 1]
        );
        assert!(json_to_mem(e.id(), 1, &json!("MAYBE")).is_err());
        let s = t(json!({"class": "H5T_STRING", "length": 4, "strPad": "H5T_STR_SPACEPAD"}));
        assert_eq!(
            json_to_mem(s.id(), 2, &json!(["ab", "abcdef"])).unwrap(),
            *b"ab  abcd"
        );
        let o = t(json!({"class": "H5T_OPAQUE", "size": 4}));
        assert_eq!(
            json_to_mem(o.id(), 2, &json!(["AQID", ""])).unwrap(),
            [1, 2, 3, 0, 0, 0, 0, 0]
        );
        let a = t(json!({"class": "H5T_ARRAY", "base": int("H5T_STD_U8LE"), "dims": [2, 2]}));
        assert_eq!(
            json_to_mem(a.id(), 2, &json!([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])).unwrap(),
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
        assert_eq!(
            json_to_mem(a.id(), 1, &json!([1, 2, 3, 4])).unwrap(),
            [1, 2, 3, 4]
        );
        let c = t(json!({"class": "H5T_COMPOUND", "fields": [
            {"name": "a", "type": int("H5T_STD_U8LE")},
            {"name": "s", "type": {"class": "H5T_STRING", "length": 2}},
            {"name": "v", "type": {"class": "H5T_ARRAY", "base": int("H5T_STD_U8LE"), "dims": [2]}}]}));
        assert_eq!(
            json_to_mem(c.id(), 1, &json!([1, "xy", [2, 3]])).unwrap(),
            [1, b'x', b'y', 2, 3]
        );
        assert_eq!(
            json_to_mem(
                c.id(),
                2,
                &json!([[1, "xy", [2, 3]], {"a": 9, "v": [1, 1]}])
            )
            .unwrap(),
            [1, b'x', b'y', 2, 3, 9, 0, 0, 1, 1]
        );
        let err = json_to_mem(c.id(), 1, &json!([1, "xy", [2, 300]])).unwrap_err();
        assert!(err.contains("does not fit"), "{err}");
    }

    #[test]
    fn json_vlen_values_to_memory() {
        let _h5 = init();
        let s = t(vstr());
        let mut mem = json_to_mem(s.id(), 2, &json!(["one", "two"])).unwrap();
        assert_eq!(vstr_at(&mem, 0), "one");
        assert_eq!(vstr_at(&mem, PTR), "two");
        reclaim(s.id(), 2, &mut mem);
        let v = t(json!({"class": "H5T_VLEN", "base": int("H5T_STD_I32LE")}));
        let mut mem = json_to_mem(v.id(), 2, &json!([[1, 2, 3], []])).unwrap();
        assert_eq!(get_usize(&mem, 0), 3);
        assert_eq!(get_usize(&mem, HVL), 0);
        assert_eq!(
            encode(v.id(), 2, &mem).unwrap(),
            counted(&[&[1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0], &[]])
        );
        reclaim(v.id(), 2, &mut mem);
        let c = t(json!({"class": "H5T_COMPOUND", "fields": [
            {"name": "n", "type": int("H5T_STD_I8LE")}, {"name": "s", "type": vstr()}]}));
        let mut mem = json_to_mem(c.id(), 1, &json!([[5, "five"]])).unwrap();
        assert_eq!(mem[0], 5);
        assert_eq!(vstr_at(&mem, 1), "five");
        reclaim(c.id(), 1, &mut mem);
        // The failure frees the first value's string.
        assert!(json_to_mem(c.id(), 2, &json!([[5, "five"], [500, "x"]])).is_err());
    }

    #[test]
    fn spaces_round_trip() {
        let _h5 = init();
        let sid =
            space_from_json(&json!({"class": "H5S_SIMPLE", "dims": [4, 5], "maxdims": [0, 5]}))
                .unwrap();
        let (dims, max) = extent(sid.id()).unwrap();
        assert_eq!(dims, [4, 5]);
        assert_eq!(max, [H5S_UNLIMITED, 5]);
        assert_eq!(
            space_to_json(sid.id()).unwrap(),
            (json!([4, 5]), Some(json!([0, 5])))
        );
        let sid = space_from_json(
            &json!({"class": "H5S_SIMPLE", "dims": [3], "maxdims": ["H5S_UNLIMITED"]}),
        )
        .unwrap();
        assert_eq!(extent(sid.id()).unwrap().1, [H5S_UNLIMITED]);
        let sid = space_from_json(&json!({"class": "H5S_SIMPLE", "dims": [2, 3]})).unwrap();
        assert_eq!(space_to_json(sid.id()).unwrap(), (json!([2, 3]), None));
        let sid =
            space_from_json(&json!({"class": "H5S_SIMPLE", "dims": [2], "maxdims": [10]})).unwrap();
        assert_eq!(
            space_to_json(sid.id()).unwrap(),
            (json!([2]), Some(json!([10])))
        );
        let sid = space_from_json(&json!({"class": "H5S_SCALAR"})).unwrap();
        assert_eq!(
            space_to_json(sid.id()).unwrap(),
            (json!("H5S_SCALAR"), None)
        );
        let sid = space_from_json(&json!({"class": "H5S_NULL"})).unwrap();
        assert_eq!(space_to_json(sid.id()).unwrap(), (json!("H5S_NULL"), None));
        let sid = space_from_json(&json!("H5S_SCALAR")).unwrap();
        // SAFETY: plain HDF5 call.
        assert_eq!(
            unsafe { sys::H5Sget_simple_extent_type(sid.id()) },
            sys::H5S_SCALAR
        );
        for (bad, want) in [
            (
                json!({"class": "H5S_SIMPLE", "dims": [4], "maxdims": [2]}),
                "smaller than",
            ),
            (
                json!({"class": "H5S_SIMPLE", "dims": [4], "maxdims": [4, 4]}),
                "do not match",
            ),
            (
                json!({"class": "H5S_SIMPLE", "dims": [-1]}),
                "list of integers",
            ),
            (json!({"class": "H5S_SIMPLE"}), "without \"dims\""),
            (
                json!({"class": "H5S_WEIRD"}),
                "unsupported HSDS shape class H5S_WEIRD",
            ),
        ] {
            let e = space_from_json(&bad).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }

    #[test]
    fn dcpl_round_trips() {
        let _h5 = init();
        let tid = t(int("H5T_STD_I32LE"));
        let cprops = json!({
            "layout": {"class": "H5D_CHUNKED", "dims": [10, 20]},
            "filters": [
                {"class": "H5Z_FILTER_SHUFFLE", "id": 2, "name": "shuffle"},
                {"class": "H5Z_FILTER_DEFLATE", "id": 1, "name": "gzip", "level": 5},
            ],
            "fillValue": 42,
            "allocTime": "H5D_ALLOC_TIME_INCR",
            "fillTime": "H5D_FILL_TIME_ALLOC",
            "initializer": ["ignored"],
        });
        let dcpl = dcpl_from_json(&cprops, tid.id()).unwrap();
        let mut dims = [0u64; 4];
        // SAFETY: plain HDF5 calls on our property list.
        unsafe {
            assert_eq!(sys::H5Pget_layout(dcpl.id()), sys::H5D_CHUNKED);
            assert_eq!(sys::H5Pget_chunk(dcpl.id(), 4, dims.as_mut_ptr()), 2);
            assert_eq!(sys::H5Pget_nfilters(dcpl.id()), 2);
        }
        assert_eq!(&dims[..2], [10, 20]);
        let mut fill = [0u8; 4];
        // SAFETY: fill holds one i32.
        unsafe {
            sys::H5Pget_fill_value(dcpl.id(), sys::H5T_NATIVE_INT_g, fill.as_mut_ptr().cast())
        };
        assert_eq!(i32::from_ne_bytes(fill), 42);
        assert_eq!(
            dcpl_to_json(dcpl.id(), tid.id()).unwrap(),
            json!({
                "layout": {"class": "H5D_CHUNKED", "dims": [10, 20]},
                "filters": [
                    {"class": "H5Z_FILTER_SHUFFLE", "id": 2, "name": "shuffle"},
                    {"class": "H5Z_FILTER_DEFLATE", "id": 1, "name": "gzip", "level": 5},
                ],
                "fillValue": 42,
                "allocTime": "H5D_ALLOC_TIME_INCR",
                "fillTime": "H5D_FILL_TIME_ALLOC",
            })
        );
    }

    #[test]
    fn dcpl_other_filters_and_layouts() {
        let _h5 = init();
        let tid = t(json!({"class": "H5T_FLOAT", "base": "H5T_IEEE_F64LE"}));
        let cprops = json!({
            "layout": {"class": "H5D_CHUNKED", "dims": [100]},
            "filters": [
                {"class": "H5Z_FILTER_FLETCHER32", "id": 3, "name": "fletcher32"},
                {"class": "H5Z_FILTER_SCALEOFFSET", "id": 6, "name": "scaleoffset", "scaleType": "H5Z_SO_FLOAT_DSCALE", "scaleOffset": 2},
                {"class": "H5Z_FILTER_SZIP", "id": 4, "name": "szip", "coding": "H5_SZIP_NN_OPTION_MASK", "pixelsPerBlock": 16},
                {"class": "H5Z_FILTER_ZSTD", "id": 32015, "name": "zstd"},
                {"class": "H5Z_FILTER_USER", "id": 40000, "name": "user filter 40000", "parameters": [3, 9]},
                {"class": "H5Z_FILTER_LZF"},
                {"name": "nbit"},
            ],
        });
        let dcpl = dcpl_from_json(&cprops, tid.id()).unwrap();
        let back = dcpl_to_json(dcpl.id(), tid.id()).unwrap();
        assert_eq!(
            back["filters"],
            json!([
                {"class": "H5Z_FILTER_FLETCHER32", "id": 3, "name": "fletcher32"},
                {"class": "H5Z_FILTER_SCALEOFFSET", "id": 6, "name": "scaleoffset", "scaleType": "H5Z_SO_FLOAT_DSCALE", "scaleOffset": 2},
                {"class": "H5Z_FILTER_SZIP", "id": 4, "name": "szip", "coding": "H5_SZIP_NN_OPTION_MASK", "pixelsPerBlock": 16},
                {"class": "H5Z_FILTER_ZSTD", "id": 32015, "name": "zstd"},
                {"class": "H5Z_FILTER_USER", "id": 40000, "name": "user filter 40000", "parameters": [3, 9]},
                {"class": "H5Z_FILTER_LZF", "id": 32000, "name": "lzf"},
                {"class": "H5Z_FILTER_NBIT", "id": 5, "name": "nbit"},
            ])
        );
        assert!(back.get("fillValue").is_none());
        for (layout, class) in [
            ("H5D_CONTIGUOUS", sys::H5D_CONTIGUOUS),
            ("H5D_COMPACT", sys::H5D_COMPACT),
            ("H5D_CONTIGUOUS_REF", sys::H5D_CONTIGUOUS),
        ] {
            let dcpl = dcpl_from_json(&json!({"layout": {"class": layout}}), tid.id()).unwrap();
            // SAFETY: plain HDF5 call.
            assert_eq!(unsafe { sys::H5Pget_layout(dcpl.id()) }, class);
            let back = dcpl_to_json(dcpl.id(), tid.id()).unwrap();
            let want = (class == sys::H5D_COMPACT).then(|| json!({"class": "H5D_COMPACT"}));
            assert_eq!(back.get("layout"), want.as_ref(), "{layout}");
        }
        assert!(dcpl_from_json(&Value::Null, tid.id()).is_ok());
        for (bad, want) in [
            (
                json!({"layout": {"class": "H5D_CHUNKED", "dims": [0]}}),
                "invalid chunk dims",
            ),
            (
                json!({"filters": [{"class": "H5Z_FILTER_MYSTERY"}]}),
                "filter without a known id",
            ),
            (
                json!({"filters": [{"id": 1, "level": 99}]}),
                "HDF5 refused filter",
            ),
            (
                json!({"allocTime": "H5D_ALLOC_TIME_SOMETIME"}),
                "unsupported allocTime",
            ),
            (json!({"fillValue": "not a number"}), "expected a number"),
            (
                json!({"fillValue": 1, "fillValue_encoding": "hex"}),
                "unsupported fillValue_encoding",
            ),
        ] {
            let e = dcpl_from_json(&bad, tid.id()).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }

    #[test]
    fn dcpl_fill_values_of_every_kind() {
        let _h5 = init();
        let cases = [
            (vstr(), json!("fill")),
            (
                json!({"class": "H5T_FLOAT", "base": "H5T_IEEE_F32BE"}),
                json!(-2.5),
            ),
            (
                json!({"class": "H5T_FLOAT", "base": "H5T_IEEE_F64LE"}),
                json!("nan"),
            ),
            (json!({"class": "H5T_STRING", "length": 5}), json!("abc")),
            (
                json!({"class": "H5T_ENUM", "base": int("H5T_STD_I8LE"), "mapping": {"FALSE": 0, "TRUE": 1}}),
                json!(1),
            ),
            (json!({"class": "H5T_OPAQUE", "size": 3}), json!("AQID")),
            (
                json!({"class": "H5T_ARRAY", "base": int("H5T_STD_I16LE"), "dims": [2, 2]}),
                json!([[1, 2], [3, 4]]),
            ),
            (
                json!({"class": "H5T_VLEN", "base": int("H5T_STD_U8LE")}),
                json!([1, 2]),
            ),
            (
                json!({"class": "H5T_COMPOUND", "fields": [
                {"name": "a", "type": int("H5T_STD_U64LE")},
                {"name": "s", "type": vstr()}]}),
                json!([18446744073709551615u64, "x"]),
            ),
        ];
        for (ty, fill) in cases {
            let tid = t(ty.clone());
            let dcpl = dcpl_from_json(&json!({"fillValue": fill}), tid.id()).unwrap();
            let back = dcpl_to_json(dcpl.id(), tid.id()).unwrap();
            assert_eq!(back["fillValue"], fill, "{ty}");
        }
        // h5json's base64 form: the value in HSDS binary.
        let tid = t(vstr());
        let dcpl = dcpl_from_json(
            &json!({"fillValue": base64_encode(&counted(&[b"b64"])), "fillValue_encoding": "base64"}),
            tid.id(),
        )
        .unwrap();
        assert_eq!(
            dcpl_to_json(dcpl.id(), tid.id()).unwrap()["fillValue"],
            json!("b64")
        );
    }

    #[test]
    fn base64_both_ways() {
        for data in [&b""[..], b"a", b"ab", b"abc", b"abcd", &[0, 255, 128, 7, 9]] {
            assert_eq!(base64_decode(&base64_encode(data)).unwrap(), data);
        }
        assert_eq!(base64_encode(b"\x01\x02\x03"), "AQID");
        assert_eq!(base64_decode("YWJj\nZA==").unwrap(), b"abcd");
        assert!(base64_decode("a*b").is_err());
    }
}
