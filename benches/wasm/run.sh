#!/bin/sh
# Build the wasm32 benchmark twice, simd128 and simd128 + relaxed-simd (the two worker
# builds), and run them in Node: first each build's check of its wasm kernels against
# the exact f64 path, then gradients per second for the default two-head [32,16,8] net
# at N = 40, 150, 500 (median of 5 repeats of ~1 s): the simd128 fast kernel, the
# relaxed-SIMD fast kernel, then the other kernels asked for in the simd128 build.
# Node 20's V8 runs relaxed SIMD behind --experimental-wasm-relaxed-simd (Chromium
# since 114 without a flag). RELAXED=0 skips the second build.
# Usage: benches/wasm/run.sh [seconds per repeat] [kernels, e.g. 0,2]
set -e
cd "$(dirname "$0")"
kernels="${2:-0,2}"
cargo build --release --target wasm32-unknown-unknown
wasm-bindgen --target nodejs --out-dir pkg target/wasm32-unknown-unknown/release/bayesband_wasm_bench.wasm
node -e "console.log(require('./pkg/bayesband_wasm_bench.js').check())"
node -e "console.log(require('./pkg/bayesband_wasm_bench.js').check_lrt_parts())"
node -e "console.log(require('./pkg/bayesband_wasm_bench.js').check_loglik())"
if [ "${RELAXED:-1}" != 0 ]; then
  # Its own target directory: the flags differ, so every crate is built again once.
  RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
    cargo build --release --target wasm32-unknown-unknown --target-dir target-relaxed
  wasm-bindgen --target nodejs --out-dir pkg-relaxed target-relaxed/wasm32-unknown-unknown/release/bayesband_wasm_bench.wasm
  node --experimental-wasm-relaxed-simd -e "console.log(require('./pkg-relaxed/bayesband_wasm_bench.js').check())"
  node --experimental-wasm-relaxed-simd -e "console.log(require('./pkg-relaxed/bayesband_wasm_bench.js').check_lrt_parts())"
  node --experimental-wasm-relaxed-simd -e "console.log(require('./pkg-relaxed/bayesband_wasm_bench.js').check_loglik())"
fi
case ",$kernels," in *,0,*) node run.js "${1:-1}" 0 ./pkg ;; esac
case ",$kernels," in *,0,*) [ "${RELAXED:-1}" = 0 ] || node --experimental-wasm-relaxed-simd run.js "${1:-1}" 0 ./pkg-relaxed ;; esac
rest=$(echo "$kernels" | tr ',' '\n' | grep -v '^0$' | paste -sd, -)
[ -z "$rest" ] || node run.js "${1:-1}" "$rest" ./pkg
