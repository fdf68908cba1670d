#!/bin/sh
# Build the wasm32 + simd128 benchmark and run it in Node: first the check of the wasm
# kernels against the exact f64 path, then gradients per second for the default
# two-head [32,16,8] net at N = 40, 150, 500 (median of 5 repeats of ~1 s).
# Usage: benches/wasm/run.sh [seconds per repeat] [kernels, e.g. 0,2]
set -e
cd "$(dirname "$0")"
cargo build --release --target wasm32-unknown-unknown
wasm-bindgen --target nodejs --out-dir pkg target/wasm32-unknown-unknown/release/bayesband_wasm_bench.wasm
node -e "console.log(require('./pkg/bayesband_wasm_bench.js').check())"
node -e "console.log(require('./pkg/bayesband_wasm_bench.js').check_lrt_parts())"
node run.js "${1:-1}" "${2:-0,2}"
