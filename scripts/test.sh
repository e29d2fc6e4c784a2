#!/usr/bin/env bash
# The one test command (`make test`): installs what is missing (scripts/setup.sh), checks
# formatting, lints and the committed header, then runs every test: Rust unit and
# integration tests (each binary starts its own Azurite) and the C tests under CTest
# (against an Azurite and an HSDS started here). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/setup.sh)"
export CARGO_TERM_COLOR=never

step() { printf '\n== %s\n' "$*"; }

step "format, lint, header drift"
cargo fmt --all --check
cargo clippy --all-targets -- -D warnings
tmp=$(mktemp)
cbindgen --quiet --config cbindgen.toml --output "$tmp" .
if ! cmp -s "$tmp" include/h5blob.h; then
  diff -u include/h5blob.h "$tmp" | head -40
  echo "include/h5blob.h differs from what cbindgen generates: regenerate and commit it" >&2
  exit 1
fi
rm -f "$tmp"

step "Rust tests (unit, property, integration against Azurite)"
cargo build --all-targets   # the cdylib h5dump loads is not rebuilt by `cargo test` alone
cargo test --all-targets -- --test-threads=2

step "C tests (CTest)"
source scripts/lib.sh
start_session
start_hsds "$WORK"
export H5BLOB_TEST_ENDPOINT="$AZURITE_ENDPOINT" H5BLOB_TEST_KEY="$AZURITE_KEY"
export H5BLOB_TEST_HS_ENDPOINT="$HSDS_ENDPOINT"
"$H5BLOB_PYTHON" - "$WORK/vec.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    a = np.arange(1_000_000, dtype="f8")
    f.create_dataset("u", data=a, chunks=(10000,))
    f.create_dataset("c", data=a)
PY
"$H5BLOB_PYTHON" scripts/azurite_upload.py --endpoint "$H5BLOB_TEST_ENDPOINT" --container ctest "$WORK/vec.h5" >/dev/null
# Installed as a user would install it (the debug build just made), then the C tests are
# built through find_package(h5blob) exactly as an outside project.
PREFIX="$WORK/prefix"
cmake -S . -B target/cmake -DHDF5_DIR="$HDF5_DIR" -DH5BLOB_CARGO_PROFILE=dev >/dev/null
cmake --build target/cmake >/dev/null
cmake --install target/cmake --prefix "$PREFIX" >/dev/null
rm -rf target/c_tests
cmake -S c_tests -B target/c_tests -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build target/c_tests -j2 >/dev/null
(cd target/c_tests && ctest --output-on-failure)

step "Examples (C, C++ through the CMake package; C# under mono)"
examples/check.sh "$PREFIX" "$WORK" "$WORK/vec.h5"
