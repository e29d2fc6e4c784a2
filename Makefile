# The two commands of the README. Everything they need is installed by scripts/setup.sh.
.PHONY: demo test bench bench-vol install
# `make install PREFIX=<dir>`: release build against $(HDF5_DIR), installed with the CMake
# package (README, "Install").
PREFIX ?= /usr/local
HDF5_DIR ?= $(HOME)/.cache/h5blob/hdf5-1.14.6
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
bench:
	bash -c 'eval "$$(bash scripts/setup.sh)" && cargo build --release && "$$H5BLOB_PYTHON" benches/bench.py --plugin-dir target/release'
bench-vol:
	bash -c 'eval "$$(bash scripts/setup.sh)" && cargo build --release && "$$H5BLOB_PYTHON" benches/bench_vol.py --plugin-dir target/release'
install:
	cmake -S . -B target/cmake-release -DHDF5_DIR="$(HDF5_DIR)" -DH5BLOB_CARGO_PROFILE=release
	cmake --build target/cmake-release
	cmake --install target/cmake-release --prefix "$(PREFIX)"
