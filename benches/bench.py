#!/usr/bin/env python3
"""Benchmark h5blob against other remote HDF5 readers and print a Markdown table.

One run:
  1. starts Azurite on a free 127.0.0.1 port (in memory with --quick, otherwise with
     --location in a temporary directory, since the full file is over 1 GiB),
  2. starts benches/proxy.py in front of it, adding --delay-ms latency per request and
     counting requests and bytes,
  3. makes (or reuses from the cache) the benchmark file with tests/data/make_big.py and
     uploads it to a public container,
  4. runs every reader on every workload through the proxy, resetting the proxy's
     counters before each run and reading them after:
       meta   "cold open + metadata walk": h5dump -H, or an h5py walk reading every
              object's shape, dtype and attributes
       full   "full read of /big": h5dump -d /big -b LE, or h5py f["/big"][:]
     Readers:
       blob              h5dump with the h5blob VFD plugin (--plugin-dir); "not built"
                         when libh5blob.so is missing
       ros3              h5dump with HDF5's read-only S3 driver on the anonymous http URL
       h5py+adlfs        h5py on an adlfs AzureBlobFileSystem file (default block size)
       h5py+fsspec-http  h5py on an fsspec HTTPFileSystem file (default block size)
  5. prints (and with --out writes) the table. Results are checked against the local
     file (DDL text for h5dump -H, a digest of the walk for h5py, a SHA-256 of /big), and
     failures, timeouts and mismatches show up in the table rather than stopping the run.

Wall time is the whole process for h5dump readers, and open-to-close inside the reader
process for h5py readers (Python start-up and imports excluded).

Internal use: `bench.py py-reader ...` is the h5py reader that the benchmark runs in a
subprocess; it prints one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("H5BLOB_CACHE", Path.home() / ".cache" / "h5blob"))
HDF5_DIR = Path(os.environ.get("HDF5_DIR", CACHE / "hdf5-1.14.6"))
AZURITE = Path(os.environ.get("H5BLOB_AZURITE",
                              CACHE / "azurite-3.35.0" / "node_modules" / ".bin" / "azurite-blob"))
ACCOUNT = "devstoreaccount1"
# Azurite's documented, publicly known development key (not a secret).
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
               "K1SZFPTOtr/KBHBeksoGMGw==")
CONTAINER = "bench"
HOST = "127.0.0.1"
READERS = ("blob", "ros3", "h5py+adlfs", "h5py+fsspec-http")
WORKLOADS = {"meta": "cold open + metadata walk", "full": "full read of /big"}
MB = 1e6


def connection_string(endpoint: str) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};"
            f"AccountKey={ACCOUNT_KEY};BlobEndpoint={endpoint};")


# --------------------------------------------------------------------------------------
# h5py reader (runs in its own process: `bench.py py-reader ...`)
# --------------------------------------------------------------------------------------

def walk_digest(f) -> tuple[str, int]:
    """Visit every object, reading shapes, dtypes and attribute values; digest them."""
    import h5py
    import numpy as np

    h = hashlib.sha256()
    count = 0

    def canonical(value) -> str:
        if isinstance(value, (str, bytes)):
            return repr(value)
        array = np.asarray(value)
        if array.dtype.kind == "O":  # vlen strings: compare values, not object pointers
            return repr(array.tolist())
        return f"{array.dtype.str}{array.shape}:{array.tobytes().hex()}"

    def attrs(obj) -> None:
        for name in sorted(obj.attrs):
            h.update(f"  @{name}={canonical(obj.attrs[name])}\n".encode())

    def visit(name: str, obj) -> None:
        nonlocal count
        count += 1
        if isinstance(obj, h5py.Dataset):
            h.update(f"D {name} {obj.shape} {obj.dtype.str} {obj.chunks}\n".encode())
        else:
            h.update(f"G {name}\n".encode())
        attrs(obj)

    visit("/", f)
    f.visititems(visit)
    return h.hexdigest(), count


def array_digest(array) -> str:
    return hashlib.sha256(array.astype("<f8", copy=False).tobytes()).hexdigest()


def run_py_reader(args: argparse.Namespace) -> int:
    import fsspec
    import h5py

    started = time.monotonic()
    if args.kind == "adlfs":
        from adlfs import AzureBlobFileSystem
        fs = AzureBlobFileSystem(connection_string=connection_string(args.endpoint))
        fileobj = fs.open(f"{args.container}/{args.blob}", "rb")
    else:
        fs = fsspec.filesystem("http")
        fileobj = fs.open(f"{args.endpoint}/{args.container}/{args.blob}", "rb")
    with fileobj, h5py.File(fileobj, "r") as f:
        if args.workload == "meta":
            digest, objects = walk_digest(f)
            result = {"digest": digest, "objects": objects}
            wall = time.monotonic() - started
        else:
            data = f["/big"][:]
            wall = time.monotonic() - started
            result = {"digest": array_digest(data), "elements": int(data.size)}
    result["wall"] = wall
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------------------
# Services: Azurite and the proxy
# --------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with status {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {HOST}:{port} within {timeout:.0f} s")


class Services:
    """Azurite + proxy, stopped (by pid) on exit."""

    def __init__(self, workdir: Path, delay_ms: float, on_disk: bool) -> None:
        self.workdir = workdir
        self.delay_ms = delay_ms
        self.on_disk = on_disk
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.azurite_port = self.proxy_port = 0

    def start(self) -> None:
        self.azurite_port = free_port()
        storage = (["--location", str(self.workdir / "azurite")] if self.on_disk
                   else ["--inMemoryPersistence"])
        azurite = self.spawn("azurite", [
            str(AZURITE), "--blobHost", HOST, "--blobPort", str(self.azurite_port), *storage,
            "--skipApiVersionCheck", "--loose", "--disableTelemetry",
        ])
        wait_for_port(self.azurite_port, azurite, "azurite")

        self.proxy_port = free_port()
        proxy = self.spawn("proxy", [
            sys.executable, str(REPO / "benches" / "proxy.py"),
            "--listen-port", str(self.proxy_port),
            "--upstream", f"http://{HOST}:{self.azurite_port}",
            "--delay-ms", str(self.delay_ms),
            "--stats-file", str(self.workdir / "proxy-stats.json"),
        ])
        wait_for_port(self.proxy_port, proxy, "proxy")

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def stop(self) -> None:
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()

    @property
    def azurite_endpoint(self) -> str:
        return f"http://{HOST}:{self.azurite_port}/{ACCOUNT}"

    @property
    def proxy_endpoint(self) -> str:
        return f"http://{HOST}:{self.proxy_port}/{ACCOUNT}"

    def proxy_call(self, method: str, path: str) -> dict:
        req = urllib.request.Request(f"http://{HOST}:{self.proxy_port}{path}", method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)

    def reset_stats(self) -> None:
        self.proxy_call("POST", "/__reset")

    def stats(self) -> dict:
        return self.proxy_call("GET", "/__stats")


# --------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------

@dataclass
class Result:
    reader: str
    workload: str
    status: str = "ok"            # "ok", or what went wrong
    requests: int | None = None
    bytes: int | None = None
    wall: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Expected:
    ddl: list[str]                 # h5dump -H of the local file, minus the first line
    walk_digest: str
    big_digest: str


def hdf5_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    lib = str(HDF5_DIR / "lib")
    env["LD_LIBRARY_PATH"] = lib + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    env.update(extra or {})
    return env


def last_line(text: str, limit: int = 160) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "")[:limit]


def run_process(argv: list[str], env: dict, timeout: float, stdout=subprocess.PIPE):
    """Run argv in its own session; kill the whole group on timeout. Returns (proc, out, err)."""
    proc = subprocess.Popen(argv, env=env, stdout=stdout, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return proc, (out or b"").decode(errors="replace"), err.decode(errors="replace")


class FifoHasher:
    """A named pipe whose contents are SHA-256 hashed by a thread (no disk writes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self.digest: str | None = None
        self.size = 0
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        h = hashlib.sha256()
        with open(self.path, "rb") as pipe:  # blocks until the writer opens it
            while chunk := pipe.read(1 << 20):
                h.update(chunk)
                self.size += len(chunk)
        self.digest = h.hexdigest()

    def finish(self, writer_ran: bool) -> str | None:
        if not writer_ran or self.thread.is_alive():
            # Unblock a reader still waiting for a writer that never opened the pipe.
            with contextlib.suppress(OSError):
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
        self.thread.join(timeout=30)
        self.path.unlink(missing_ok=True)
        return self.digest


def h5dump_argv(reader: str, ctx: "Context") -> tuple[list[str], dict] | str:
    """The h5dump command line (minus workload options) for reader, or why it can't run."""
    h5dump = str(HDF5_DIR / "bin" / "h5dump")
    if reader == "blob":
        plugin = ctx.plugin_dir / "libh5blob.so"
        if not plugin.is_file():
            return f"not built ({plugin} missing)"
        info = f"account={ACCOUNT};account_key={ACCOUNT_KEY};endpoint={ctx.services.proxy_endpoint}"
        return ([h5dump, "--vfd-name=blob", f"--vfd-info={info}", f"az://{CONTAINER}/{ctx.blob}"],
                hdf5_env({"HDF5_PLUGIN_PATH": str(ctx.plugin_dir)}))
    # ros3: anonymous read of the public blob; "(,,)" means no region/id/key. h5dump
    # 1.14.6 refuses --vfd-name=ros3 without --s3-cred, and accepts plain http URLs.
    url = f"{ctx.services.proxy_endpoint}/{CONTAINER}/{ctx.blob}"
    return [h5dump, "--vfd-name=ros3", "--s3-cred=(,,)", url], hdf5_env()


def run_h5dump(reader: str, workload: str, ctx: "Context") -> Result:
    result = Result(reader, workload)
    prepared = h5dump_argv(reader, ctx)
    if isinstance(prepared, str):
        result.status = prepared
        return result
    base, env = prepared
    target = base.pop()  # the file URL goes last, after the workload options
    fifo = None
    if workload == "meta":
        argv = [*base, "-H", target]
    else:
        fifo = FifoHasher(ctx.workdir / f"{reader}-big.bin")
        argv = [*base, "-d", "/big", "-b", "LE", "-o", str(fifo.path), target]

    ctx.services.reset_stats()
    started = time.monotonic()
    ran = False
    try:
        proc, out, err = run_process(argv, env, ctx.timeout)
        ran = True
    except subprocess.TimeoutExpired:
        result.status = f"timeout after {ctx.timeout:.0f} s"
        return finish(result, ctx, started, fifo, ran)
    except OSError as exc:
        result.status = f"cannot run h5dump: {exc}"
        return finish(result, ctx, started, fifo, ran)
    result = finish(result, ctx, started, fifo, ran)

    if proc.returncode != 0:
        result.status = f"h5dump exit {proc.returncode}: {last_line(err or out) or 'no message'}"
        if reader == "ros3" and result.requests == 0:
            result.status += " (no request reached the server)"
        return result
    if workload == "meta":
        ddl = out.splitlines()[1:]
        if ddl != ctx.expected.ddl:
            result.status = "DDL differs from local h5dump -H"
    else:
        if fifo.digest != ctx.expected.big_digest:
            result.status = f"/big digest mismatch ({fifo.size} bytes received)"
    return result


def finish(result: Result, ctx: "Context", started: float, fifo: FifoHasher | None,
           ran: bool) -> Result:
    result.wall = time.monotonic() - started
    if fifo is not None:
        fifo.finish(ran)
    record_stats(result, ctx)
    return result


def record_stats(result: Result, ctx: "Context") -> None:
    try:
        stats = ctx.services.stats()
    except OSError as exc:
        result.notes.append(f"proxy stats unavailable: {exc}")
        return
    result.requests = stats["requests"]
    result.bytes = stats["response_bytes"]
    if stats.get("errors"):
        result.notes.append(f"{stats['errors']} proxy errors")
    statuses = {k: v for k, v in stats.get("by_status", {}).items() if not k.startswith("2")}
    if statuses:
        result.notes.append("HTTP " + ", ".join(f"{k}x{v}" for k, v in sorted(statuses.items())))


def run_python(reader: str, workload: str, ctx: "Context") -> Result:
    result = Result(reader, workload)
    kind = "adlfs" if reader == "h5py+adlfs" else "http"
    argv = [sys.executable, str(Path(__file__).resolve()), "py-reader", "--kind", kind,
            "--workload", workload, "--endpoint", ctx.services.proxy_endpoint,
            "--container", CONTAINER, "--blob", ctx.blob]
    ctx.services.reset_stats()
    started = time.monotonic()
    try:
        proc, out, err = run_process(argv, os.environ.copy(), ctx.timeout)
    except subprocess.TimeoutExpired:
        result.status = f"timeout after {ctx.timeout:.0f} s"
        result.wall = time.monotonic() - started
        record_stats(result, ctx)
        return result
    result.wall = time.monotonic() - started
    record_stats(result, ctx)
    if proc.returncode != 0:
        result.status = f"exit {proc.returncode}: {last_line(err) or 'no message'}"
        return result
    try:
        report = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result.status = f"unreadable reader output: {last_line(out + err)}"
        return result
    result.wall = report["wall"]
    expected = ctx.expected.walk_digest if workload == "meta" else ctx.expected.big_digest
    if report["digest"] != expected:
        result.status = "walk digest differs from local" if workload == "meta" else "/big digest mismatch"
    return result


@dataclass
class Context:
    services: Services
    workdir: Path
    blob: str
    plugin_dir: Path
    timeout: float
    expected: Expected


def run_one(reader: str, workload: str, ctx: Context) -> Result:
    try:
        if reader in ("blob", "ros3"):
            return run_h5dump(reader, workload, ctx)
        return run_python(reader, workload, ctx)
    except Exception as exc:  # a broken reader must not end the benchmark
        return Result(reader, workload, status=f"benchmark error: {exc!r}"[:200])


def run_repeated(reader: str, workload: str, ctx: Context, repeat: int) -> Result:
    runs = [run_one(reader, workload, ctx) for _ in range(repeat)]
    good = [r for r in runs if r.status == "ok"]
    if len(good) < len(runs) or len(runs) == 1:
        return next((r for r in runs if r.status != "ok"), runs[0])
    median = statistics.median_low([r.wall for r in good])
    chosen = next(r for r in good if r.wall == median)
    chosen.notes.append(f"median of {repeat}")
    return chosen


# --------------------------------------------------------------------------------------
# Setup and output
# --------------------------------------------------------------------------------------

def local_expectations(path: Path) -> Expected:
    import h5py

    proc = subprocess.run([str(HDF5_DIR / "bin" / "h5dump"), "-H", str(path)], env=hdf5_env(),
                          capture_output=True, text=True, check=True, timeout=600)
    with h5py.File(path, "r") as f:
        walk, _count = walk_digest(f)
        big = array_digest(f["/big"][:])
    return Expected(ddl=proc.stdout.splitlines()[1:], walk_digest=walk, big_digest=big)


def make_file(args: argparse.Namespace) -> Path:
    if args.quick:
        path = args.file or CACHE / "bench" / "quick.h5"
        sizing = ["--size-gib", "0.0625", "--datasets", "50"]
    else:
        path = args.file or CACHE / "bench" / "big.h5"
        sizing = ["--size-gib", str(args.size_gib), "--datasets", str(args.datasets)]
    subprocess.run([sys.executable, str(REPO / "tests" / "data" / "make_big.py"), str(path), *sizing],
                   check=True)
    return path


def upload(services: Services, path: Path) -> None:
    subprocess.run([sys.executable, str(REPO / "scripts" / "azurite_upload.py"),
                    "--endpoint", services.azurite_endpoint, "--container", CONTAINER,
                    "--public", str(path)], check=True)


def fmt(value, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def markdown(results: list[Result], header: list[str]) -> str:
    ros3 = {r.workload: r.wall for r in results if r.reader == "ros3" and r.status == "ok"}
    lines = [*header, "",
             "| reader | workload | requests | MB transferred | wall s | vs ros3 | status |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in results:
        ok = r.status == "ok"
        ratio = (f"{r.wall / ros3[r.workload]:.2f}x"
                 if ok and r.wall and ros3.get(r.workload) else "–")
        status = "; ".join([r.status, *r.notes])
        measured = r.requests is not None and r.wall is not None
        lines.append("| " + " | ".join([
            r.reader, WORKLOADS[r.workload],
            fmt(r.requests, "d") if measured else "–",
            fmt(r.bytes / MB if r.bytes is not None else None, ".1f") if measured else "–",
            fmt(r.wall, ".2f") if measured else "–",
            ratio, status.replace("|", "\\|"),
        ]) + " |")
    return "\n".join(lines) + "\n"


def run_bench(args: argparse.Namespace) -> int:
    readers = args.readers.split(",") if args.readers else list(READERS)
    workloads = args.workloads.split(",") if args.workloads else list(WORKLOADS)
    unknown = [r for r in readers if r not in READERS] + [w for w in workloads if w not in WORKLOADS]
    if unknown:
        print(f"unknown reader/workload: {', '.join(unknown)}", file=sys.stderr)
        return 2

    path = make_file(args)
    print(f"computing expected results from {path} ...", file=sys.stderr)
    expected = local_expectations(path)
    on_disk = not args.quick if args.azurite_storage == "auto" else args.azurite_storage == "disk"

    workdir = Path(tempfile.mkdtemp(prefix="h5blob-bench-"))
    services = Services(workdir, args.delay_ms, on_disk)
    results: list[Result] = []
    try:
        services.start()
        print(f"azurite on {services.azurite_port}, proxy on {services.proxy_port} "
              f"(delay {args.delay_ms} ms); uploading ...", file=sys.stderr)
        upload(services, path)
        ctx = Context(services, workdir, path.name, args.plugin_dir.resolve(), args.timeout, expected)
        for workload in workloads:
            for reader in readers:
                print(f"  {reader:18} {workload} ...", file=sys.stderr, end="", flush=True)
                result = run_repeated(reader, workload, ctx, args.repeat)
                results.append(result)
                print(f" {result.status} ({fmt(result.wall, '.2f')} s, {result.requests} req)",
                      file=sys.stderr)
    finally:
        services.stop()
        if args.keep_workdir:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    size_mib = path.stat().st_size / (1 << 20)
    header = [f"### h5blob benchmark ({'quick' if args.quick else 'full'})", "",
              f"File `{path.name}`, {size_mib:.0f} MiB; Azurite "
              f"{'on disk' if on_disk else 'in memory'} behind a proxy adding "
              f"{args.delay_ms:g} ms per request. Wall time: whole h5dump process, or "
              "open-to-close inside the h5py reader process."]
    table = markdown(results, header)
    print(table)
    if args.out:
        Path(args.out).write_text(table)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["py-reader"]:
        parser = argparse.ArgumentParser(prog="bench.py py-reader")
        parser.add_argument("--kind", choices=("adlfs", "http"), required=True)
        parser.add_argument("--workload", choices=tuple(WORKLOADS), required=True)
        parser.add_argument("--endpoint", required=True)
        parser.add_argument("--container", required=True)
        parser.add_argument("--blob", required=True)
        return run_py_reader(parser.parse_args(argv[1:]))

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="64 MiB file with 50 datasets instead of the 1 GiB one")
    parser.add_argument("--file", type=Path, help="benchmark file (default: cached under "
                        f"{CACHE / 'bench'})")
    parser.add_argument("--size-gib", type=float, default=1.0, help="full-mode file size")
    parser.add_argument("--datasets", type=int, default=400, help="full-mode dataset count")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="latency added per request")
    parser.add_argument("--plugin-dir", type=Path, default=REPO / "target" / "release",
                        help="directory holding libh5blob.so")
    parser.add_argument("--readers", help=f"comma-separated subset of {','.join(READERS)}")
    parser.add_argument("--workloads", help=f"comma-separated subset of {','.join(WORKLOADS)}")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per reader run")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the median is shown")
    parser.add_argument("--azurite-storage", choices=("auto", "memory", "disk"), default="auto",
                        help="auto: memory with --quick, disk otherwise")
    parser.add_argument("--out", help="also write the Markdown table to this file")
    parser.add_argument("--keep-workdir", action="store_true", help="keep logs of Azurite/proxy")
    return run_bench(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
