# The two commands of the README. Everything they need is installed by scripts/setup.sh.
.PHONY: demo test bench bench-vol
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
bench:
	bash -c 'eval "$$(bash scripts/setup.sh)" && cargo build --release && "$$H5BLOB_PYTHON" benches/bench.py --plugin-dir target/release'
bench-vol:
	bash -c 'eval "$$(bash scripts/setup.sh)" && cargo build --release && "$$H5BLOB_PYTHON" benches/bench_vol.py --plugin-dir target/release'
