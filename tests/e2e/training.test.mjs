// Training in the worker: every model trains and draws its bands, Pause/Resume,
// Step, keyboard shortcuts, a responsive main thread, and worker-crash recovery.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, open, external, status, waitForState, waitForStep, pixelCounts, overWhite, layered, OKABE_ITO, SHOTS } from './harness.mjs';
import { TOTAL_ALPHA, ALEATORIC_ALPHA, EPISTEMIC_ALPHA } from './colours.mjs';

let env;
before(async () => { env = await start(); });
after(async () => {
  assert.deepEqual(external(env.log), [], 'no request leaves 127.0.0.1');
  await env.close();
});

const MAIN = '#plot-main';
const bandColours = {
  mean: [...OKABE_ITO.blue, 40],
  total: overWhite(OKABE_ITO.sky, TOTAL_ALPHA, 8),
  aleatoric: layered([[OKABE_ITO.sky, TOTAL_ALPHA], [OKABE_ITO.orange, ALEATORIC_ALPHA]], 10),
  epistemic: layered([[OKABE_ITO.sky, TOTAL_ALPHA], [OKABE_ITO.orange, ALEATORIC_ALPHA], [OKABE_ITO.green, EPISTEMIC_ALPHA]], 12),
};

for (const [value, label] of [['homoskedastic', 'homoskedastic'], ['two_head', 'two-head'], ['noise_model', 'noise model']]) {
  test(`the ${label} model trains with the default method and draws its mean and bands`, async () => {
    const page = await open(env.context, `steps=3000`);
    await page.getByLabel('Model', { exact: true }).selectOption(value);
    const before = await pixelCounts(page, MAIN, bandColours);
    assert.equal(before.mean, 0, 'no mean before training');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await waitForState(page, 'finished', 90_000);
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
  const page = await open(env.context, 'steps=200000');
  await page.evaluate(() => {
    window.__gaps = [];
    let last = performance.now();
    window.__probe = setInterval(() => { const t = performance.now(); window.__gaps.push(t - last); last = t; }, 20);
  });
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForStep(page, 1);
  await page.waitForTimeout(3000);
  const { max, n, first } = await page.evaluate(() => {
    clearInterval(window.__probe);
    return { max: Math.max(...window.__gaps), n: window.__gaps.length, first: document.querySelector('#status').dataset.firstPlotMs };
  });
  console.log(`# longest main-thread gap while training: ${max.toFixed(1)} ms over ${n} ticks; first plot after ${first} ms`);
  assert.ok(max < 250, `longest gap ${max.toFixed(1)} ms`);
  assert.ok((await status(page)).state === 'running');
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
  await waitForState(page, 'finished', 90_000);
  await page.close();
});
