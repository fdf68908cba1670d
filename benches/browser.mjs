// Browser benchmark (issue 5): the release build in headless Chromium, default settings
// (NUTS since issue 11; v=5: 2 chains x (100 warm-up + 150 draws), depth 9, extending while the
// chains disagree; VI on bump two-head), per data set: time from Train to the finished
// fit, whole-fit gradients per second in the Web Worker, time from Train to the first
// plot, the main thread's longest gaps while training (a 10 ms setInterval probe; the first
// second after Train and the rest apart; Train is pressed PAUSE_MS after the page is ready), and
// the fit's NLL / coverage against the truth as the page shows them. Median of REPEATS.
// The page runs one worker per chain up to the cores (issue 11): the workers used, the
// main thread's cost of pooling their posts (mean per post / longest) and the megabytes of
// predictions posted, where the page reports them (`bayesbandPoolStats`; '-' before), and
// the machine's load average (1 min) before each case and after it.
//
// Usage: node benches/browser.mjs   (serves dist/ itself; BAYESBAND_URL to use a server;
// ONLY=REGEX runs only the cases whose label matches, e.g. ONLY='nb_exp (noise|custom)';
// EXTRA=QUERY adds settings to every case, e.g. EXTRA='method=nuts&warmup=200&draws=200&max_depth=8&extend=true';
// WORKERS=n runs the page's chains on n workers whatever the cores, 1 as before issue 11)
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { start, open, ROOT } from '../tests/e2e/harness.mjs';

const REPEATS = Number(process.env.REPEATS ?? 3);
const EXTRA = process.env.EXTRA ?? '';
const WORKERS = process.env.WORKERS ? Number(process.env.WORKERS) : null;
const PAUSE_MS = Number(process.env.PAUSE_MS ?? 1500);
const CASES = [
  // [label, query, N, NeuroBayes CPU-s of the same (data set, model)]
  ['nb_exp two-head', 'data=notebook:nb_exp&kind=two_head', 40, 76],
  ['nb_exp noise:exponential', 'data=notebook:nb_exp&kind=noise_model&noise_law=exponential', 40, 73],
  // The same law typed as a formula (issue 13: target within 2x of the preset's fit time).
  ['nb_exp custom a*exp(b*x)', 'data=notebook:nb_exp&kind=noise_model&noise_law=custom&noise_formula=a*exp(b*x)', 40, 73],
  // ... with a positive, as the preset has it (then the priors are the preset's: the same posterior).
  ['nb_exp custom a*exp(b*x) a~positive', 'data=notebook:nb_exp&kind=noise_model&noise_law=custom&noise_formula=a*exp(b*x)&noise_priors=a~positive', 40, 73],
  ['bump two-head', 'data=bump&n=150&dseed=1&kind=two_head', 150, 110],
  // VI against the pSGLD case above (issue 9, item 16: target within 2x of its fit time).
  ['bump two-head, VI', 'data=bump&n=150&dseed=1&kind=two_head&method=vi', 150, null],
  ['bump noise:bump', 'data=bump&n=150&dseed=1&kind=noise_model&noise_law=bump', 150, 111],
  ['linear two-head, N=500', 'data=linear&n=500&dseed=1&kind=two_head', 500, null],
];

const gaps = (runs, i) => {
  const v = runs.map((r) => r.gap[i]).filter((g) => g !== null);
  return v.length ? `${median(v).toFixed(0)} / ${Math.max(...v).toFixed(0)}` : '-';
};
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function serve() {
  if (process.env.BAYESBAND_URL) return { url: process.env.BAYESBAND_URL, stop: () => {} };
  const port = 20000 + Math.floor(Math.random() * 20000);
  const p = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', join(ROOT, 'dist')], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    try { await fetch(`http://127.0.0.1:${port}/`); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  return { url: `http://127.0.0.1:${port}/`, stop: () => p.kill() };
}

async function once(context, base, query) {
  const page = await open(context, query, base);
  // A user reads the page before pressing Train; the worker rehearses meanwhile.
  await page.waitForTimeout(PAUSE_MS);
  await page.evaluate(() => {
    window.__gap = [0, null]; // longest gap in the first second after Train, and after it (null: the fit ended within the second)
    let last = performance.now();
    window.__probe = setInterval(() => {
      const t = performance.now();
      const i = window.__click !== undefined && t - window.__click > 1000 ? 1 : 0;
      window.__gap[i] = Math.max(window.__gap[i] ?? 0, t - last);
      last = t;
    }, 10);
  });
  await page.evaluate(() => { window.__click = performance.now(); });
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('#status')?.dataset.state === 'finished', null, { timeout: 300_000 });
  const secs = (Date.now() - t0) / 1000;
  const out = await page.evaluate(() => {
    clearInterval(window.__probe);
    const st = document.querySelector('#status');
    const cell = (name) => [...document.querySelectorAll('.metrics tr')].find((tr) => tr.querySelector('th')?.textContent === name)?.querySelector('td')?.textContent;
    const pool = window.bayesbandPoolStats ? JSON.parse(window.bayesbandPoolStats()) : null;
    return { gap: window.__gap, firstPlot: Number(st.dataset.firstPlotMs), steps: Number(st.dataset.step), nll: cell('NLL'), cov: cell('Coverage (95%)'), pool };
  });
  await page.close();
  return { secs, ...out };
}

const { url, stop } = await serve();
const { context, close } = await start();
if (WORKERS) await context.addInitScript((n) => { window.bayesbandWorkers = n; }, WORKERS);
try {
  const dist = join(ROOT, 'dist');
  console.log(`machine: ${cpus()[0].model}, ${cpus().length} cores; Chromium headless; ${new Date().toISOString().slice(0, 10)}`);
  for (const f of readdirSync(dist).filter((f) => f.endsWith('.wasm'))) {
    const b = readFileSync(join(dist, f));
    console.log(`  ${f.padEnd(34)} ${(statSync(join(dist, f)).size / 1024).toFixed(0).padStart(6)} KB  ${(gzipSync(b, { level: 9 }).length / 1024).toFixed(0).padStart(5)} KB gzip`);
  }
  console.log(`median of ${REPEATS} runs (gaps: median / max), default settings (NUTS, 2 chains x (100 warm-up + 150 draws), depth 9, extend; VI where the case says), Train ${PAUSE_MS} ms after the page is ready`);
  if (EXTRA) console.log(`every case with ${EXTRA} (grad/s counts the status line's steps: NUTS's are draws)`);
  if (WORKERS) console.log(`on ${WORKERS} worker(s) (window.bayesbandWorkers)`);
  console.log('case                                  N   fit s  grad/s  first plot ms  gap 1st s ms  gap later ms  NLL     cov95   NB CPU-s / fit s  workers  pool ms/post (max)  posted MB  load before/after');
  const only = process.env.ONLY ? new RegExp(process.env.ONLY) : null;
  for (const [label, query, n, nb] of CASES.filter((c) => !only || only.test(c[0]))) {
    const runs = [];
    const load0 = loadavg()[0];
    for (let r = 0; r < REPEATS; r++) runs.push(await once(context, url, EXTRA ? `${query}&${EXTRA}` : query));
    const pools = runs.map((r) => r.pool).filter((p) => p && p.posts > 0);
    const pool = pools.length
      ? `${String(pools[0].workers).padStart(7)}  ${median(pools.map((p) => p.ms / p.posts)).toFixed(2).padStart(8)} (${Math.max(...pools.map((p) => p.maxMs)).toFixed(1)})`.padEnd(29) +
        `${median(pools.map((p) => (8 * p.values) / 1e6)).toFixed(2).padStart(9)}`
      : `${'-'.padStart(7)}  ${'-'.padStart(8)}`.padEnd(29) + `${'-'.padStart(9)}`;
    const secs = median(runs.map((r) => r.secs));
    const grads = (2 * median(runs.map((r) => r.steps))) / secs;
    const last = runs[runs.length - 1];
    console.log(
      `${label.padEnd(36)} ${String(n).padStart(3)} ${secs.toFixed(2).padStart(7)} ${Math.round(grads).toString().padStart(7)}` +
      ` ${median(runs.map((r) => r.firstPlot)).toFixed(0).padStart(14)} ${gaps(runs, 0).padStart(13)} ${gaps(runs, 1).padStart(13)}` +
      `  ${String(last.nll).padEnd(7)} ${String(last.cov).padEnd(7)} ${(nb ? (nb / secs).toFixed(0) + 'x' : '-').padEnd(17)} ${pool}  ${load0.toFixed(1)} / ${loadavg()[0].toFixed(1)}`,
    );
  }
} finally {
  await close();
  stop();
}
