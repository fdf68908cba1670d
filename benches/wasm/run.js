// Gradient throughput of a wasm build: node run.js [seconds per repeat] [kernels: 0 fast, 1 precise, 2 reference] [package dir, ./pkg]
// Prints the median of 5 repeats (wall and process CPU time) and the ratio to NeuroBayes.
const { Bench } = require(`${process.argv[4] || './pkg'}/bayesband_wasm_bench.js`);
const { performance } = require('perf_hooks');
const NB = { 40: 27000, 150: 18500, 500: 9200 };
const t0 = process.cpuUsage();
console.log(`node ${process.version}, ${require('os').cpus()[0].model}, load average ${require('os').loadavg().map((v) => v.toFixed(2)).join(' ')}`);
const secs = Number(process.argv[2] || 1.0);
for (const kernel of (process.argv[3] || '0').split(',').map(Number)) {
  for (const n of [40, 150, 500]) {
    const b = new Bench(n, kernel);
    if (n === 40) console.log(b.describe());
    let calls = 16;
    for (;;) { const t = performance.now(); b.run(calls); const dt = (performance.now() - t) / 1000; if (dt > 0.1 * secs) { calls = Math.ceil(calls * secs / dt); break; } calls *= 4; }
    const rates = [];
    const cr = [];
    for (let r = 0; r < 5; r++) { const c = process.cpuUsage(); const t = performance.now(); b.run(calls); rates.push(calls / ((performance.now() - t) / 1000)); const d = process.cpuUsage(c); cr.push(calls / ((d.user + d.system) / 1e6)); }
    rates.sort((a, b) => a - b); cr.sort((a, b) => a - b);
    const m = rates[2], mc = cr[2];
    console.log(`N=${n}\t${m.toFixed(0)} grad/s wall\t${(1e6 / m).toFixed(2)} us\tratio ${(m / NB[n]).toFixed(2)}x\t${mc.toFixed(0)} grad/CPU-s\tCPU ratio ${(mc / NB[n]).toFixed(2)}x`);
  }
}
