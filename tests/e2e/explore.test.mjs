// Where to measure next (issue 14): the Acquisition picker is there from load; a
// finished fit draws the acquisition curve with its pick; Measure next adds a point
// drawn from the generator's truth at that x (the data summary says N + 1 at once) and
// refits from the previous posterior; for uploaded data the user types the y measured;
// Auto runs its rounds and two acquisitions from the same start make two learning
// curves. Small pSGLD budgets (URL settings) keep it quick.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, open, external, waitForFinish, SHOTS } from './harness.mjs';
import { join } from 'node:path';

let env;
before(async () => { env = await start(); });
after(async () => {
  assert.deepEqual(external(env.log), [], 'no request leaves 127.0.0.1');
  await env.close();
});

const FAST = 'method=psgld&steps=2500&hidden=8';
const n = async (page) => Number((await page.locator('#data-summary').innerText()).match(/N = (\d+)/)?.[1] ?? 0);

test('the Acquisition picker is there from load, and Measure next adds a point from the truth and refits', async () => {
  const page = await open(env.context, FAST);
  const acq = page.getByLabel('Acquisition', { exact: true });
  assert.equal(await acq.inputValue(), 'epistemic');
  const options = await page.locator('#acquisition option').evaluateAll((o) => o.map((e) => e.value));
  assert.deepEqual(options, ['epistemic', 'total', 'infogain', 'ucb', 'ei', 'random']);
  assert.match(await page.locator('#suggestion').innerText(), /Train to see where to measure next/);
  const measure = page.getByRole('button', { name: 'Measure next', exact: true });
  assert.ok(await measure.isDisabled(), 'nothing to measure from before a fit');

  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  const curve = page.locator('#acquisition-curve');
  await curve.waitFor();
  const best = Number(await curve.getAttribute('data-best-x'));
  assert.ok(Number.isFinite(best));
  assert.match(await curve.getAttribute('aria-label'), /^Acquisition curve: Epistemic variance/);
  assert.match(await page.locator('#suggestion').innerText(), /^Measure next at x = -?[\d.]+ \(epistemic variance [\d.e-]+\)\.$/);
  await page.screenshot({ path: join(SHOTS, 'explore-1280.png'), fullPage: true });

  const before = await n(page);
  await measure.click();
  // The point is there at once, before the refit finishes.
  await page.locator('#data-summary').filter({ hasText: `N = ${before + 1}` }).waitFor({ timeout: 2000 });
  await page.locator('#auto-progress').filter({ hasText: 'starting from the previous posterior' }).waitFor({ timeout: 5000 }).catch(() => {});
  await waitForFinish(page, 90_000);
  assert.equal(await n(page), before + 1);
  // The workers refitted from the previous posterior, on a quarter of the steps.
  assert.match(await page.locator('#status').innerText(), new RegExp(`refit from the posterior of the previous fit \\(${before} points\\)`));
  assert.match(await page.locator('#status').innerText(), /step 625 \/ 625/);
  const next = Number(await page.locator('#acquisition-curve').getAttribute('data-best-x'));
  assert.ok(Number.isFinite(next));
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('the acquisition is in the link, survives a reload, and UCB shows its goal and kappa', async () => {
  const page = await open(env.context, FAST);
  await page.getByLabel('Acquisition', { exact: true }).selectOption('total');
  await page.waitForFunction(() => location.search.includes('acquisition=total'));
  await page.reload();
  await page.getByRole('button', { name: 'Train', exact: true }).waitFor();
  assert.equal(await page.getByLabel('Acquisition', { exact: true }).inputValue(), 'total');
  assert.equal(await page.getByLabel('Goal', { exact: true }).count(), 0, 'no goal for a variance');
  await page.getByLabel('Acquisition', { exact: true }).selectOption('ucb');
  await page.getByLabel('Goal', { exact: true }).selectOption('min');
  await page.getByLabel('kappa (UCB)').fill('1.5');
  await page.getByLabel('kappa (UCB)').press('Enter');
  await page.waitForFunction(() => location.search.includes('goal=min') && location.search.includes('kappa=1.5'));
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('Auto runs its rounds, and a second acquisition from the same start draws a second learning curve', async () => {
  const page = await open(env.context, FAST);
  const start = await n(page);
  await page.getByLabel('Rounds', { exact: true }).fill('2');
  await page.getByLabel('Rounds', { exact: true }).press('Enter');
  // A row's points read "start → last": wait for the last round (the fits may be quick).
  const rowDone = (i, last) => page.waitForFunction(({ i, last }) => {
    const r = document.querySelectorAll('table.learning tbody tr')[i];
    return r && r.innerText.includes(`→ ${last}\t`) && !document.querySelector('#auto')?.innerText.includes('Stop');
  }, { i, last }, { timeout: 180_000 });
  await page.getByRole('button', { name: 'Auto', exact: true }).click();
  const table = page.getByRole('table', { name: 'Learning curves' });
  await rowDone(0, start + 2);
  await waitForFinish(page, 60_000);
  assert.equal(await n(page), start + 2);
  const row1 = await table.locator('tbody tr').nth(0).innerText();
  assert.match(row1, new RegExp(`epistemic\\s+${start} → ${start + 2}`));

  await page.getByLabel('Acquisition', { exact: true }).selectOption('random');
  await page.getByRole('button', { name: 'Auto', exact: true }).click();
  // It went back to the start's points: its row starts there too.
  await rowDone(1, start + 2);
  await waitForFinish(page, 60_000);
  const rows = await table.locator('tbody tr').allInnerTexts();
  assert.equal(rows.length, 2);
  assert.match(rows[1], new RegExp(`random\\s+${start} → ${start + 2}`));
  assert.doesNotMatch(rows.join('\n'), /NaN|inf/i);
  await page.screenshot({ path: join(SHOTS, 'explore-auto-1280.png'), fullPage: true });
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('for uploaded data, Measure next asks for the y measured and adds it', async () => {
  const page = await open(env.context, FAST);
  const rows = Array.from({ length: 30 }, (_, i) => `${(i / 10).toFixed(1)},${Math.sin(i / 5).toFixed(3)}`);
  await page.getByLabel('Paste data').fill('x,y\n' + rows.join('\n'));
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  await page.locator('#data-summary').filter({ hasText: 'N = 30' }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Auto', exact: true }).isDisabled(), 'Auto needs a known truth');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  await page.getByRole('button', { name: 'Measure next', exact: true }).click();
  const y = page.getByLabel(/^Measured y at x = /);
  await y.fill('0.25');
  await page.getByRole('button', { name: 'Add measured point', exact: true }).click();
  await page.locator('#data-summary').filter({ hasText: 'N = 31' }).waitFor({ timeout: 2000 });
  await waitForFinish(page, 90_000);
  assert.deepEqual(env.log.errors, []);
  await page.close();
});
