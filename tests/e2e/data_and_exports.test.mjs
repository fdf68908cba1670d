// Data in and results out: CSV upload, a malformed file, the predictions download,
// links that restore settings, the sub-path deployment, and phone-sized layout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, open, external, status, waitForFinish, pixelCounts, OKABE_ITO, ROOT, SUBPATH, SHOTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => {
  assert.deepEqual(external(env.log), [], 'no request leaves 127.0.0.1');
  await env.close();
});

// A reference data set (benches/data), as a user's own file.
const CSV = join(ROOT, 'benches', 'data', 'bump_train.csv');

test('uploading a CSV replaces the data and trains on it', async () => {
  const page = await open(env.context, 'steps=3000');
  await page.getByLabel('Upload CSV').setInputFiles(CSV);
  const rows = readFileSync(CSV, 'utf8').trim().split(/\r?\n/).length - 1;
  await page.locator('#data-summary').filter({ hasText: `N = ${rows}` }).waitFor();
  assert.equal(await page.getByLabel('Dataset', { exact: true }).inputValue(), 'custom');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  const px = await pixelCounts(page, '#plot-main', { mean: [...OKABE_ITO.blue, 40] });
  assert.ok(px.mean > 300, `mean drawn (${px.mean} px)`);
  await page.screenshot({ path: join(SHOTS, 'uploaded-1280.png') });
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('a malformed CSV shows an alert with the line and keeps the previous data', async () => {
  const page = await open(env.context);
  const before = await page.locator('#data-summary').innerText();
  await page.getByLabel('Upload CSV').setInputFiles({
    name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('x,y\n1,2\n3,oops\n4,5\n'),
  });
  const alert = page.getByRole('alert').filter({ hasText: 'line 3' });
  await alert.waitFor();
  assert.equal(await page.locator('#data-summary').innerText(), before);
  // The paste box reports its own errors the same way.
  await page.getByLabel('Paste data').fill('x,y\n1,2\n2,\n');
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'line' }).first().waitFor();
  assert.equal(await page.locator('#data-summary').innerText(), before);
  await page.screenshot({ path: join(SHOTS, 'malformed-1280.png') });
  await page.close();
});

test('the predictions download parses: documented header, one row per grid point', async () => {
  const page = await open(env.context, 'steps=2000');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download predictions (CSV)', exact: true }).click(),
  ]);
  const text = readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split('\n');
  assert.match(lines[0], /^x,mean,sd_epistemic,sd_aleatoric,sd_total/);
  assert.equal(lines.length - 1, 200);
  for (const line of lines.slice(1)) {
    const v = line.split(',').map(Number);
    assert.equal(v.length, lines[0].split(',').length);
    assert.ok(v.every(Number.isFinite), line);
    assert.ok(v[4] + 1e-12 >= Math.max(v[2], v[3]), 'total sd covers both parts');
  }
  for (const [name, type] of [['Download SVG', /<svg/], ['Download project (JSON)', /bayesband-project/]]) {
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name, exact: true }).click()]);
    assert.match(readFileSync(await d.path(), 'utf8'), type, name);
  }
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PNG', exact: true }).click()]);
  assert.deepEqual([...readFileSync(await png.path()).subarray(1, 4)], [0x50, 0x4e, 0x47]);
  await page.close();
});

test('a copied link opened in a new page restores every setting', async () => {
  const page = await open(env.context);
  await page.getByLabel('Dataset', { exact: true }).selectOption('linear');
  await page.getByLabel('N', { exact: true }).fill('77');
  await page.getByLabel('N', { exact: true }).press('Enter');
  await page.getByLabel('Noise law', { exact: true }).selectOption('step');
  await page.getByLabel('Method', { exact: true }).selectOption('vi');
  await page.getByLabel('Steps', { exact: true }).fill('4321');
  await page.getByLabel('Steps', { exact: true }).press('Enter');
  await page.getByLabel('Seed', { exact: true }).fill('17');
  await page.getByLabel('Seed', { exact: true }).press('Enter');
  await page.getByRole('button', { name: 'Copy link', exact: true }).click();
  const link = await page.getByLabel('Link to these settings').inputValue();
  assert.match(link, /steps=4321/);
  // A fresh page with nothing saved: only the link can restore the settings.
  await page.evaluate(() => localStorage.clear());
  const other = await env.context.newPage();
  await other.goto(link);
  await other.evaluate(() => localStorage.clear());
  await other.goto(link);
  await other.getByRole('button', { name: 'Train', exact: true }).waitFor();
  assert.equal(await other.getByLabel('Dataset', { exact: true }).inputValue(), 'linear');
  assert.equal(await other.getByLabel('N', { exact: true }).inputValue(), '77');
  assert.equal(await other.getByLabel('Model', { exact: true }).inputValue(), 'noise_model');
  assert.equal(await other.getByLabel('Noise law', { exact: true }).inputValue(), 'step');
  assert.equal(await other.getByLabel('Method', { exact: true }).inputValue(), 'vi');
  assert.equal(await other.getByLabel('Steps', { exact: true }).inputValue(), '4321');
  assert.equal(await other.getByLabel('Seed', { exact: true }).inputValue(), '17');
  // Reloading keeps the settings too (local storage + address bar).
  await other.reload();
  await other.getByRole('button', { name: 'Train', exact: true }).waitFor();
  assert.equal(await other.getByLabel('Steps', { exact: true }).inputValue(), '4321');
  await page.close();
  await other.close();
});

test('the build served from a sub-path works (worker found next to the page)', async () => {
  const page = await open(env.context, 'steps=2000', SUBPATH);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  const px = await pixelCounts(page, '#plot-main', { mean: [...OKABE_ITO.blue, 40] });
  assert.ok(px.mean > 300, `mean drawn (${px.mean} px)`);
  assert.ok(env.log.requests.some((u) => u.startsWith(SUBPATH) && /worker(-relaxed)?\.js$/.test(u)), 'worker loaded from the sub-path');
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('click adds a point, shift-click removes the nearest, Clear empties the plot', async () => {
  const page = await open(env.context);
  const n = async () => Number((await page.locator('#data-summary').innerText()).match(/N = (\d+)/)?.[1] ?? 0);
  const before = await n();
  const box = await page.locator('#plot-main').boundingBox();
  const at = { x: box.width * 0.5, y: box.height * 0.55 };
  await page.locator('#plot-main').click({ position: at });
  await page.locator('#data-summary').filter({ hasText: `N = ${before + 1}` }).waitFor();
  assert.equal(await page.getByLabel('Dataset', { exact: true }).inputValue(), 'custom');
  await page.locator('#plot-main').click({ position: at, modifiers: ['Shift'] });
  await page.locator('#data-summary').filter({ hasText: `N = ${before}` }).waitFor();
  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  await page.locator('#data-summary').filter({ hasText: 'No data' }).waitFor();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'at least 3 are needed' }).waitFor();
  await page.close();
});

test('a file with more than two columns offers a column picker; axis labels follow the header', async () => {
  const page = await open(env.context, 'steps=1500');
  const csv = 'time,signal,reference\n' + Array.from({ length: 40 }, (_, i) => `${i / 10},${Math.sin(i / 5)},${i % 7}`).join('\n') + '\n';
  await page.getByLabel('Upload CSV').setInputFiles({ name: 'three.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByLabel('y column').waitFor();
  assert.equal(await page.getByLabel('x column').inputValue(), '0');
  await page.getByLabel('y column').selectOption('2');
  await page.locator('#data-summary').filter({ hasText: 'time from 0 to 3.9' }).waitFor();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  assert.match(await page.locator('#fit-summary').innerText(), /40 data points, time from 0 to 3.9/);
  await page.close();
});

test('VI and SGLD train too; a saved project opens with its data', async () => {
  const page = await open(env.context, 'steps=2000');
  for (const method of ['vi', 'sgld']) {
    await page.getByLabel('Method', { exact: true }).selectOption(method);
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await waitForFinish(page, 90_000);
  }
  await page.locator('#plot-main').click({ position: { x: 300, y: 150 } }); // hand-edited data
  const summary = await page.locator('#data-summary').innerText();
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download project (JSON)', exact: true }).click()]);
  const other = await open(env.context);
  await other.getByLabel('Dataset', { exact: true }).selectOption('linear');
  await other.getByLabel('Open project').setInputFiles(await d.path());
  await other.locator('#data-summary').filter({ hasText: summary }).waitFor();
  assert.equal(await other.getByLabel('Method', { exact: true }).inputValue(), 'sgld');
  await other.getByLabel('Open project').setInputFiles({ name: 'x.json', mimeType: 'application/json', buffer: Buffer.from('{"nope": 1}') });
  await other.getByRole('alert').filter({ hasText: 'project' }).waitFor();
  assert.equal(await other.locator('#data-summary').innerText(), summary);
  await page.close();
  await other.close();
});

test('hand-edited data survive a reload; a refused setting is named beside its field', async () => {
  const page = await open(env.context);
  await page.getByLabel('Dataset', { exact: true }).selectOption('homoskedastic');
  await page.locator('#plot-main').click({ position: { x: 400, y: 200 } });
  const summary = await page.locator('#data-summary').innerText();
  await page.reload();
  await page.getByRole('button', { name: 'Train', exact: true }).waitFor();
  assert.equal(await page.locator('#data-summary').innerText(), summary);
  assert.equal(await page.getByLabel('Dataset', { exact: true }).inputValue(), 'custom');
  await page.getByLabel('Hidden widths').fill('32,x');
  await page.getByLabel('Hidden widths').press('Enter');
  await page.getByRole('alert').filter({ hasText: 'hidden widths' }).waitFor();
  await page.getByLabel('Steps', { exact: true }).fill('0');
  await page.getByLabel('Steps', { exact: true }).press('Enter');
  await page.getByRole('alert').filter({ hasText: 'steps must be between' }).waitFor();
  await page.close();
});
