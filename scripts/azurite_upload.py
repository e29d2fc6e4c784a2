#!/usr/bin/env python3
"""Upload files to an Azurite blob container as block blobs.

Usage:
  azurite_upload.py --endpoint http://127.0.0.1:P/devstoreaccount1 --container NAME
                    [--public] [--name-prefix PFX] FILE...

Creates the container if it is missing. With --public the container allows anonymous
reads of blobs (needed by HDF5's ROS3 driver and fsspec's HTTP filesystem, which read
without credentials); an existing container is switched to public access as well.
Each file becomes the block blob PFX + basename(FILE), replacing any existing blob.
Large files are uploaded in 8 MiB blocks, 4 at a time.

Authenticates with Azurite's well-known development account key through a connection
string; this is only meant for a local emulator.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient, PublicAccess

ACCOUNT = "devstoreaccount1"
# Azurite's documented, publicly known development key (not a secret).
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
               "K1SZFPTOtr/KBHBeksoGMGw==")
BLOCK_SIZE = 8 << 20


def connection_string(endpoint: str) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};"
            f"AccountKey={ACCOUNT_KEY};BlobEndpoint={endpoint.rstrip('/')};")


def ensure_container(service: BlobServiceClient, name: str, public: bool):
    container = service.get_container_client(name)
    access = PublicAccess.BLOB if public else None
    try:
        container.create_container(public_access=access)
    except ResourceExistsError:
        if public:
            container.set_container_access_policy(signed_identifiers={}, public_access=access)
    return container


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True,
                        help="blob endpoint incl. account, e.g. http://127.0.0.1:10000/devstoreaccount1")
    parser.add_argument("--container", required=True)
    parser.add_argument("--public", action="store_true", help="allow anonymous blob reads")
    parser.add_argument("--name-prefix", default="", help="prefix for blob names")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)

    service = BlobServiceClient.from_connection_string(
        connection_string(args.endpoint),
        max_block_size=BLOCK_SIZE,
        max_single_put_size=BLOCK_SIZE,
        connection_timeout=30,
        read_timeout=600,
    )
    container = ensure_container(service, args.container, args.public)
    for path in args.files:
        name = args.name_prefix + path.name
        size = path.stat().st_size
        started = time.monotonic()
        with path.open("rb") as data:
            container.upload_blob(name, data, length=size, blob_type="BlockBlob",
                                  overwrite=True, max_concurrency=4)
        took = time.monotonic() - started
        print(f"{args.endpoint.rstrip('/')}/{args.container}/{name}  {size} bytes  {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
