// Training in the worker: every model trains and draws its bands, Pause/Resume,
// Step, keyboard shortcuts, a responsive main thread, and worker-crash recovery.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, open, external, status, waitForState, waitForFinish, waitForStep, pixelCounts, BASE, MAIN, BAND_COLOURS, SHOTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => {
  assert.deepEqual(external(env.log), [], 'no request leaves 127.0.0.1');
  await env.close();
});

const bandColours = BAND_COLOURS;

for (const [value, label] of [['homoskedastic', 'homoskedastic'], ['two_head', 'two-head'], ['noise_model', 'noise model']]) {
  test(`the ${label} model trains with the default method and draws its mean and bands`, async () => {
    const page = await open(env.context, `steps=3000`);
    await page.getByLabel('Model', { exact: true }).selectOption(value);
    const before = await pixelCounts(page, MAIN, bandColours);
    assert.equal(before.mean, 0, 'no mean before training');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await waitForFinish(page, 90_000);
    const px = await pixelCounts(page, MAIN, bandColours);
    assert.ok(px.mean > 300, `mean line drawn (${px.mean} px)`);
    // Where the noise dominates, the total band hides under the aleatoric one.
    assert.ok(px.total > 100 && px.total + px.aleatoric > 1500, `total band drawn (${px.total} px)`);
    assert.ok(px.aleatoric > 300, `aleatoric band drawn (${px.aleatoric} px)`);
    assert.ok(px.epistemic > 100, `epistemic band drawn (${px.epistemic} px)`);
    const s = await status(page);
    assert.match(s.text, /Finished/);
    assert.match(s.text, /draws kept/);
    await page.screenshot({ path: join(SHOTS, `trained-${value}-1280.png`) });
    assert.deepEqual(env.log.errors, []);
    await page.close();
  });
}

test('Pause stops progress, Resume continues, Step advances while paused', async () => {
  const page = await open(env.context, 'steps=200000');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForStep(page, 1);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.getByRole('button', { name: 'Resume', exact: true }).waitFor();
  await page.waitForTimeout(300); // let the last in-flight snapshot land
  const paused = (await status(page)).step;
  await page.waitForTimeout(700);
  assert.equal((await status(page)).step, paused, 'no progress while paused');
  assert.equal((await status(page)).state, 'paused');
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  await waitForStep(page, paused + 100, 10_000);
  const stepped = (await status(page)).step;
  assert.equal(stepped, paused + 100, 'Step advances exactly 100 steps');
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await waitForStep(page, stepped + 200, 20_000);
  assert.equal((await status(page)).state, 'running');
  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await waitForState(page, 'idle');
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('keyboard: Space pauses and resumes, S steps, R resets; not while typing', async () => {
  const page = await open(env.context, 'steps=200000');
  await page.locator('body').click({ position: { x: 5, y: 500 } });
  await page.keyboard.press('Space');
  await waitForStep(page, 1);
  await page.keyboard.press('Space');
  await waitForState(page, 'paused');
  await page.waitForTimeout(300);
  const paused = (await status(page)).step;
  await page.keyboard.press('s');
  await waitForStep(page, paused + 100, 10_000);
  // Typing into a field does not trigger shortcuts.
  await page.getByLabel('Hidden widths').focus();
  await page.keyboard.press('r');
  assert.equal((await status(page)).state, 'paused');
  await page.locator('body').click({ position: { x: 5, y: 500 } });
  await page.keyboard.press('r');
  await waitForState(page, 'idle');
  await page.close();
});

test('the main thread keeps responding while the worker trains', async () => {
  // A setInterval probe: its longest gap while training, against the same probe on
  // the idle page first, so a loaded CI machine (the OS starving the browser) does
  // not fail the test; what is asserted is that training adds no long stall.
  // From the first Train on a fresh page: the app pays its one-off costs (wasm code
  // compiled on first use, font lookups for the result panels) at load, not here.
  const page = await open(env.context, 'steps=200000');
  const probe = async (ms) => page.evaluate((ms) => new Promise((done) => {
    const gaps = [];
    let last = performance.now();
    const id = setInterval(() => { const t = performance.now(); gaps.push(t - last); last = t; }, 20);
    setTimeout(() => { clearInterval(id); done(Math.max(...gaps)); }, ms);
  }), ms);
  const idle = await probe(1500);
  const during = probe(3000);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const training = await during;
  await waitForStep(page, 1);
  const first = await page.locator('#status').getAttribute('data-first-plot-ms');
  console.log(`# longest main-thread gap: ${training.toFixed(1)} ms while training, ${idle.toFixed(1)} ms idle; first plot after ${first} ms`);
  const bound = 250 + Math.max(0, idle - 20);
  assert.ok(training < bound, `longest gap ${training.toFixed(1)} ms (bound ${bound.toFixed(0)} ms)`);
  assert.equal((await status(page)).state, 'running');
  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await page.close();
});

test('a worker panic shows an alert and Train works again without a reload', async () => {
  const page = await open(env.context, 'steps=3000');
  await page.evaluate(() => window.bayesbandTestPanic());
  await page.getByRole('alert').filter({ hasText: 'worker crashed' }).waitFor();
  // The panic is logged by the dead worker; it is expected here.
  env.log.errors.length = 0;
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  await page.close();
});

test('the step size changes live; other changes ask for a restart', async () => {
  const page = await open(env.context, 'steps=400000');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForStep(page, 1);
  await page.getByLabel(/^Step size/).fill('0.0003');
  await page.getByLabel(/^Step size/).press('Enter');
  await page.waitForTimeout(200);
  assert.equal(await page.getByRole('note').count(), 0, 'no restart needed for the step size');
  assert.equal((await status(page)).state, 'running');
  await page.getByLabel('Hidden widths').fill('16,8');
  await page.getByLabel('Hidden widths').press('Enter');
  await page.getByRole('note').filter({ hasText: 'hidden' }).waitFor();
  await page.getByRole('button', { name: 'Restart with the new settings' }).click();
  await page.waitForFunction(() => !document.querySelector('[role=note]'));
  assert.equal((await status(page)).state, 'running');
  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await page.close();
});

test('a diverging fit stops with advice in an alert and keeps its last plot', async () => {
  const page = await open(env.context, 'steps=5000&step_size=1&warm_start_lr=1');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const alert = page.getByRole('alert').first();
  await alert.waitFor({ timeout: 60_000 });
  console.log(`# divergence message: ${await alert.innerText()}`);
  assert.equal((await status(page)).state, 'failed');
  await page.getByRole('button', { name: 'Dismiss', exact: true }).click();
  await page.close();
});

// Chains in parallel (issue 11): one worker per chain up to navigator.hardwareConcurrency
// (at least 2); a worker runs several chains when there are more chains than workers.
const poolStats = (page) => page.evaluate(() => JSON.parse(window.bayesbandPoolStats()));
/** The app in a new page whose browser reports `cores` cores. */
const withCores = async (cores, query) => {
  const page = await env.context.newPage();
  await page.addInitScript((n) => Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => n }), cores);
  await page.goto(`${BASE}?${query}`);
  await page.getByRole('button', { name: 'Train', exact: true }).waitFor();
  return page;
};

test('a fit runs on one worker per chain: bands form live, Pause holds every chain, Reset stops them', async () => {
  const page = await withCores(4, 'chains=3&steps=200000');
  // Spawned at load for the settings' 3 chains (4 cores allow 4).
  await page.waitForFunction(() => JSON.parse(window.bayesbandPoolStats()).workers === 3);
  assert.equal(page.workers().length, 3, 'three Web Workers');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForStep(page, 1);
  await page.waitForTimeout(1500);
  const px = await pixelCounts(page, MAIN, bandColours);
  assert.ok(px.mean > 300 && px.total + px.aleatoric > 1500, `bands drawn while training (${JSON.stringify(px)})`);
  const running = await poolStats(page);
  assert.equal(running.perWorker.length, 3);
  assert.ok(running.perWorker.every((n) => n >= 3), `every worker posts (${running.perWorker})`);
  assert.ok(running.frames < running.posts, `one frame per round of posts (${running.frames} frames, ${running.posts} posts)`);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await waitForState(page, 'paused');
  await page.waitForTimeout(300);
  const paused = await poolStats(page);
  const step = (await status(page)).step;
  await page.waitForTimeout(700);
  assert.equal((await status(page)).step, step, 'no progress while paused');
  assert.equal((await poolStats(page)).posts, paused.posts, 'no worker posts while paused');
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  await waitForStep(page, step + 100, 10_000);
  assert.equal((await status(page)).step, step + 100, 'Step moves the slowest chain by exactly 100');
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await waitForStep(page, step + 300, 20_000);
  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await waitForState(page, 'idle');
  const reset = await poolStats(page);
  await page.waitForTimeout(700);
  assert.ok((await poolStats(page)).posts - reset.posts <= 3, 'the workers stop posting after Reset');
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('more chains than workers: a worker runs several, the fit finishes with every chain', async () => {
  const page = await withCores(2, 'chains=3&steps=3000');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  const s = await poolStats(page);
  assert.equal(s.workers, 2, 'two workers for three chains on two cores');
  assert.equal(page.workers().length, 2);
  assert.match((await status(page)).text, /300 draws kept/, 'three chains of 100 draws');
  const px = await pixelCounts(page, MAIN, bandColours);
  assert.ok(px.mean > 300 && px.epistemic > 100, `bands drawn (${JSON.stringify(px)})`);
  console.log(`# pooling on the main thread: ${s.frames} frames from ${s.posts} posts, ${(s.ms / s.posts).toFixed(2)} ms a post (max ${s.maxMs.toFixed(1)} ms), ${(8 * s.values / 1e6).toFixed(2)} MB of predictions posted`);
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('VI chains run on their workers too, with no R-hat anywhere', async () => {
  const page = await withCores(2, 'method=vi&kind=noise_model&noise_law=exponential&steps=3000');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  const s = await poolStats(page);
  assert.ok(s.perWorker.length === 2 && s.perWorker.every((n) => n > 0), `both workers posted (${s.perWorker})`);
  // The link names no draws: the v=5 default's 150 per chain (the page does not switch
  // draws to a method's own default when a link names the method).
  assert.match((await status(page)).text, /300 samples from q/);
  assert.doesNotMatch(await page.locator('main').innerText(), /R-hat/, 'VI shows no R-hat');
  assert.doesNotMatch(await page.locator('.params table').innerText(), /ESS/, 'nor an ESS: samples from q are independent');
  await page.close();
});

test('NUTS with extend on two workers: the page decides from every chain, each draws more, one Finished at the end', async () => {
  // A tiny net's chains disagree after 8 draws (tests/nuts.rs), so the fit extends.
  const query = 'method=nuts&kind=noise_model&noise_law=exponential&hidden=4&warmup=20&draws=8&max_depth=3&extend=true&extend_gradients=3000&chains=3';
  const page = await withCores(2, query);
  // Every status the page shows, in order: no Finished before the last one.
  await page.evaluate(() => {
    window.__states = [];
    const el = document.querySelector('#status');
    new MutationObserver(() => window.__states.push([el.dataset.state, el.innerText])).observe(el, { attributes: true, childList: true, subtree: true, characterData: true });
  });
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  await page.waitForTimeout(500);
  const s = await status(page);
  const states = await page.evaluate(() => window.__states);
  const first = states.findIndex(([st]) => st === 'finished');
  assert.ok(states.slice(first).every(([st]) => st === 'finished'), 'Finished only at the end');
  assert.ok(!states.slice(0, first).some(([, text]) => /^Finished/.test(text)), 'no Finished word before the end');
  const [, done, total] = s.text.match(/step (\d+) \/ (\d+) draws/) ?? [];
  assert.equal(done, total, s.text);
  const drew = Number(total) - 20;
  assert.ok(drew > 8 && (drew - 8) % 4 === 0, `each chain drew 4 more at a time (${drew}): ${s.text}`);
  assert.match(s.text, new RegExp(`${(3 * drew).toLocaleString('en-US')} draws kept`), 'every chain drew as many');
  assert.match(s.text, new RegExp(`(they agreed after ${drew})|(still disagreed after ${drew} draws)`), s.text);
  const pool = await poolStats(page);
  assert.equal(pool.workers, 2);
  assert.deepEqual(env.log.errors, []);
  await page.close();
});
