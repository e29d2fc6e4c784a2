#!/usr/bin/env bash
# Installs everything h5blob builds and tests against, idempotently:
#   - Debian build tools (cmake, libclang-dev for bindgen, zlib, curl/ssl for ROS3)
#   - HDF5 built from Debian's source package, installed under $H5BLOB_CACHE/hdf5-<ver>
#   - Azurite from npm under $H5BLOB_CACHE/azurite-<ver>
#   - a Python venv with h5py/adlfs/fsspec (test files, benchmark peers), hsds and h5pyd
# Heavy outputs live outside the clone, keyed by version, so reruns take seconds.
# Prints `export` lines for the environment at the end (eval-able with --env).
set -euo pipefail

HDF5_VERSION="${HDF5_VERSION:-1.14.6}"
# Debian suites searched for a source package of that upstream version. Checked
# 2026-11: trixie has 1.14.5, sid has 1.14.6 and 2.2.0; which suite holds which version
# moves over time, so the script picks the first source version matching HDF5_VERSION.
HDF5_SUITES="trixie forky sid"
AZURITE_VERSION="${AZURITE_VERSION:-3.35.0}"
CBINDGEN_VERSION=0.29.2
CACHE="${H5BLOB_CACHE:-$HOME/.cache/h5blob}"
HDF5_PREFIX="$CACHE/hdf5-$HDF5_VERSION"
AZURITE_PREFIX="$CACHE/azurite-$AZURITE_VERSION"
VENV="$CACHE/venv"
mkdir -p "$CACHE"

log() { printf '[setup] %s\n' "$*" >&2; }

need_apt=()
for pkg in cmake libclang-dev clang g++ zlib1g-dev libcurl4-openssl-dev libssl-dev dpkg-dev pkg-config curl mono-mcs mono-runtime; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done

add_deb_src() {
  # Copy the URI of the machine's own Debian archive entry; never name a host here.
  local list=/etc/apt/sources.list.d/h5blob-src.sources
  [ -f "$list" ] && grep -q "Suites: $HDF5_SUITES" "$list" && return 0
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^(https?|file):/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { log "cannot find a Debian apt source to copy the URI from"; exit 1; }
  log "adding deb-src entries for suites $HDF5_SUITES"
  cat > "$list" <<SRC
Types: deb-src
URIs: $uri
Suites: $HDF5_SUITES
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  APT_UPDATED=""
}

APT_UPDATED=""
apt_update() { [ -n "$APT_UPDATED" ] || { log "apt-get update"; apt-get update -qq >&2; APT_UPDATED=1; }; }

if [ ${#need_apt[@]} -gt 0 ]; then
  apt_update
  log "installing ${need_apt[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

build_hdf5() {
  [ -x "$HDF5_PREFIX/bin/h5dump" ] && [ -f "$HDF5_PREFIX/include/H5FDdevelop.h" ] && return 0
  add_deb_src
  apt_update
  local work; work=$(mktemp -d "$CACHE/hdf5-build.XXXXXX")
  local srcver
  srcver=$(apt-cache showsrc hdf5 | awk -v v="$HDF5_VERSION" '/^Version:/ && index($2, v"+")==1 {print $2; exit}')
  [ -n "$srcver" ] || { log "no Debian source package of HDF5 $HDF5_VERSION in suites $HDF5_SUITES"; exit 1; }
  log "fetching HDF5 source package $srcver"
  (cd "$work" && apt-get source -qq --download-only "hdf5=$srcver" >&2 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
  local orig; orig=$(ls "$work"/hdf5_"$HDF5_VERSION"*.orig.tar.* 2>/dev/null | head -1)
  [ -n "$orig" ] || { log "source package does not carry HDF5 $HDF5_VERSION: $(ls "$work")"; exit 1; }
  mkdir -p "$work/src" && tar -xf "$orig" -C "$work/src" --strip-components=1
  log "building HDF5 $HDF5_VERSION (a few minutes)"
  cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$HDF5_PREFIX" \
    -DBUILD_SHARED_LIBS=ON -DBUILD_STATIC_LIBS=OFF -DBUILD_TESTING=OFF -DHDF5_BUILD_EXAMPLES=OFF \
    -DHDF5_BUILD_TOOLS=ON -DHDF5_BUILD_HL_LIB=ON -DHDF5_BUILD_FORTRAN=OFF -DHDF5_BUILD_CPP_LIB=OFF \
    -DHDF5_BUILD_JAVA=OFF -DHDF5_ENABLE_Z_LIB_SUPPORT=ON -DHDF5_ENABLE_ROS3_VFD=ON \
    -DHDF5_ENABLE_SZIP_SUPPORT=OFF >"$work/cmake.log" 2>&1 || { tail -40 "$work/cmake.log" >&2; exit 1; }
  cmake --build "$work/build" -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
  cmake --install "$work/build" >"$work/install.log" 2>&1 || { tail -20 "$work/install.log" >&2; exit 1; }
  rm -rf "$work"
  log "HDF5 installed in $HDF5_PREFIX"
}

install_azurite() {
  [ -x "$AZURITE_PREFIX/node_modules/.bin/azurite-blob" ] && return 0
  log "installing azurite $AZURITE_VERSION"
  mkdir -p "$AZURITE_PREFIX"
  npm install --silent --no-audit --no-fund --prefix "$AZURITE_PREFIX" "azurite@$AZURITE_VERSION" >&2
}

install_venv() {
  [ -f "$VENV/.ok-3" ] && return 0
  log "creating Python venv: h5py for test files, adlfs/fsspec as benchmark peers, HSDS and h5pyd"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check h5py numpy adlfs fsspec aiohttp requests hsds h5pyd >&2
  touch "$VENV/.ok-3"
}

install_cbindgen() {
  # Pinned: the committed header must match what this version generates.
  cbindgen --version 2>/dev/null | grep -q "^cbindgen $CBINDGEN_VERSION\$" && return 0
  log "installing cbindgen $CBINDGEN_VERSION"
  cargo install --quiet --locked cbindgen --version "$CBINDGEN_VERSION" >&2
}

build_hdf5
install_azurite
install_venv
install_cbindgen

cat <<ENV
export HDF5_DIR="$HDF5_PREFIX"
export H5BLOB_AZURITE="$AZURITE_PREFIX/node_modules/.bin/azurite-blob"
export H5BLOB_PYTHON="$VENV/bin/python"
export PATH="$HDF5_PREFIX/bin:$HOME/.cargo/bin:\$PATH"
export LD_LIBRARY_PATH="$HDF5_PREFIX/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
ENV
