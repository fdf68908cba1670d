#!/bin/sh
# Trunk post_build hook (Trunk.toml): the second worker build, simd128 + relaxed-simd,
# next to Trunk's simd128 worker.js: worker-relaxed.js + worker-relaxed_bg.wasm. The page
# picks it at load when the engine validates a relaxed-SIMD module (src/ui/browser.rs,
# kernel_build), else worker.js. The page build uses one set of target features, so this
# one is its own cargo build with its own target directory (the flags differ: every crate
# is built once more, then incrementally).
set -eu
cd "${TRUNK_SOURCE_DIR:-.}"
out="${TRUNK_STAGING_DIR:?run by trunk}"
if [ "${TRUNK_PROFILE:-debug}" = release ]; then profile=release; dir=release; else profile=dev; dir=debug; fi
RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  cargo build --target wasm32-unknown-unknown --profile "$profile" --bin worker --target-dir target/relaxed
wasm-bindgen --target no-modules --no-typescript --out-dir "$out" --out-name worker-relaxed \
  "target/relaxed/wasm32-unknown-unknown/$dir/worker.wasm"
if [ "$profile" = release ]; then
  # The features rustc's wasm32 target emits, plus the two SIMD sets (as Trunk's -O3 on worker.js).
  wasm-opt -O3 --enable-simd --enable-relaxed-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-multivalue --enable-reference-types \
    -o "$out/worker-relaxed_bg.wasm" "$out/worker-relaxed_bg.wasm"
fi
