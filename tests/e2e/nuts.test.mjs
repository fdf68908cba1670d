// NUTS in the page: a small NUTS fit (URL settings) trains in the worker, forms its
// bands, and the status line states the divergence count and the tree depth; Step
// advances by draws. Divergences are a diagnostic: never an alert.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, open, external, status, waitForState, waitForFinish, waitForStep, pixelCounts, MAIN, BAND_COLOURS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => {
  assert.deepEqual(external(env.log), [], 'no request leaves 127.0.0.1');
  await env.close();
});

test('NUTS trains with a small budget, draws its bands and states its divergences', async () => {
  const page = await open(env.context, 'method=nuts&warmup=60&draws=40&max_depth=6&hidden=8');
  assert.match(await page.getByLabel('Method', { exact: true }).inputValue(), /^nuts$/);
  const label = await page.locator('#method option:checked').textContent();
  assert.match(label, /^NUTS/);
  // NUTS's own settings, and no gradient-step budget.
  await page.getByLabel('Target acceptance').waitFor();
  await page.getByLabel('Max tree depth').waitFor();
  assert.equal(await page.getByLabel('Steps', { exact: true }).count(), 0);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 120_000);
  const px = await pixelCounts(page, MAIN, BAND_COLOURS);
  assert.ok(px.mean > 300, `mean line drawn (${px.mean} px)`);
  assert.ok(px.epistemic > 100, `epistemic band drawn (${px.epistemic} px)`);
  const s = await status(page);
  assert.match(s.text, /Finished/);
  assert.match(s.text, /80 draws kept/);
  assert.match(s.text, /\d+ divergences/);
  assert.match(s.text, /tree depth \d/);
  assert.equal(await page.locator('[role="alert"]').count(), 0, 'divergences are not an alert');
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('NUTS pauses and steps by draws', async () => {
  const page = await open(env.context, 'method=nuts&warmup=400&draws=400&max_depth=6&hidden=8');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForStep(page, 1, 30_000);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.getByRole('button', { name: 'Resume', exact: true }).waitFor();
  await page.waitForTimeout(500);
  const paused = (await status(page)).step;
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  await waitForStep(page, paused + 100, 30_000);
  assert.equal((await status(page)).step, paused + 100, 'Step advances exactly 100 draws');
  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await waitForState(page, 'idle');
  assert.deepEqual(env.log.errors, []);
  await page.close();
});
