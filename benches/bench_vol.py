#!/usr/bin/env python3
"""Benchmark h5blob's REST VOL connector against h5pyd on HSDS; print a Markdown table.

One run:
  1. generates the test corpus (tests/data/make_corpus.py) in a temporary directory,
  2. starts HSDS (PyPI `hsds` from the venv) on a Unix socket, POSIX storage in the same
     temporary directory, users admin/admin, in its own process group (stopped by killing
     that group), with SCAN_WAIT_TIME=1 so it writes each domain's summary (what
     `GET /?domain=D&getobjs=1` returns in one response) a second after the load,
  3. loads the chosen corpus files with `hsload` into /home/admin/<name> and waits until
     HSDS has written their summaries, so every reader sees the same server state,
  4. starts benches/proxy.py on 127.0.0.1 in front of HSDS's socket, adding --delay-ms
     latency per request and counting requests and bytes,
  5. runs every reader on every file and workload through the proxy, resetting the proxy's
     counters before each run and reading them after:
       meta   "metadata walk": h5dump -H; h5pyd visits every object and reads every
              attribute value, shape, type and chunk layout
       full   "metadata + every value": h5dump; the same walk also reading every
              dataset's values
     Readers:
       rest-vol  h5dump with HDF5_VOL_CONNECTOR=REST from --plugin-dir (libh5blob_vol.so
                 and libh5blob.so); the run stops at once if they are not built
       h5pyd     h5pyd 1.0.0 (the HDF Group's Python client) in its own process
  6. prints (and with --out writes) the table. h5dump's output is compared with h5dump of
     the local file (line count and content; HSDS itself changes a few things, listed in
     tests/vol_tools.rs, so a difference is a note, not a failure); h5pyd's walk is
     compared with the same walk by h5py on the local file (a digest of values and shapes).

Wall time is the whole process for h5dump, and open-to-close inside the reader process
for h5pyd (Python start-up and imports excluded), as in benches/bench.py.

Usage: python benches/bench_vol.py [--files groups_attrs.h5,scattered.h5] [--delay-ms 20]
       [--plugin-dir target/release] [--readers rest-vol,h5pyd] [--workloads meta,full]

Internal use: `bench_vol.py py-reader ...` is the h5pyd/h5py walk that the benchmark runs
in a subprocess; it prints one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("H5BLOB_CACHE", Path.home() / ".cache" / "h5blob"))
HDF5_DIR = Path(os.environ.get("HDF5_DIR", CACHE / "hdf5-1.14.6"))
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
# The test server's account (not a secret): HSDS is started here with these.
USER = PASSWORD = "admin"
FOLDER = f"/home/{USER}"
READERS = ("rest-vol", "h5pyd")
WORKLOADS = {"meta": "metadata walk", "full": "metadata + every value"}
DEFAULT_FILES = "groups_attrs.h5,scattered.h5"
# HSDS refuses requests with 503 while its service node has more than 100 in flight.
HSLOAD_ATTEMPTS = 5
MB = 1e6


# --------------------------------------------------------------------------------------
# The walk (runs in its own process: `bench_vol.py py-reader ...`)
# --------------------------------------------------------------------------------------

def canonical(value) -> str:
    """Comparable across h5py and h5pyd: h5pyd returns variable-length ASCII strings as
    bytearray and {r, i} compounds as structured arrays, so compare bytes and shapes."""
    import numpy as np

    if isinstance(value, (bytes, bytearray)):
        return repr(bytes(value))
    if isinstance(value, str):
        return repr(value)
    array = np.asarray(value)
    if array.dtype.kind == "O":
        return repr([canonical(v) for v in array.ravel().tolist()]) + str(array.shape)
    return f"{array.dtype.itemsize}{array.shape}:{hashlib.sha256(array.tobytes()).hexdigest()}"


def walk(f, values: bool) -> tuple[str, int]:
    """Every object once, in name order as h5dump goes: attributes (with values), and for
    datasets shape, type and chunks, plus all values when asked. Soft and external links
    are not followed. Returns a digest and the object count."""
    h = hashlib.sha256()
    count = 0

    def visit(path: str, obj) -> None:
        nonlocal count
        count += 1
        for name in sorted(obj.attrs):
            h.update(f"{path} @{name}={canonical(obj.attrs[name])}\n".encode())
        if hasattr(obj, "shape"):  # a dataset
            h.update(f"D {path} {obj.shape} {obj.dtype.itemsize}\n".encode())
            if values:
                h.update(canonical(obj[()]).encode())
            return
        for name in sorted(obj):
            link = obj.get(name, getlink=True)
            if type(link).__name__ != "HardLink":
                continue
            visit(f"{path.rstrip('/')}/{name}", obj[name])

    visit("/", f)
    return h.hexdigest(), count


def run_py_reader(args: argparse.Namespace) -> int:
    started = time.monotonic()
    if args.kind == "h5pyd":
        import h5pyd
        f = h5pyd.File(args.target, "r")
    else:
        import h5py
        f = h5py.File(args.target, "r")
    with f:
        digest, objects = walk(f, args.workload == "full")
    print(json.dumps({"digest": digest, "objects": objects,
                      "wall": time.monotonic() - started}))
    return 0


# --------------------------------------------------------------------------------------
# Services: HSDS on a Unix socket, the proxy on TCP loopback
# --------------------------------------------------------------------------------------

class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket (HSDS's service node)."""

    def __init__(self, path: str, timeout: float = 30) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Services:
    """HSDS + proxy, each in its own process group, stopped by group on exit."""

    def __init__(self, workdir: Path, delay_ms: float) -> None:
        self.workdir = workdir
        self.delay_ms = delay_ms
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.socket = workdir / "s" / "sn_1.sock"
        self.proxy_port = 0

    @property
    def unix_endpoint(self) -> str:
        return "http+unix://" + urllib.parse.quote(str(self.socket), safe="")

    @property
    def proxy_endpoint(self) -> str:
        return f"http://{HOST}:{self.proxy_port}"

    def spawn(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        log = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, cwd=self.workdir,
                                start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def start_hsds(self) -> None:
        root = self.workdir / "root"
        (root / "hsdstest").mkdir(parents=True)
        self.socket.parent.mkdir()
        env = dict(os.environ, BUCKET_NAME="hsdstest", SCAN_WAIT_TIME="1")
        proc = self.spawn("hsds", [
            str(VENV_BIN / "hsds"), "--root_dir", str(root), "--bucket_name", "hsdstest",
            "--socket_dir", str(self.socket.parent), "--count", "1",
            "--hs_username", USER, "--hs_password", PASSWORD,
        ], env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"hsds exited with {proc.returncode}; see {self.workdir}/hsds.log")
            # The service node answers READY before the data node is up (a PUT then fails
            # with 500); the launcher prints "READY!" once every node is.
            launcher_ready = "READY!" in (self.workdir / "hsds.log").read_text(errors="replace")
            with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
                status, body = self.hsds("GET", "/about")
                if launcher_ready and status == 200 and body.get("state") == "READY":
                    return
            time.sleep(0.2)
        raise RuntimeError(f"HSDS not ready after 60 s; see {self.workdir}/hsds.log")

    def hsds(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """One request straight to HSDS's socket (not counted), as admin."""
        import base64

        conn = UnixHTTPConnection(str(self.socket))
        auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        headers = {"Authorization": f"Basic {auth}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=headers)
            rsp = conn.getresponse()
            raw = rsp.read()
        finally:
            conn.close()
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {"text": raw.decode(errors="replace")}
        return rsp.status, parsed if isinstance(parsed, dict) else {"value": parsed}

    def folder(self, path: str) -> None:
        status, body = self.hsds("PUT", f"/?domain={path}", {"folder": True})
        if status not in (201, 409):
            raise RuntimeError(f"creating folder {path}: HTTP {status} {body}")

    def start_proxy(self) -> None:
        self.proxy_port = free_port()
        proc = self.spawn("proxy", [
            sys.executable, str(REPO / "benches" / "proxy.py"),
            "--listen-port", str(self.proxy_port), "--upstream-unix", str(self.socket),
            "--delay-ms", str(self.delay_ms),
            "--stats-file", str(self.workdir / "proxy-stats.json"),
        ])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"proxy exited with {proc.returncode}; see {self.workdir}/proxy.log")
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.proxy_port), 1):
                return
            time.sleep(0.1)
        raise RuntimeError("proxy did not start")

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
            # HSDS's node processes share the group and may outlive its launcher.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    def proxy_call(self, method: str, path: str) -> dict:
        req = urllib.request.Request(f"{self.proxy_endpoint}{path}", method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)

    def reset_stats(self) -> None:
        self.proxy_call("POST", "/__reset")

    def stats(self) -> dict:
        return self.proxy_call("GET", "/__stats")


def hs_env(endpoint: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HS_", "HSDS_"))}
    env.update(HS_ENDPOINT=endpoint, HS_USERNAME=USER, HS_PASSWORD=PASSWORD)
    return env


def load(services: Services, path: Path, domain: str) -> None:
    for attempt in range(1, HSLOAD_ATTEMPTS + 1):
        # Straight to the socket: h5pyd retries 503 on TCP endpoints only, so back off here.
        proc = subprocess.run([str(VENV_BIN / "hsload"), str(path), domain],
                              env=hs_env(services.unix_endpoint), capture_output=True,
                              text=True, timeout=1800)
        if proc.returncode == 0:
            return
        if "503" not in proc.stderr or attempt == HSLOAD_ATTEMPTS:
            raise RuntimeError(f"hsload {path.name} failed: {last_line(proc.stderr)}")
        time.sleep(attempt)


def wait_for_summary(services: Services, domain: str, timeout: float = 180) -> bool:
    """True once `getobjs=1` returns the domain's objects (HSDS has scanned it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = services.hsds("GET", f"/?domain={domain}&getobjs=1")
        if status == 200 and body.get("domain_objs"):
            return True
        time.sleep(1)
    return False


# --------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------

@dataclass
class Result:
    file: str
    reader: str
    workload: str
    status: str = "ok"
    requests: int | None = None
    bytes: int | None = None
    wall: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    services: Services
    workdir: Path
    plugin_dir: Path
    timeout: float
    # (file, workload) -> local h5dump output minus its first line / local walk digest
    ddl: dict[tuple[str, str], list[str]]
    digest: dict[tuple[str, str], str]


def hdf5_env(extra: dict) -> dict:
    env = dict(extra)
    lib = str(HDF5_DIR / "lib")
    env["LD_LIBRARY_PATH"] = lib + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    for k in ("HDF5_DRIVER", "HDF5_DRIVER_CONFIG", "HDF5_VOL_CONNECTOR", "HDF5_PLUGIN_PATH"):
        env.pop(k, None)
    return env


def last_line(text: str, limit: int = 160) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "")[:limit]


def run_process(argv: list[str], env: dict, timeout: float):
    """Run argv in its own session; kill the whole group on timeout."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return proc, out.decode(errors="replace"), err.decode(errors="replace")


def record_stats(result: Result, ctx: Context) -> None:
    try:
        stats = ctx.services.stats()
    except OSError as exc:
        result.notes.append(f"proxy stats unavailable: {exc}")
        return
    result.requests = stats["requests"]
    result.bytes = stats["response_bytes"]
    if stats.get("errors"):
        result.notes.append(f"{stats['errors']} proxy errors")
    odd = {k: v for k, v in stats.get("by_status", {}).items() if not k.startswith("2")}
    if odd:
        result.notes.append("HTTP " + ", ".join(f"{k}x{v}" for k, v in sorted(odd.items())))
    if stats.get("max_in_flight", 0) > 1:
        result.notes.append(f"up to {stats['max_in_flight']} requests in flight")


def run_h5dump(name: str, workload: str, ctx: Context) -> Result:
    result = Result(name, "rest-vol", workload)
    argv = [str(HDF5_DIR / "bin" / "h5dump"), *(["-H"] if workload == "meta" else []),
            f"{FOLDER}/{name}"]
    env = hdf5_env(hs_env(ctx.services.proxy_endpoint))
    env.update(HDF5_PLUGIN_PATH=str(ctx.plugin_dir), HDF5_VOL_CONNECTOR="REST")
    ctx.services.reset_stats()
    started = time.monotonic()
    try:
        proc, out, err = run_process(argv, env, ctx.timeout)
    except subprocess.TimeoutExpired:
        result.status = f"timeout after {ctx.timeout:.0f} s"
        result.wall = time.monotonic() - started
        record_stats(result, ctx)
        return result
    result.wall = time.monotonic() - started
    record_stats(result, ctx)
    if proc.returncode != 0:
        result.status = f"h5dump exit {proc.returncode}: {last_line(err or out) or 'no message'}"
        return result
    got, want = out.splitlines()[1:], ctx.ddl[(name, workload)]
    if got != want:
        result.notes.append(f"output differs from local h5dump ({len(got)} lines, local "
                            f"{len(want)}; HSDS changes some things, see tests/vol_tools.rs)")
    return result


def run_h5pyd(name: str, workload: str, ctx: Context) -> Result:
    result = Result(name, "h5pyd", workload)
    argv = [sys.executable, str(Path(__file__).resolve()), "py-reader", "--kind", "h5pyd",
            "--workload", workload, "--target", f"{FOLDER}/{name}"]
    ctx.services.reset_stats()
    started = time.monotonic()
    try:
        proc, out, err = run_process(argv, hs_env(ctx.services.proxy_endpoint), ctx.timeout)
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
    if report["digest"] != ctx.digest[(name, workload)]:
        result.status = "walk differs from the local file's"
    return result


def run_one(name: str, reader: str, workload: str, ctx: Context) -> Result:
    try:
        if reader == "rest-vol":
            return run_h5dump(name, workload, ctx)
        return run_h5pyd(name, workload, ctx)
    except Exception as exc:  # a broken reader must not end the benchmark
        return Result(name, reader, workload, status=f"benchmark error: {exc!r}"[:200])


def run_repeated(name: str, reader: str, workload: str, ctx: Context, repeat: int) -> Result:
    runs = [run_one(name, reader, workload, ctx) for _ in range(repeat)]
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

def local_expectations(local: dict[str, Path], workloads: list[str]):
    ddl, digest = {}, {}
    for name, path in local.items():
        for workload in workloads:
            argv = [str(HDF5_DIR / "bin" / "h5dump"), *(["-H"] if workload == "meta" else []),
                    str(path)]
            proc = subprocess.run(argv, env=hdf5_env(dict(os.environ)), capture_output=True,
                                  text=True, check=True, timeout=600)
            ddl[(name, workload)] = proc.stdout.splitlines()[1:]
            proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "py-reader",
                                   "--kind", "h5py", "--workload", workload,
                                   "--target", str(path)],
                                  capture_output=True, text=True, check=True, timeout=600)
            digest[(name, workload)] = json.loads(proc.stdout.strip().splitlines()[-1])["digest"]
    return ddl, digest


def fmt(value, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def markdown(results: list[Result], header: list[str]) -> str:
    h5pyd = {(r.file, r.workload): r for r in results if r.reader == "h5pyd" and r.status == "ok"}
    lines = [*header, "",
             "| file | workload | reader | requests | MB transferred | wall s | vs h5pyd | status |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for r in results:
        ok = r.status == "ok"
        peer = h5pyd.get((r.file, r.workload))
        ratio = (f"{r.wall / peer.wall:.2f}x" if ok and r.reader != "h5pyd" and peer
                 and r.wall and peer.wall else "–")
        measured = r.requests is not None and r.wall is not None
        lines.append("| " + " | ".join([
            r.file, WORKLOADS[r.workload], r.reader,
            fmt(r.requests, "d") if measured else "–",
            fmt(r.bytes / MB if r.bytes is not None else None, ".2f") if measured else "–",
            fmt(r.wall, ".2f") if measured else "–",
            ratio, "; ".join([r.status, *r.notes]).replace("|", "\\|"),
        ]) + " |")
    return "\n".join(lines) + "\n"


def check_plugin(plugin_dir: Path) -> str | None:
    missing = [f for f in ("libh5blob_vol.so", "libh5blob.so") if not (plugin_dir / f).is_file()]
    if missing:
        return (f"REST VOL plugin not built: {', '.join(missing)} missing in {plugin_dir}. "
                "Build it with `cargo build --release` (or pass --plugin-dir target/debug "
                "after `cargo build`).")
    return None


def run_bench(args: argparse.Namespace) -> int:
    readers = args.readers.split(",")
    workloads = args.workloads.split(",")
    files = args.files.split(",")
    unknown = [r for r in readers if r not in READERS] + [w for w in workloads if w not in WORKLOADS]
    if unknown:
        print(f"unknown reader/workload: {', '.join(unknown)}", file=sys.stderr)
        return 2
    plugin_dir = args.plugin_dir.resolve()
    if "rest-vol" in readers and (problem := check_plugin(plugin_dir)):
        print(f"bench_vol.py: {problem}", file=sys.stderr)
        return 2

    # Short, in /tmp: HSDS's socket path must stay under ~63 characters.
    workdir = Path(tempfile.mkdtemp(prefix="h5bv-", dir="/tmp"))
    services = Services(workdir, args.delay_ms)
    results: list[Result] = []
    try:
        corpus = workdir / "corpus"
        subprocess.run([sys.executable, str(REPO / "tests" / "data" / "make_corpus.py"),
                        str(corpus)], check=True, capture_output=True)
        local = {name: corpus / name for name in files}
        for name, path in local.items():
            if not path.is_file():
                print(f"{name} is not a corpus file (tests/data/make_corpus.py)", file=sys.stderr)
                return 2
        print("computing expected results from the local files ...", file=sys.stderr)
        ddl, digest = local_expectations(local, workloads)

        services.start_hsds()
        services.folder("/home")
        services.folder(FOLDER)
        for name, path in local.items():
            print(f"hsload {name} ...", file=sys.stderr)
            load(services, path, f"{FOLDER}/{name}")
        summaries = all([wait_for_summary(services, f"{FOLDER}/{name}") for name in files])
        services.start_proxy()
        print(f"HSDS on {services.socket}, proxy on {services.proxy_port} "
              f"(delay {args.delay_ms} ms)", file=sys.stderr)

        ctx = Context(services, workdir, plugin_dir, args.timeout, ddl, digest)
        for name in files:
            for workload in workloads:
                for reader in readers:
                    print(f"  {name:16} {workload:4} {reader:8} ...", file=sys.stderr, end="",
                          flush=True)
                    result = run_repeated(name, reader, workload, ctx, args.repeat)
                    results.append(result)
                    print(f" {result.status} ({fmt(result.wall, '.2f')} s, "
                          f"{result.requests} req)", file=sys.stderr)
    finally:
        services.stop()
        if args.keep_workdir:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    header = ["### h5blob REST VOL benchmark", "",
              f"HSDS 1.0.2 (one data node, POSIX storage, on a Unix socket) behind a proxy on "
              f"TCP loopback adding {args.delay_ms:g} ms per request; domains loaded with "
              f"hsload{'' if summaries else ' (HSDS had not written every domain summary)'}. "
              "Wall time: whole h5dump process, or open-to-close inside the h5pyd process."]
    table = markdown(results, header)
    print(table)
    if args.out:
        Path(args.out).write_text(table)
    return 0


def venv_python() -> Path:
    return Path(os.environ.get("H5BLOB_PYTHON", CACHE / "venv" / "bin" / "python"))


def ensure_venv() -> None:
    """Re-run under the venv of scripts/setup.sh (h5py, h5pyd, hsds, aiohttp) when started
    by another Python, so `python benches/bench_vol.py` works after setup."""
    try:
        import h5py  # noqa: F401
        import h5pyd  # noqa: F401
        if (VENV_BIN / "hsds").exists():
            return
    except ImportError:
        pass
    python = venv_python()
    if not python.exists() or Path(sys.executable) == python:
        sys.exit(f"bench_vol.py: needs the venv of scripts/setup.sh ({python}); "
                 "run `eval \"$(bash scripts/setup.sh)\"` first")
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


def main(argv: list[str] | None = None) -> int:
    ensure_venv()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["py-reader"]:
        parser = argparse.ArgumentParser(prog="bench_vol.py py-reader")
        parser.add_argument("--kind", choices=("h5pyd", "h5py"), required=True)
        parser.add_argument("--workload", choices=tuple(WORKLOADS), required=True)
        parser.add_argument("--target", required=True, help="domain (h5pyd) or file (h5py)")
        return run_py_reader(parser.parse_args(argv[1:]))

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default=DEFAULT_FILES,
                        help=f"comma-separated corpus files (default {DEFAULT_FILES})")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="latency added per request")
    parser.add_argument("--plugin-dir", type=Path, default=REPO / "target" / "release",
                        help="directory holding libh5blob_vol.so and libh5blob.so")
    parser.add_argument("--readers", default=",".join(READERS),
                        help=f"comma-separated subset of {','.join(READERS)}")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help=f"comma-separated subset of {','.join(WORKLOADS)}")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per reader run")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the median is shown")
    parser.add_argument("--out", help="also write the Markdown table to this file")
    parser.add_argument("--keep-workdir", action="store_true", help="keep HSDS/proxy logs")
    return run_bench(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
