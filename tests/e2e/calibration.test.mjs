// Held-out metrics and the Calibration figure (issue 12, sections 2 and 3): pasted
// data get "Hold out (%)" 20 by default, the held-out points are drawn hollow and
// left out of the fit, and after the fit the "Held-out" section shows finite metrics
// and the Calibration figure; generated data are scored on fresh draws from the truth.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, open, external, waitForFinish, SHOTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => {
  assert.deepEqual(external(env.log), [], 'no request leaves 127.0.0.1');
  await env.close();
});

// 60 points of a smooth curve with noise growing in x (deterministic, no truth known).
function csv(n = 60) {
  let out = 'x,y\n';
  for (let i = 0; i < n; i++) {
    const x = i / (n - 1) * 4;
    const wobble = Math.sin(37.1 * i) * (0.05 + 0.1 * x);
    out += `${x.toFixed(4)},${(Math.sin(x) + wobble).toFixed(5)}\n`;
  }
  return out;
}

/** The Held-out table as { metric: [value per column] }, and its column headers. */
async function heldOut(page) {
  return page.evaluate(() => {
    const t = document.querySelector('#held-out-metrics');
    const heads = [...t.querySelectorAll('thead th')].slice(1).map((th) => th.textContent);
    const rows = {};
    for (const tr of t.querySelectorAll('tbody tr')) rows[tr.dataset.metric] = [...tr.querySelectorAll('td')].map((td) => td.textContent);
    return { heads, rows };
  });
}

const METRICS = ['rmse', 'nll', 'crps', 'coverage95', 'sharpness', 'mace', 'rmsce', 'miscalibration_area', 'check', 'interval'];

function assertFinite(rows) {
  for (const k of METRICS) {
    assert.ok(rows[k], `row ${k}`);
    for (const v of rows[k]) assert.ok(Number.isFinite(Number(v)), `${k} = '${v}'`);
  }
}

test('pasted data hold out 20% by default; after the fit the Held-out section and the Calibration figure show', async () => {
  const page = await open(env.context, 'steps=1500');
  const holdout = page.getByLabel('Hold out (%)');
  assert.equal(await holdout.inputValue(), '0', 'built-in data: off');
  await page.getByLabel('Paste data').fill(csv());
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  await page.locator('#data-summary').filter({ hasText: 'N = 60' }).waitFor();
  assert.equal(await holdout.inputValue(), '20', 'pasted data: 20% held out');
  await page.getByText('12 of 60 points').waitFor();
  // No results before a fit.
  assert.equal(await page.getByRole('heading', { name: 'Held-out', exact: true }).count(), 0);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 120_000);
  await page.getByRole('heading', { name: 'Held-out', exact: true }).waitFor();
  const fig = page.getByRole('img', { name: 'Calibration', exact: true });
  await fig.waitFor();
  assert.equal(await fig.locator('svg').count(), 3, 'curve, PIT histogram, coverage by x-quarter');
  const { heads, rows } = await heldOut(page);
  assert.deepEqual(heads, ['held-out points (12)'], 'pasted data have no truth: held-out points only');
  assertFinite(rows);
  const cov = Number(rows.coverage95[0]);
  assert.ok(cov >= 0 && cov <= 1 && Math.abs(cov * 12 - Math.round(cov * 12)) < 0.01, `coverage ${cov} is a share of 12 points`);
  const caption = await page.locator('#calibration-desc').innerText();
  assert.match(caption, /^Calibration on 12 held-out points: miscalibration area [0-9.]+/);
  assert.doesNotMatch(await page.locator('.held-out').innerText(), /NaN|n\/a/);
  await page.locator('.calib-legend').filter({ hasText: 'miscalibration area' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'calibration-1280.png'), fullPage: true });

  // 0 turns the hold-out off: the next fit has no Held-out section.
  await holdout.fill('0');
  await holdout.dispatchEvent('change');
  await page.getByText('0 = off.').waitFor();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  // Train drops the old fit's results at once; then wait for the new fit to finish.
  await page.getByRole('heading', { name: 'Held-out', exact: true }).waitFor({ state: 'detached' });
  await waitForFinish(page, 120_000);
  assert.equal(await page.getByRole('heading', { name: 'Held-out', exact: true }).count(), 0);
  // A refused value is named beside the field and changes nothing.
  await holdout.fill('150');
  await holdout.dispatchEvent('change');
  await page.getByRole('alert').filter({ hasText: 'Hold out (%) must be a number from 0 to below 100' }).waitFor();
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('generated data: the Calibration figure uses fresh draws from the truth, with no clicks after Train', async () => {
  const page = await open(env.context, 'v=2&data=bump&steps=1500&holdout_frac=0.2');
  assert.equal(await page.getByLabel('Hold out (%)').inputValue(), '20', 'the link carries the hold-out');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 120_000);
  await page.getByRole('img', { name: 'Calibration', exact: true }).waitFor();
  const { heads, rows } = await heldOut(page);
  assert.equal(heads.length, 2, heads.join(' | '));
  assert.match(heads[0], /^held-out points \(30\)$/);
  assert.match(heads[1], /^fresh draws from the truth \(\d+\)$/);
  assertFinite(rows);
  assert.match(await page.locator('#calibration-desc').innerText(), /fresh draws from the truth/);
  await page.screenshot({ path: join(SHOTS, 'calibration-truth-1280.png'), fullPage: true });
  await page.close();
});

test('on a phone the Calibration panels stack and stay inside the screen', async () => {
  const phone = await start({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true, isMobile: true });
  try {
    const page = await open(phone.context, 'steps=1000');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await waitForFinish(page, 120_000);
    const fig = page.getByRole('img', { name: 'Calibration', exact: true });
    await fig.scrollIntoViewIfNeeded();
    const boxes = await fig.locator('svg').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
    for (const b of boxes) assert.ok(b.left >= 0 && b.right <= 390 + 0.5, `panel inside the screen: ${JSON.stringify(b)}`);
    assert.ok(boxes[1].top >= boxes[0].bottom - 1, 'stacked');
    await page.screenshot({ path: join(SHOTS, 'calibration-390.png'), fullPage: true });
    assert.deepEqual(phone.log.errors, []);
  } finally {
    await phone.close();
  }
});
