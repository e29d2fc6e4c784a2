#!/usr/bin/env bash
# `make demo`: sets everything up, starts Azurite, uploads a sample HDF5 file, reads it
# with HDF5's own h5ls/h5dump through the Blob VFD, and prints request statistics.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/setup.sh)"
cargo build --release --quiet
export HDF5_PLUGIN_PATH="$PWD/target/release"

source scripts/lib.sh
start_session
endpoint=$AZURITE_ENDPOINT
key=$AZURITE_KEY

echo "== Azurite at $endpoint; making and uploading a sample file"
"$H5BLOB_PYTHON" tests/data/make_corpus.py "$WORK" >/dev/null
"$H5BLOB_PYTHON" scripts/azurite_upload.py --endpoint "$endpoint" --container demo "$WORK/scattered.h5" "$WORK/groups_attrs.h5"

# The environment a user would set (Azure tools' names), then HDF5's own tools.
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=$endpoint"
export H5BLOB_STATS=1

echo; echo "== HDF5_DRIVER=blob h5ls -r az://demo/scattered.h5 (first lines)"
HDF5_DRIVER=blob h5ls -r az://demo/scattered.h5 >"$WORK/ls.txt"
head -8 "$WORK/ls.txt"

echo; echo "== h5dump -H --vfd-name=blob az://demo/groups_attrs.h5 (first lines)"
h5dump -H --vfd-name=blob az://demo/groups_attrs.h5 >"$WORK/dump.txt"
head -12 "$WORK/dump.txt"

echo; echo "== h5dump of one dataset, with the account and endpoint given as --vfd-info"
env -u AZURE_STORAGE_CONNECTION_STRING h5dump --vfd-name=blob \
  --vfd-info="account=devstoreaccount1;account_key=$key;endpoint=$endpoint" \
  -d /run0/dset_00 -s 0,0 -c 2,4 az://demo/scattered.h5

echo; echo "== A missing blob: the reason is printed, the exit status is non-zero"
if h5dump -H --vfd-name=blob az://demo/nope.h5 >/dev/null; then echo "unexpected success"; exit 1; fi

echo; echo "Each 'h5blob:' line above is the per-file statistics printed at close (H5BLOB_STATS=1)."
