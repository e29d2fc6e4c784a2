#!/usr/bin/env bash
# Builds and runs the examples as their users would, and checks what they print. Called
# by scripts/test.sh with an installed h5blob, a running Azurite holding ctest/vec.h5 and
# a running HSDS:
#   examples/check.sh PREFIX WORK VEC_H5
# Needs: HDF5_DIR, H5BLOB_PYTHON, H5BLOB_TEST_ENDPOINT, H5BLOB_TEST_KEY, H5BLOB_TEST_HS_ENDPOINT.
set -euo pipefail
prefix=$(realpath "$1") work=$(realpath "$2") vec=$(realpath "$3")
cd "$(dirname "$0")"
plugins="$prefix/lib/h5blob/plugins"
account=devstoreaccount1

# What the dataset holds, from h5py: the line every example must print.
expected() {
  "$H5BLOB_PYTHON" - "$vec" "$1" <<'PY'
import sys, h5py
v = h5py.File(sys.argv[1], "r")[sys.argv[2]][...].astype(float).ravel().tolist()
s = 0.0
for x in v:
    s += x  # in order, as the examples add
print(len(v), s, *v[:3])
PY
}

# Checks the "<dataset>: N values, sum S, first A B C" line of an example's output.
check_line() {
  local what=$1 out=$2 ds=$3 want
  want=$(expected "$ds")
  "$H5BLOB_PYTHON" - "$what" "$ds" "$want" "$out" <<'PY'
import sys
what, ds, want, out = sys.argv[1:]
want = [float(x) for x in want.split()]
line = next((l for l in out.splitlines() if l.startswith(ds + ": ")), None)
if line is None:
    sys.exit(f"{what}: no '{ds}: ...' line in its output:\n{out}")
words = line.replace(",", " ").split()
got = [float(words[1]), float(words[4])] + [float(w) for w in words[6:]]
if got != want:
    sys.exit(f"{what}: printed {line!r}, expected count, sum, first values {want}")
print(f"{what}: ok ({line})")
PY
}

echo "-- C and C++ examples through find_package(h5blob)"
rm -rf "$work/examples-build"
cmake -S . -B "$work/examples-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/examples-build" -j2 >/dev/null
url="$H5BLOB_TEST_ENDPOINT/ctest/vec.h5"
for exe in read_blob read_blob_cpp; do
  # A bad setting name is an error naming it, with HDF5's error stack, not a crash.
  if err=$("$work/examples-build/$exe" "$url" /u cache_sise=1M 2>&1); then
    echo "$exe accepted an unknown setting" >&2; exit 1
  fi
  grep -q "cache_sise" <<<"$err" || { echo "$exe's error does not name the setting: $err" >&2; exit 1; }
  out=$(HDF5_PLUGIN_PATH="$plugins" "$work/examples-build/$exe" "$url" /u \
        "account=$account" "account_key=$H5BLOB_TEST_KEY")
  check_line "$exe" "$out" /u
done

echo "-- C# example under mono"
mcs -warnaserror -out:"$work/H5BlobExample.exe" dotnet/H5BlobExample.cs
run_cs() {
  LD_LIBRARY_PATH="$prefix/lib:$HDF5_DIR/lib" HDF5_PLUGIN_PATH="$plugins" \
    mono "$work/H5BlobExample.exe" "$@"
}
conn="DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$H5BLOB_TEST_KEY;BlobEndpoint=$H5BLOB_TEST_ENDPOINT"
out=$(run_cs blob "az://ctest/vec.h5" /u "AZURE_STORAGE_CONNECTION_STRING=$conn")
check_line "C# through the Blob VFD" "$out" /u
# The same dataset loaded into HSDS, read through the REST VOL.
domain="/home/admin/examples_vec_$$.h5"
HS_ENDPOINT="$H5BLOB_TEST_HS_ENDPOINT" HS_USERNAME=admin HS_PASSWORD=admin \
  "$(dirname "$H5BLOB_PYTHON")/hsload" "$vec" "$domain"
out=$(run_cs rest "$domain" /u "HS_ENDPOINT=$H5BLOB_TEST_HS_ENDPOINT" HS_USERNAME=admin HS_PASSWORD=admin)
check_line "C# through the REST VOL" "$out" /u
# A wrong password: a clear failure, the password nowhere in the output.
if err=$(run_cs rest "$domain" /u "HS_ENDPOINT=$H5BLOB_TEST_HS_ENDPOINT" HS_USERNAME=admin \
         HS_PASSWORD=not-the-password-42 2>&1); then
  echo "C# example read with a wrong password" >&2; exit 1
fi
grep -q "401" <<<"$err" || { echo "no 401 in the C# example's error: $err" >&2; exit 1; }
! grep -q "not-the-password-42" <<<"$err" || { echo "the password leaked into the error" >&2; exit 1; }
echo "examples: ok"
