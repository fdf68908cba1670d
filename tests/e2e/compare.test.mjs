// Compare (issue 12, sections 1 and 4): keep a finished fit as fit A, train fit B on the
// same data, read both on the same axes, the "Comparison" table and its verdict; the
// scenario links; the legend's band switches and the posterior draws; the exports of
// both fits; a change of the data ends the comparison.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, open, external, waitForFinish, pixelCounts, MAIN, BAND_COLOURS, SHOTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => {
  assert.deepEqual(external(env.log), [], 'no request leaves 127.0.0.1');
  assert.deepEqual(env.log.errors, [], 'no console errors');
  await env.close();
});

/** The Comparison table as { key: [A, B] }. */
async function comparison(page) {
  return page.evaluate(() => {
    const t = [...document.querySelectorAll('table')].find((t) => t.caption?.textContent === 'Comparison');
    const rows = {};
    for (const tr of t.querySelectorAll('tbody tr')) rows[tr.dataset.metric] = [...tr.querySelectorAll('td')].map((td) => td.textContent);
    return rows;
  });
}

const METRICS = ['nll', 'crps', 'rmse', 'coverage95', 'sharpness', 'mace', 'rmsce', 'miscalibration_area', 'check', 'interval'];

async function download(page, name) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name, exact: true }).click()]);
  return { name: d.suggestedFilename(), path: await d.path() };
}

test('Compare keeps fit A, fit B trains on the same data, the table and verdict compare them, exports carry both', async () => {
  const page = await open(env.context, 'v=2&kind=homoskedastic&steps=3000');
  const compare = page.getByRole('button', { name: /^Compare/ });
  assert.equal(await compare.isDisabled(), true, 'nothing to keep before a fit');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 120_000);
  await page.getByRole('button', { name: 'Compare with another fit', exact: true }).click();
  await page.locator('#plot-main-a').waitFor();
  await page.getByText('Now change the model or method and press Train').waitFor();
  assert.equal(await page.locator('#plot-sigma-a').count(), 1, 'both sigma(x) panels');
  await page.getByLabel('Model', { exact: true }).selectOption('two_head');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 120_000);
  const table = page.getByRole('table', { name: 'Comparison' });
  await table.waitFor();
  const rows = await comparison(page);
  assert.deepEqual(rows.model, ['homoskedastic', 'two-head']);
  for (const k of METRICS) {
    assert.equal(rows[k]?.length, 2, k);
    for (const v of rows[k]) assert.ok(Number.isFinite(Number(v)), `${k} = '${v}'`);
  }
  assert.match(rows.fit_time[0], /\d s$/);
  assert.match(rows.fit_time[1], /\d s$/);
  const verdict = await page.locator('#compare-verdict').innerText();
  assert.match(verdict, /^Verdict: [AB]'s 95% band covers \d+%/);
  assert.match(verdict, /has the lower NLL|Their NLL is the same/);
  assert.doesNotMatch(await page.locator('.compare').innerText(), /NaN/);
  // The two main plots are on the same axes.
  const axes = await page.evaluate(() => ['#plot-main-a', '#plot-main'].map((s) => document.querySelector(s).dataset));
  assert.ok(axes[0].xAxis, 'fit A\'s plot says its x axis');
  assert.equal(axes[0].xAxis, axes[1].xAxis, 'same x axis');
  assert.equal(axes[0].yAxis, axes[1].yAxis, 'same y axis');
  await page.screenshot({ path: join(SHOTS, 'compare-1280.png'), fullPage: true });

  // Exports: PNG and SVG of both fits, the predictions of each, the project with both settings.
  const svg = readFileSync((await download(page, 'Download SVG')).path, 'utf8');
  assert.ok(svg.includes('Fit A: homoskedastic') && svg.includes('Fit B: two-head'), 'the SVG holds both fits');
  const png = readFileSync((await download(page, 'Download PNG')).path);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  const a = await download(page, 'Download predictions of fit A (CSV)');
  const b = await download(page, 'Download predictions (CSV)');
  assert.equal(a.name, 'bayesband-predictions-a.csv');
  assert.equal(b.name, 'bayesband-predictions-b.csv');
  const ta = readFileSync(a.path, 'utf8'), tb = readFileSync(b.path, 'utf8');
  for (const t of [ta, tb]) assert.match(t, /^x,mean,sd_epistemic,sd_aleatoric,sd_total,sigma_mean,sigma_lo,sigma_hi\n/);
  assert.notEqual(ta, tb, 'two different fits');
  // A homoskedastic fit's sigma(x) is one number; the two-head's varies.
  const sig = (t) => new Set(t.trim().split('\n').slice(1).map((l) => l.split(',')[5]));
  assert.equal(sig(ta).size, 1);
  assert.ok(sig(tb).size > 10);
  const project = JSON.parse(readFileSync((await download(page, 'Download project (JSON)')).path, 'utf8'));
  assert.equal(project.fit_a.model.kind, 'homoskedastic');
  assert.equal(project.settings.config.model.kind, 'two_head');

  // Overlaid: one main plot with both fits.
  await page.getByLabel('overlaid').check();
  await page.locator('#plot-main-a').waitFor({ state: 'detached' });
  assert.equal(await page.locator('#plot-sigma-a').count(), 1);
  const overlay = await pixelCounts(page, MAIN, { a: [213, 94, 0, 30] });
  assert.ok(overlay.a > 200, `fit A's lines over B: ${overlay.a} vermillion pixels`);

  // A change of the data ends the comparison.
  await page.getByLabel('Dataset', { exact: true }).selectOption('linear');
  await page.getByRole('table', { name: 'Comparison' }).waitFor({ state: 'detached' });
  assert.equal(await page.locator('#plot-main-a').count(), 0);
  assert.equal(await page.locator('#plot-sigma-a').count(), 0);
  await page.close();
});

test('the "Why heteroskedastic?" link runs both fits with one click and gives the verdict', async () => {
  const page = await open(env.context, 'compare=why-heteroskedastic');
  await page.getByRole('heading', { name: 'Scenario: Why heteroskedastic?' }).waitFor();
  assert.equal(await page.getByLabel('Model', { exact: true }).inputValue(), 'homoskedastic');
  assert.match(page.url(), /compare=why-heteroskedastic/, 'the address keeps the scenario');
  await page.getByRole('button', { name: 'Run both fits', exact: true }).click();
  await page.getByText('Both fits done').waitFor({ timeout: 240_000 });
  const rows = await comparison(page);
  assert.deepEqual(rows.model, ['homoskedastic', 'two-head']);
  const verdict = await page.locator('#compare-verdict').innerText();
  // The homoskedastic band is too wide where the noise is low and too narrow where it is high.
  assert.match(verdict, /A's covers (\d+)% where the noise is low and (\d+)% where it is high/);
  const [, low, high] = verdict.match(/A's covers (\d+)% where the noise is low and (\d+)% where it is high/);
  assert.ok(Number(low) > Number(high), verdict);
  assert.match(verdict, /B has the lower NLL/);
  await page.screenshot({ path: join(SHOTS, 'compare-scenario-1280.png'), fullPage: true });
  // The other scenarios are links on the page.
  for (const name of ['Why heteroskedastic?', 'Domain knowledge on small data', 'Fast vs reference', 'VI is overconfident between clusters']) {
    assert.match(await page.getByRole('link', { name, exact: true }).getAttribute('href'), /^\?compare=[a-z-]+$/);
  }
  await page.close();
});

test('an unknown scenario is named in an alert', async () => {
  const page = await open(env.context, 'compare=nope');
  await page.getByText("There is no comparison scenario 'nope'").waitFor();
  await page.close();
});

test('the legend switches each band off and on; posterior draws are drawn on request', async () => {
  const page = await open(env.context, 'v=2&steps=2000');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 120_000);
  const count = () => pixelCounts(page, MAIN, { total: BAND_COLOURS.total, epistemic: BAND_COLOURS.epistemic, mean: BAND_COLOURS.mean });
  const redraw = () => page.waitForTimeout(400);
  const all = await count();
  assert.ok(all.total > 500, `total band drawn: ${all.total}`);
  await page.getByLabel('95% total band').uncheck();
  await redraw();
  const noTotal = await count();
  assert.ok(noTotal.total < all.total / 10, `total band hidden: ${noTotal.total} of ${all.total}`);
  await page.getByLabel('95% total band').check();
  await redraw();
  assert.ok((await count()).total > all.total * 0.9, 'total band back');
  // Only the aleatoric band: the epistemic one goes, then comes back.
  await page.getByLabel('95% epistemic (model)').uncheck();
  await redraw();
  const noEpi = await count();
  assert.ok(noEpi.epistemic < Math.max(50, all.epistemic / 10), `epistemic hidden: ${noEpi.epistemic} of ${all.epistemic}`);
  await page.getByLabel('95% epistemic (model)').check();
  // Posterior draws: thin lines over the bands; the finished fit redraws the same
  // pixels, so what changes is the draws (and the legend's new item).
  const grab = () => page.evaluate((sel) => {
    const c = document.querySelector(sel);
    return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
  }, MAIN);
  await redraw();
  const plain = await grab();
  await page.getByLabel('Posterior draws (20)').check();
  await redraw();
  const drawn = await grab();
  let changed = 0;
  for (let i = 0; i < plain.length; i += 4) if (Math.abs(plain[i] - drawn[i]) + Math.abs(plain[i + 2] - drawn[i + 2]) > 30) changed++;
  assert.ok(changed > 2000, `draws drawn: ${changed} pixels changed`);
  await page.getByLabel('Posterior draws (20)').uncheck();
  await redraw();
  const again = await grab();
  let back = 0;
  for (let i = 0; i < plain.length; i += 4) if (plain[i] !== again[i]) back++;
  assert.equal(back, 0, 'switching the draws off restores the plot');
  await page.close();
});

test('the comparison at 390x844 stacks the plots', async () => {
  const phone = await start({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true, isMobile: true });
  try {
    const page = await open(phone.context, 'compare=why-heteroskedastic');
    await page.getByRole('button', { name: 'Run both fits', exact: true }).click();
    await page.getByText('Both fits done').waitFor({ timeout: 240_000 });
    const boxes = await page.evaluate(() => ['#plot-main-a', '#plot-main'].map((s) => document.querySelector(s).getBoundingClientRect().toJSON()));
    assert.ok(boxes[1].top >= boxes[0].bottom - 1, 'B below A on a narrow screen');
    assert.ok(boxes[0].width > 300, 'each plot is the screen wide');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no sideways scroll (${overflow}px)`);
    await page.screenshot({ path: join(SHOTS, 'compare-390.png'), fullPage: true });
    await page.close();
  } finally {
    assert.deepEqual(phone.log.errors, []);
    await phone.close();
  }
});
