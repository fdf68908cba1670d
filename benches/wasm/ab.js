// Interleaved A/B of wasm bench builds: node ab.js PKG_DIR_A PKG_DIR_B ... (wasm-bindgen
// --target nodejs output dirs of benches/wasm, e.g. two copies of pkg-relaxed built from two
// commits; relaxed builds need node --experimental-wasm-relaxed-simd). For N = 40, 150, 500
// each build's fast kernel runs ~0.2 s in turn, 21 rounds, so the VM's drift (+-20% within an
// hour here) hits every build alike; prints min and median us per full-batch gradient and the
// median's gradients per second.
const { performance } = require('perf_hooks');
const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: node ab.js PKG_DIR [PKG_DIR...]');
  process.exit(2);
}
const pk = dirs.map((d) => require(require('path').resolve(d) + '/bayesband_wasm_bench.js'));
console.log(`node ${process.version}, ${require('os').cpus()[0].model}, load average ${require('os').loadavg().map((v) => v.toFixed(2)).join(' ')}`);
for (const n of [40, 150, 500]) {
  const calls = Math.round(2e5 / n);
  const b = pk.map((m) => { const x = new m.Bench(n, 0); x.run(calls); return x; });
  const res = pk.map(() => []);
  for (let r = 0; r < 21; r++) b.forEach((x, i) => { const t = performance.now(); x.run(calls); res[i].push((performance.now() - t) * 1000 / calls); });
  res.forEach((v, i) => { v.sort((a, c) => a - c); console.log(`N=${n} ${dirs[i]}: min ${v[0].toFixed(2)} med ${v[10].toFixed(2)} us -> ${(1e6 / v[10]).toFixed(0)} grad/s`); });
}
