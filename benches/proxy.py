#!/usr/bin/env python3
"""Counting, delaying HTTP reverse proxy for benchmarking remote HDF5 readers.

Usage:
  proxy.py --listen-port P --upstream http://127.0.0.1:Q [--delay-ms 20] [--stats-file F]
  proxy.py --listen-port P --upstream-unix /path/to/sn_1.sock [...]

With --upstream-unix the upstream is an HTTP server on a Unix socket (HSDS started with
--socket_dir); the proxy still listens on TCP loopback, so clients that cannot reach a
socket (or that should be measured over TCP) talk to it at http://127.0.0.1:P.

Every request is forwarded to the upstream unchanged: method, raw path and query (not
re-encoded), headers (Range, x-ms-range, If-Match, Authorization, x-ms-*, ...) and body.
Only hop-by-hop headers are dropped and Host is rewritten to the upstream's. Azure
shared-key signatures cover the path and headers but not the host, so signed requests
stay valid. Responses are streamed back as they arrive.

Each request waits --delay-ms before it is forwarded, emulating network latency; the
wait is per request and requests run concurrently, so parallel readers gain from
parallelism exactly as they would against a distant server.

Counters (requests, response body bytes, per-method and per-status counts) are served
as JSON by `GET /__stats` and cleared by `POST /__reset`; neither is counted nor
forwarded. On SIGTERM or SIGINT the counters are written to --stats-file and the proxy
exits. The proxy only ever listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

# RFC 9110 section 7.6.1 connection-specific headers, plus the ones aiohttp manages.
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade",
}
# Handled between client and proxy (aiohttp answers "100 Continue" itself); forwarding
# it would make the upstream wait for a body the proxy already streams. Not signed.
REQUEST_ONLY = {"expect"}
STREAM_CHUNK = 256 * 1024


class Stats:
    """Request/byte counters for one measurement window."""

    def __init__(self) -> None:
        self.requests = 0
        self.response_bytes = 0
        self.request_bytes = 0
        self.errors = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.by_method: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()
        self.since = time.time()

    def as_dict(self) -> dict:
        return {
            "requests": self.requests,
            "response_bytes": self.response_bytes,
            "request_bytes": self.request_bytes,
            "errors": self.errors,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "by_method": dict(self.by_method),
            "by_status": dict(self.by_status),
            "since": self.since,
            "seconds": round(time.time() - self.since, 3),
        }


class Proxy:
    def __init__(self, upstream: str, delay_s: float, unix_socket: str | None = None) -> None:
        # For a Unix-socket upstream the URL only supplies the Host header and the path root.
        self.upstream = URL(upstream.rstrip("/"))
        self.unix_socket = unix_socket
        self.delay_s = delay_s
        self.stats = Stats()
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self.unix_socket:
            connector = aiohttp.UnixConnector(path=self.unix_socket, limit=0, force_close=False)
        else:
            connector = aiohttp.TCPConnector(limit=0, force_close=False)
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=600),
            auto_decompress=False,      # pass bodies through byte for byte
            cookie_jar=aiohttp.DummyCookieJar(),
            # Do not let the client invent headers the original request did not carry:
            # Content-Type in particular is part of the shared-key signature.
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    def upstream_url(self, request: web.BaseRequest) -> URL:
        # raw_path is the request target exactly as received (path + query, still
        # percent-encoded); encoded=True stops yarl from normalising it.
        return URL(str(self.upstream) + request.raw_path, encoded=True)

    def upstream_headers(self, request: web.BaseRequest) -> CIMultiDict:
        connection_tokens = {
            token.strip().lower()
            for value in request.headers.getall("Connection", [])
            for token in value.split(",")
        }
        headers = CIMultiDict()
        for name, value in request.headers.items():
            lower = name.lower()
            # Content-Length is kept: the body is streamed through unchanged, and Azure
            # requires (and signs) the length. Without it aiohttp sends chunked.
            if lower in HOP_BY_HOP or lower in REQUEST_ONLY or lower in connection_tokens \
                    or lower == "host":
                continue
            headers.add(name, value)
        headers["Host"] = self.upstream.raw_authority
        return headers

    @staticmethod
    def response_headers(upstream: aiohttp.ClientResponse) -> CIMultiDict:
        headers = CIMultiDict()
        for name, value in upstream.headers.items():
            if name.lower() in HOP_BY_HOP:
                continue
            headers.add(name, value)
        return headers

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path == "/__stats" and request.method == "GET":
            return web.json_response(self.stats.as_dict())
        if request.path == "/__reset" and request.method == "POST":
            self.stats = Stats()  # requests still in flight finish in the old window
            return web.json_response({"ok": True})

        stats = self.stats  # a reset while this request runs must not mix windows
        stats.requests += 1
        stats.by_method[request.method] += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            return await self.forward(request, stats)
        finally:
            stats.in_flight -= 1

    @staticmethod
    async def counted_body(request: web.BaseRequest, stats: Stats):
        async for chunk in request.content.iter_chunked(STREAM_CHUNK):
            stats.request_bytes += len(chunk)
            yield chunk

    async def forward(self, request: web.BaseRequest, stats: Stats) -> web.StreamResponse:
        body = None
        if request.headers.get("Expect", "").lower() == "100-continue":
            # web.Server (unlike web.Application) does not answer Expect itself.
            await request.writer.write(b"HTTP/%d.%d 100 Continue\r\n\r\n" % request.version)
        if request.body_exists:
            body = self.counted_body(request, stats)  # streamed, never buffered whole
        elif "Content-Length" in request.headers:
            body = b""  # keep an explicit "Content-Length: 0" (e.g. create-container PUT)
        if self.delay_s > 0:
            await asyncio.sleep(self.delay_s)

        assert self.session is not None
        try:
            upstream = await self.session.request(
                request.method, self.upstream_url(request),
                headers=self.upstream_headers(request), data=body,
                allow_redirects=False, compress=None,
            )
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            stats.errors += 1
            stats.by_status["502"] += 1
            return web.Response(status=502, text=f"proxy: upstream request failed: {exc!r}\n")

        async with upstream:
            stats.by_status[str(upstream.status)] += 1
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason,
                                          headers=self.response_headers(upstream))
            length = upstream.headers.get("Content-Length")
            if length is None and request.method != "HEAD" and upstream.status not in (204, 304):
                response.enable_chunked_encoding()
            await response.prepare(request)
            if request.method == "HEAD":
                await response.write_eof()
                return response
            try:
                async for chunk in upstream.content.iter_chunked(STREAM_CHUNK):
                    await response.write(chunk)
                    stats.response_bytes += len(chunk)
                await response.write_eof()
            except asyncio.CancelledError:
                stats.errors += 1
                raise
            except (ConnectionResetError, aiohttp.ClientError):
                # The client went away (e.g. a reader that hangs up once it has enough
                # bytes) or the upstream broke off mid-body: count it, drop the connection.
                stats.errors += 1
                if request.transport is not None:
                    request.transport.close()
            return response


async def serve(args: argparse.Namespace) -> None:
    proxy = Proxy(args.upstream, args.delay_ms / 1000.0, args.upstream_unix)
    await proxy.start()
    server = web.Server(proxy.handle, access_log=None)
    runner = web.ServerRunner(server, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.listen_port, backlog=1024)
    await site.start()
    target = f"unix:{args.upstream_unix}" if args.upstream_unix else args.upstream
    print(f"proxy: 127.0.0.1:{args.listen_port} -> {target} "
          f"(delay {args.delay_ms} ms)", file=sys.stderr, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()

    if args.stats_file:
        Path(args.stats_file).write_text(json.dumps(proxy.stats.as_dict(), indent=1) + "\n")
    await runner.cleanup()
    await proxy.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen-port", type=int, required=True)
    upstream = parser.add_mutually_exclusive_group(required=True)
    upstream.add_argument("--upstream", help="e.g. http://127.0.0.1:10000")
    upstream.add_argument("--upstream-unix", metavar="SOCKET",
                          help="HTTP server on this Unix socket (e.g. HSDS's sn_1.sock)")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="added latency per request")
    parser.add_argument("--stats-file", help="where to write the counters on SIGTERM")
    args = parser.parse_args(argv)
    if args.upstream_unix:
        args.upstream = "http://localhost"
    host = URL(args.upstream).host
    if host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the upstream must be on this machine (127.0.0.1)")
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
