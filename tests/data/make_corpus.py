#!/usr/bin/env python3
"""Write the h5blob test corpus: small HDF5 files that each exercise one format feature.

Usage: make_corpus.py OUTDIR

Every file is written with h5py from fixed random seeds, so the *content* (data,
attributes, names, structure) is the same on every run; the bytes may still differ
between HDF5 library versions. The files are:

  chunked_gzip.h5  chunked + shuffle + gzip 2-D float32 and int16 datasets (~2 MB raw)
  contiguous.h5    contiguous 1-D / 3-D datasets of several dtypes, incl. big-endian
  compound.h5      compound, nested compound and array-member dataset and attribute
  vlen_strings.h5  variable-length UTF-8 / ASCII strings, fixed-length string attribute
  groups_attrs.h5  >= 200 groups nested 3 deep, each with typed attributes
  links.h5         hard, soft, dangling soft and external links
  paged.h5         paged file-space strategy (fs_page_size 4096)
  new_style.h5     latest 1.14 format + track_order groups (compact and dense v2 links)
  scattered.h5     ~40 chunked datasets, each written before the next is created (~30 MB)

The file names are printed, one per line, after they are written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import h5py
import numpy as np

# Some HDF5 builds record object modification times; switching that off keeps
# repeated runs as close to byte-identical as the library allows.
NO_TIMES = {"track_times": False}


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def smooth_field(gen: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A smooth 2-D signal plus noise: compressible, but not trivially so."""
    y = np.linspace(0, 8 * np.pi, shape[0])[:, None]
    x = np.linspace(0, 6 * np.pi, shape[1])[None, :]
    return np.sin(y) * np.cos(x) * 100 + gen.normal(0, 1, shape)


def make_chunked_gzip(path: Path) -> None:
    g = rng(1)
    with h5py.File(path, "w") as f:
        temps = smooth_field(g, (768, 512)).astype(np.float32)  # 1.5 MiB
        f.create_dataset("temperature", data=temps, chunks=(64, 128),
                         compression="gzip", compression_opts=6, shuffle=True, **NO_TIMES)
        counts = (smooth_field(g, (512, 512)) * 10).astype(np.int16)  # 0.5 MiB
        f.create_dataset("counts", data=counts, chunks=(100, 100),  # edge chunks
                         compression="gzip", compression_opts=4, shuffle=True, **NO_TIMES)
        f["temperature"].attrs["units"] = "K"
        f["counts"].attrs["scale"] = np.float64(0.1)


def make_contiguous(path: Path) -> None:
    g = rng(2)
    with h5py.File(path, "w") as f:
        f.create_dataset("f8_le_1d", data=g.normal(size=50_000), **NO_TIMES)
        f.create_dataset("f8_be_1d", data=g.normal(size=10_000).astype(">f8"), **NO_TIMES)
        f.create_dataset("i4_be_3d", data=g.integers(-2**31, 2**31 - 1, (20, 30, 40)).astype(">i4"),
                         **NO_TIMES)
        f.create_dataset("u2_3d", data=g.integers(0, 65535, (16, 32, 64)).astype("<u2"), **NO_TIMES)
        f.create_dataset("i8_1d", data=np.arange(-5000, 5000, dtype=np.int64), **NO_TIMES)
        f.create_dataset("f4_3d", data=g.random((10, 20, 30), dtype=np.float32), **NO_TIMES)
        f.create_dataset("u1_1d", data=np.arange(256, dtype=np.uint8), **NO_TIMES)
        f.create_dataset("bool_1d", data=g.random(1000) > 0.5, **NO_TIMES)
        f.create_dataset("scalar_f8", data=np.float64(np.pi), **NO_TIMES)
        f.create_dataset("empty", shape=(0,), dtype="f4", **NO_TIMES)


def make_compound(path: Path) -> None:
    g = rng(3)
    position = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4")])
    record = np.dtype([
        ("id", "<u4"),
        ("time", "<f8"),
        ("pos", position),                       # nested compound
        ("samples", "<i2", (4,)),                # array member
        ("flag", "u1"),
        ("code", "S8"),
    ])
    n = 1000
    data = np.zeros(n, dtype=record)
    data["id"] = np.arange(n)
    data["time"] = np.cumsum(g.random(n))
    data["pos"]["x"], data["pos"]["y"], data["pos"]["z"] = g.normal(size=(3, n)).astype(np.float32)
    data["samples"] = g.integers(-1000, 1000, (n, 4))
    data["flag"] = g.integers(0, 2, n)
    data["code"] = [f"C{i:05d}".encode() for i in range(n)]
    with h5py.File(path, "w") as f:
        f.create_dataset("records", data=data, **NO_TIMES)
        f.create_dataset("records_chunked", data=data, chunks=(128,), compression="gzip", **NO_TIMES)
        f["records"].attrs.create("origin", data=data[:1][0], dtype=record)
        f.attrs.create("calibration", data=data[:3], dtype=record)
        cplx = (g.normal(size=64) + 1j * g.normal(size=64)).astype(np.complex128)
        f.create_dataset("complex", data=cplx, **NO_TIMES)  # h5py stores complex as compound


def make_vlen_strings(path: Path) -> None:
    utf8 = h5py.string_dtype("utf-8")
    ascii_ = h5py.string_dtype("ascii")
    words = ["alpha", "beta", "γάμμα", "δέλτα", "日本語", "emoji 🚀", "", "x" * 300]
    g = rng(4)
    with h5py.File(path, "w") as f:
        picked = [words[i] for i in g.integers(0, len(words), 500)]
        f.create_dataset("utf8", data=np.array(picked, dtype=object), dtype=utf8, **NO_TIMES)
        ascii_words = [f"line {i}: " + "abc" * int(g.integers(0, 20)) for i in range(300)]
        f.create_dataset("ascii", data=np.array(ascii_words, dtype=object), dtype=ascii_, **NO_TIMES)
        f.create_dataset("utf8_chunked", data=np.array(picked, dtype=object), dtype=utf8,
                         chunks=(64,), compression="gzip", **NO_TIMES)
        f.create_dataset("scalar_utf8", data="einzelner Wert – ünïcödé", dtype=utf8, **NO_TIMES)
        f.attrs.create("title", "Ünïcödé title ✓", dtype=utf8)
        f.attrs.create("ascii_note", "plain ascii note", dtype=ascii_)
        f.attrs.create("fixed", np.bytes_(b"FIXED-16-BYTES!!"), dtype="S16")
        f.attrs.create("fixed_array", np.array([b"a", b"bb", b"ccc"], dtype="S4"))
        f["utf8"].attrs.create("vlen_list", np.array(["one", "two", "drei"], dtype=object), dtype=utf8)


def make_groups_attrs(path: Path) -> None:
    g = rng(5)
    utf8 = h5py.string_dtype("utf-8")
    n_groups = 0
    with h5py.File(path, "w") as f:
        for a in range(6):
            for b in range(6):
                for c in range(6):
                    for name in (f"g{a}", f"g{a}/h{b}", f"g{a}/h{b}/k{c}"):
                        if name in f:
                            continue
                        grp = f.create_group(name)
                        n_groups += 1
                        grp.attrs["index"] = np.int32(n_groups)
                        grp.attrs["gain"] = np.float64(g.normal())
                        grp.attrs["label"] = f"group {name}"
                        grp.attrs.create("vlabel", f"vlen {name} ✓", dtype=utf8)
                        grp.attrs["vector"] = g.integers(0, 1000, 5).astype(np.uint16)
                        grp.attrs["matrix"] = g.random((3, 3))
                    # a small dataset in each leaf so object headers interleave
                    f.create_dataset(f"g{a}/h{b}/k{c}/values", data=g.random(16), **NO_TIMES)
        f.attrs["n_groups"] = n_groups
    assert n_groups >= 200, n_groups


def make_links(path: Path, external_target: str) -> None:
    with h5py.File(path, "w") as f:
        data = f.create_dataset("data/original", data=np.arange(100, dtype=np.int32), **NO_TIMES)
        f["data/hard_link"] = data                                  # second hard link
        f["soft_link"] = h5py.SoftLink("/data/original")
        f["soft_to_group"] = h5py.SoftLink("/data")
        f["dangling_soft"] = h5py.SoftLink("/does/not/exist")
        f["external_link"] = h5py.ExternalLink(external_target, "/f8_le_1d")
        f["dangling_external"] = h5py.ExternalLink("missing_file.h5", "/nothing")


def make_paged(path: Path) -> None:
    g = rng(6)
    with h5py.File(path, "w", fs_strategy="page", fs_page_size=4096) as f:
        f.create_dataset("contiguous", data=g.normal(size=20_000), **NO_TIMES)
        f.create_dataset("chunked", data=g.normal(size=(200, 200)), chunks=(50, 50), **NO_TIMES)
        f.create_dataset("chunked_gz", data=(g.random((300, 300)) * 100).astype(np.int32),
                         chunks=(64, 64), compression="gzip", **NO_TIMES)
        grp = f.create_group("meta")
        for i in range(30):
            grp.attrs[f"attr_{i:02d}"] = np.float64(i) / 7
            grp.create_dataset(f"small_{i:02d}", data=g.integers(0, 100, 10), **NO_TIMES)


# The newest format the HDF5 1.14 tools under test can read. h5py wheels may bundle
# HDF5 2.x, whose libver="latest" writes v5 layout messages that 1.14 rejects.
LATEST_READABLE_BY_114 = ("v114", "v114")


def make_new_style(path: Path) -> None:
    g = rng(7)
    with h5py.File(path, "w", libver=LATEST_READABLE_BY_114, track_order=True) as f:
        compact = f.create_group("compact", track_order=True)
        for i in range(5):
            compact.create_dataset(f"d{i}", data=g.random(10), **NO_TIMES)
        dense = f.create_group("dense", track_order=True)
        for i in range(40):  # > max_compact (8), so links go to a fractal heap + v2 B-trees
            dense.create_dataset(f"item_{i:03d}", data=g.integers(0, 100, 8), **NO_TIMES)
        for i in range(30):  # dense attribute storage as well
            dense.attrs[f"attr_{i:03d}"] = np.int64(i)
        f.create_dataset("chunked_latest", data=g.normal(size=(256, 256)), chunks=(32, 32),
                         compression="gzip", **NO_TIMES)  # new chunk indexes (v4 layout)
        ext = f.create_dataset("extendible", shape=(0, 16), maxshape=(None, 16), chunks=(64, 16),
                               dtype="f4", **NO_TIMES)
        ext.resize((500, 16))
        ext[...] = g.random((500, 16), dtype=np.float32)
        f.create_dataset("single_chunk", data=np.arange(1000, dtype=np.int16), chunks=(1000,),
                         **NO_TIMES)


def make_references(path: Path) -> None:
    """Object references (old-style, as h5py writes them) to a group, a dataset, a committed
    datatype and the root group, a null reference, 2-D, and in an attribute."""
    with h5py.File(path, "w") as f:
        grp = f.create_group("g1")
        data = f.create_dataset("g1/data", data=np.arange(6, dtype="<i4"), **NO_TIMES)
        f["ctype"] = np.dtype("<f8")
        refs = f.create_dataset("refs", (5,), dtype=h5py.ref_dtype, **NO_TIMES)
        refs[0:4] = [grp.ref, data.ref, f["ctype"].ref, f.ref]      # refs[4] stays null
        f.create_dataset("refs2d", data=np.array([[grp.ref, data.ref], [data.ref, grp.ref]],
                                                 dtype=h5py.ref_dtype), **NO_TIMES)
        f.attrs.create("ref_list", [data.ref, grp.ref], dtype=h5py.ref_dtype)


def make_scattered(path: Path) -> None:
    g = rng(8)
    with h5py.File(path, "w") as f:
        for i in range(40):
            grp = f.require_group(f"run{i // 10}")
            rows = 80 + 4 * (i % 8)
            shape = (rows, 1024)                      # ~0.8 MB of float64 per dataset
            data = smooth_field(g, shape) if i % 3 else g.normal(size=shape)
            kwargs = {"compression": "gzip", "shuffle": True} if i % 4 == 0 else {}
            ds = grp.create_dataset(f"dset_{i:02d}", shape=shape, dtype="f8",
                                    chunks=(32, 256), **kwargs, **NO_TIMES)
            ds[...] = data                            # written before the next header is made
            ds.attrs["index"] = i
            ds.attrs["units"] = "V"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    out: Path = args.outdir
    out.mkdir(parents=True, exist_ok=True)

    builders = [
        ("chunked_gzip.h5", make_chunked_gzip),
        ("contiguous.h5", make_contiguous),
        ("compound.h5", make_compound),
        ("vlen_strings.h5", make_vlen_strings),
        ("groups_attrs.h5", make_groups_attrs),
        ("links.h5", lambda p: make_links(p, "contiguous.h5")),
        ("paged.h5", make_paged),
        ("new_style.h5", make_new_style),
        ("scattered.h5", make_scattered),
        ("references.h5", make_references),
    ]
    for name, build in builders:
        path = out / name
        build(path)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
