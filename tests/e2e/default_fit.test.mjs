// The default fit (issue 11): a first visit's Train runs NUTS (100 warm-up + 150 draws per
// chain, depth 9, drawing more while the chains disagree), the bands form while it warms up,
// it finishes with its draws kept and no alert; a link of the old default (v=2) still opens
// to pSGLD, and unchecking "Draw more while the chains disagree" gives exactly the draws asked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, open, external, status, waitForFinish, waitForStep, pixelCounts, MAIN, BAND_COLOURS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => {
  assert.deepEqual(external(env.log), [], 'no request leaves 127.0.0.1');
  await env.close();
});

test('a first visit trains the default NUTS fit: bands while it warms up, then its draws', async () => {
  const page = await open(env.context);
  assert.equal(await page.getByLabel('Method', { exact: true }).inputValue(), 'nuts');
  assert.match(await page.locator('#method option:checked').textContent(), /NUTS.*default/);
  const extend = page.getByLabel('Draw more while the chains disagree', { exact: true });
  assert.equal(await extend.isChecked(), true, 'the default fit extends');
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  // Live from the start: the chains' current curves are drawn during the warm-up.
  await waitForStep(page, 20, 60_000);
  const early = await status(page);
  assert.ok(early.step < 100 || early.state === 'finished', `still warming up (${early.text})`);
  const live = await pixelCounts(page, MAIN, BAND_COLOURS);
  assert.ok(live.mean > 300, `a mean line during the warm-up (${live.mean} px)`);
  await waitForFinish(page, 180_000);
  const secs = (Date.now() - t0) / 1000;
  const s = await status(page);
  assert.match(s.text, /Finished/);
  const kept = Number((s.text.match(/([\d,]+) draws kept/) ?? [])[1]?.replace(/,/g, ''));
  assert.ok(kept >= 300, `at least 2 x 150 draws kept (${s.text})`);
  assert.doesNotMatch(await page.locator('body').innerText(), /NaN/);
  assert.equal(await page.locator('[role="alert"]').count(), 0);
  console.log(`default NUTS fit in the browser: ${secs.toFixed(1)} s wall, ${kept} draws kept`);
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('an old default link (v=2) opens to pSGLD; without extending, a NUTS fit keeps exactly its draws', async () => {
  let page = await open(env.context, 'v=2');
  assert.equal(await page.getByLabel('Method', { exact: true }).inputValue(), 'psgld', 'v=2 meant pSGLD');
  assert.equal(await page.getByLabel('Draw more while the chains disagree', { exact: true }).count(), 0, 'only NUTS extends');
  await page.close();
  page = await open(env.context, 'v=3&warmup=40&draws=30&max_depth=5&hidden=8');
  const extend = page.getByLabel('Draw more while the chains disagree', { exact: true });
  assert.equal(await extend.isChecked(), false, 'draws= alone is an exact budget');
  await extend.check();
  assert.match(page.url(), /extend=true/, 'the choice goes into the link');
  await extend.uncheck();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 120_000);
  assert.match((await status(page)).text, /60 draws kept/);
  assert.deepEqual(env.log.errors, []);
  await page.close();
});
