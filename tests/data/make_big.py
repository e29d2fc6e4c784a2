#!/usr/bin/env python3
"""Write the h5blob benchmark file: a large HDF5 file laid out the way instruments write.

Usage: make_big.py PATH [--size-gib 1.0] [--datasets 400]

The file holds --datasets chunked "channel" datasets spread over a few groups. Each one
is created and its data written before the next is created, so object headers and
chunk indexes end up scattered between the raw data (the hard case for remote reads).
Every channel carries a couple of attributes. Part-way through, two special datasets
are written at the root:

  /big     float64, chunked (1 MiB chunks), uncompressed; size-gib/4 (256 MiB at 1 GiB)
  /big_gz  float64, chunked, shuffle + gzip; logical size size-gib/16 (64 MiB at 1 GiB)

The channels share (size - /big) between them, so the file is at least --size-gib.
Content is deterministic (fixed seeds).

The file is expensive to make, so callers cache it outside the clone. A JSON marker
(PATH + ".marker") records the parameters; if PATH exists and the marker matches, the
script does nothing. The file is written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import h5py
import numpy as np

MIB = 1 << 20
FORMAT_VERSION = 1  # bump when the layout below changes, to invalidate cached files
GROUPS = ("detector_a", "detector_b", "housekeeping", "calibration")
CHANNEL_DTYPES = (np.float32, np.int16, np.float64, np.uint16, np.int32)


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + ".marker")


def wanted_marker(args: argparse.Namespace) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "size_gib": args.size_gib,
        "datasets": args.datasets,
        "big_mib": args.big_mib,
        "big_gz_mib": args.big_gz_mib,
        "h5py": h5py.version.version,
        "hdf5": h5py.version.hdf5_version,
    }


def is_current(path: Path, marker: dict) -> bool:
    try:
        return path.is_file() and json.loads(marker_path(path).read_text()) == marker
    except (OSError, ValueError):
        return False


def write_big(f: h5py.File, big_bytes: int, seed: int) -> None:
    """/big: float64 in 1 MiB chunks, written slab by slab to bound memory."""
    chunk = MIB // 8
    n = max(chunk, big_bytes // 8 // chunk * chunk)
    ds = f.create_dataset("big", shape=(n,), dtype="<f8", chunks=(chunk,), track_times=False)
    ds.attrs["description"] = "uncompressed chunked float64 for full-read benchmarks"
    ds.attrs["chunk_bytes"] = MIB
    gen = np.random.default_rng(seed)
    slab = 32 * chunk
    for start in range(0, n, slab):
        stop = min(n, start + slab)
        ds[start:stop] = gen.standard_normal(stop - start)


def write_big_gz(f: h5py.File, gz_bytes: int, seed: int) -> None:
    """/big_gz: a smooth signal plus quantised noise, so gzip has something to do."""
    cols = 4096
    rows = max(32, gz_bytes // 8 // cols)
    ds = f.create_dataset("big_gz", shape=(rows, cols), dtype="<f8", chunks=(32, cols),
                          compression="gzip", compression_opts=4, shuffle=True,
                          track_times=False)
    ds.attrs["description"] = "gzip-compressed chunked float64"
    gen = np.random.default_rng(seed)
    x = np.linspace(0, 20 * np.pi, cols)
    slab = 256
    for start in range(0, rows, slab):
        stop = min(rows, start + slab)
        phase = np.arange(start, stop)[:, None] / 50.0
        noise = np.round(gen.normal(0, 1, (stop - start, cols)), 2)
        ds[start:stop] = np.sin(x[None, :] + phase) * 1000 + noise


def write_channel(grp: h5py.Group, index: int, nbytes: int, gen: np.random.Generator) -> None:
    dtype = np.dtype(CHANNEL_DTYPES[index % len(CHANNEL_DTYPES)])
    cols = 1024
    rows = max(1, nbytes // dtype.itemsize // cols)
    chunk_rows = max(1, min(rows, (256 * 1024) // (dtype.itemsize * cols)))  # ~256 KiB chunks
    ds = grp.create_dataset(f"channel_{index:04d}", shape=(rows, cols), dtype=dtype,
                            chunks=(chunk_rows, cols), track_times=False)
    if dtype.kind == "f":
        data = gen.standard_normal((rows, cols)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        data = gen.integers(info.min, info.max, (rows, cols), dtype=dtype, endpoint=True)
    ds[...] = data  # written now, before the next dataset's header is allocated
    ds.attrs["sample_rate_hz"] = np.float64(1000.0 + index)
    ds.attrs["units"] = ("V", "counts", "K", "adu", "mA")[index % 5]


def generate(path: Path, args: argparse.Namespace) -> None:
    total = int(args.size_gib * 1024 * MIB)
    big_bytes = int(args.big_mib * MIB)
    gz_bytes = int(args.big_gz_mib * MIB)
    per_channel = max(1024 * 8, (total - big_bytes) // max(1, args.datasets))
    gen = np.random.default_rng(12345)
    special_at = args.datasets // 3  # /big and /big_gz land between channel datasets

    with h5py.File(path, "w") as f:
        f.attrs["title"] = "h5blob benchmark file"
        f.attrs["datasets"] = args.datasets
        groups = [f.create_group(name) for name in GROUPS]
        for i, grp in enumerate(groups):
            grp.attrs["instrument"] = f"unit-{i}"
        for i in range(args.datasets):
            if i == special_at:
                write_big(f, big_bytes, seed=1)
                write_big_gz(f, gz_bytes, seed=2)
            write_channel(groups[i % len(groups)], i, per_channel, gen)
        if args.datasets <= special_at:  # --datasets 0
            write_big(f, big_bytes, seed=1)
            write_big_gz(f, gz_bytes, seed=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--size-gib", type=float, default=1.0, help="minimum file size")
    parser.add_argument("--datasets", type=int, default=400, help="number of channel datasets")
    parser.add_argument("--big-mib", type=float, default=None,
                        help="size of /big (default: a quarter of --size-gib)")
    parser.add_argument("--big-gz-mib", type=float, default=None,
                        help="logical size of /big_gz (default: a sixteenth of --size-gib)")
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = parser.parse_args(argv)
    if args.big_mib is None:
        args.big_mib = args.size_gib * 1024 / 4
    if args.big_gz_mib is None:
        args.big_gz_mib = args.size_gib * 1024 / 16

    path: Path = args.path
    marker = wanted_marker(args)
    if not args.force and is_current(path, marker):
        print(f"{path}: up to date ({path.stat().st_size / MIB:.1f} MiB)")
        return 0

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    marker_path(path).unlink(missing_ok=True)
    started = time.monotonic()
    try:
        generate(tmp, args)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    marker_path(path).write_text(json.dumps(marker, indent=1) + "\n")
    print(f"{path}: wrote {path.stat().st_size / MIB:.1f} MiB in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
