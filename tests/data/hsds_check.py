#!/usr/bin/env python3
"""HSDS facts for tests/vol_tools.rs, read with h5pyd (HS_ENDPOINT, HS_USERNAME and
HS_PASSWORD in the environment).

  hsds_check.py layouts LOCAL_FILE DOMAIN
      Print JSON, one entry per hard-link path of every dataset of LOCAL_FILE:
        {"/path": {"hsds_layout": "H5D_CHUNKED" | "H5D_CONTIGUOUS" | ...,
                   "hsds_chunks": [dims] | null,
                   "local_layout": "H5D_CONTIGUOUS" | "H5D_CHUNKED" | "H5D_COMPACT",
                   "type_size": H5Tget_size of the dataset's type}}
      i.e. the storage layout HSDS holds after `hsload` next to the source file's.

  hsds_check.py values LOCAL_FILE DOMAIN
      Read every dataset and attribute value of LOCAL_FILE with h5py and of DOMAIN with
      h5pyd; print one line per mismatch and exit 1 if there is any.

  hsds_check.py make-fixed-strings OUT_FILE
      Write a file whose fixed-length strings are NULLTERM and SPACEPAD (h5py itself only
      writes NULLPAD ones): the case where hsload changes the type.
"""

from __future__ import annotations

import json
import sys

import h5py
import numpy as np

LAYOUTS = {h5py.h5d.COMPACT: "H5D_COMPACT", h5py.h5d.CONTIGUOUS: "H5D_CONTIGUOUS",
           h5py.h5d.CHUNKED: "H5D_CHUNKED", h5py.h5d.VIRTUAL: "H5D_VIRTUAL"}


def hard_links(group: h5py.Group, prefix: str = ""):
    """(path, object) for every hard link below group, groups recursed once per path."""
    for name in group:
        if not isinstance(group.get(name, getlink=True), h5py.HardLink):
            continue
        path = f"{prefix}/{name}"
        obj = group[name]
        yield path, obj
        if isinstance(obj, h5py.Group):
            yield from hard_links(obj, path)


def layouts(local: str, domain: str) -> int:
    import h5pyd

    out: dict[str, dict] = {}
    with h5py.File(local, "r") as src, h5pyd.File(domain, "r") as remote:
        for path, obj in hard_links(src):
            if not isinstance(obj, h5py.Dataset):
                continue
            layout = remote[path].id.cpl_json.get("layout", {})
            out[path] = {
                "hsds_layout": layout.get("class"),
                "hsds_chunks": layout.get("dims"),
                "local_layout": LAYOUTS[obj.id.get_create_plist().get_layout()],
                "type_size": obj.id.get_type().get_size(),
            }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


def canonical(value, deref) -> object:
    """A comparable form. h5pyd returns vlen ASCII strings as bytearray where h5py has
    bytes, and a {r, i} compound as a structured dtype where h5py has complex128, so
    compare bytes and shapes (the types are compared by the h5dump tests). An object
    reference compares as the path `deref` finds for it (None when null); h5pyd returns
    references as an S48 array of ids (its dtype's metadata says "ref")."""
    meta = getattr(getattr(value, "dtype", None), "metadata", None) or {}
    if "ref" in meta:
        flat = np.asarray(value).ravel().tolist()
        return [("ref", deref(v)) for v in flat], np.shape(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value
    if type(value).__name__ == "Reference":
        return [("ref", deref(value))], ()
    array = np.asarray(value)
    if array.dtype.kind == "O":
        return [canonical(v, deref) for v in array.ravel().tolist()], array.shape
    return array.dtype.itemsize, array.shape, array.tobytes()


def values(local: str, domain: str) -> int:
    import h5pyd

    bad = 0
    with h5py.File(local, "r") as src, h5pyd.File(domain, "r") as remote:
        objects = [("/", src)] + list(hard_links(src))

        def here(ref):
            return src[ref].name if ref else None

        def there(ref):
            if isinstance(ref, bytes):
                ref = h5pyd.Reference(ref.decode()) if ref else None
            return remote[ref].name if ref else None

        for path, obj in objects:
            robj = remote[path]
            for name in obj.attrs:
                if canonical(obj.attrs[name], here) != canonical(robj.attrs[name], there):
                    print(f"{path} attribute {name}: local {obj.attrs[name]!r} "
                          f"vs HSDS {robj.attrs[name]!r}")
                    bad += 1
            if isinstance(obj, h5py.Dataset) and \
                    canonical(obj[()], here) != canonical(robj[()], there):
                print(f"{path}: values differ")
                bad += 1
    print(f"{len(objects)} objects compared, {bad} mismatches")
    return 1 if bad else 0


def make_fixed_strings(out: str) -> int:
    def string_type(size: int, pad: int):
        tid = h5py.h5t.C_S1.copy()
        tid.set_size(size)
        tid.set_strpad(pad)
        return tid

    with h5py.File(out, "w") as f:
        space = h5py.h5s.create_simple((3,))
        nullterm = string_type(8, h5py.h5t.STR_NULLTERM)
        ds = h5py.h5d.create(f.id, b"nullterm", nullterm, space)
        ds.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([b"abc", b"defghij", b""], dtype="S8"))
        spacepad = string_type(6, h5py.h5t.STR_SPACEPAD)
        ds = h5py.h5d.create(f.id, b"spacepad", spacepad, space)
        ds.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([b"ab    ", b"cdefgh", b"x     "], dtype="S6"))
        attr = h5py.h5a.create(f.id, b"nullterm_attr", nullterm, h5py.h5s.create(h5py.h5s.SCALAR))
        attr.write(np.array(b"hello", dtype="S8"))
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["layouts"] and len(argv) == 3:
        return layouts(argv[1], argv[2])
    if argv[:1] == ["values"] and len(argv) == 3:
        return values(argv[1], argv[2])
    if argv[:1] == ["make-fixed-strings"] and len(argv) == 2:
        return make_fixed_strings(argv[1])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
