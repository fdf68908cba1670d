// Bad input and faults seen from the page (tests/FAULTS.md): malformed uploads,
// refused settings, a refused link, damaged saved state, and what a worker crash and a
// divergence leave on screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, open, external, status, waitForState, waitForFinish, pixelCounts, MAIN, BAND_COLOURS, BASE, SHOTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => {
  assert.deepEqual(external(env.log), [], 'no request leaves 127.0.0.1');
  await env.close();
});

const bandColours = BAND_COLOURS;
const train = (page) => page.getByRole('button', { name: 'Train', exact: true });
const summary = (page) => page.locator('#data-summary').innerText();
const field = (page, label) => (label === 'Step size' ? page.getByLabel(/^Step size/) : page.getByLabel(label, { exact: true }));
/** The default method's (NUTS's) fields and the model's, whose values a refused link or saved state must leave at the defaults. */
const DEFAULT_FIELDS = ['Draws kept / chain', 'Warm-up draws / chain', 'Max tree depth', 'N', 'Hidden widths', 'Seed', 'Prior scale'];
/** Console errors logged since `mark` (the log is shared by the file's tests). */
const errorsSince = (mark) => env.log.errors.slice(mark);

// ---------------------------------------------------------------- files (rows 1-3, 6, 7, 14, 20)

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
const BAD_FILES = [
  ['NaN', 'nan.csv', 'x,y\n1,2\n2,3\nNaN,4\n5,6\n', 'line 4: NaN is not allowed (column x)'],
  ['Inf', 'inf.csv', 'x,y\n1,2\n2,Inf\n3,4\n', 'line 3: Inf is not allowed (column y)'],
  ['text in a headerless file', 'text.csv', '1,2\n2,3\n3,4\n4,abc\n', "line 4: 'abc' is not a number"],
  ['one data row', 'one.csv', 'x,y\n1,2\n', 'only 1 data point; at least 3 are needed'],
  ['two data rows', 'two.csv', 'x,y\n1,2\n3,4\n', 'only 2 data points; at least 3 are needed'],
  ['an empty file', 'empty.csv', '', 'the file is empty'],
  ['a header only', 'header.csv', 'x,y\n', 'the file has a header (x, y) but no data rows'],
  ['one column', 'one-column.csv', 'x\n1\n2\n3\n', 'at least two columns'],
  ['all x equal', 'same-x.csv', 'x,y\n2,1\n2,3\n2,5\n', 'all x values (x) are equal'],
  ['a binary file (PNG header)', 'picture.csv', PNG, 'the file looks binary (it contains NUL bytes)'],
];

for (const [what, name, content, message] of BAD_FILES) {
  test(`an uploaded CSV with ${what} is refused with an alert and the previous data stay`, async () => {
    const mark = env.log.errors.length;
    const page = await open(env.context);
    const before = await summary(page);
    assert.match(before, /^N = \d+ · x from /);
    await page.getByLabel('Upload CSV').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(content) });
    const alert = page.getByRole('alert').filter({ hasText: message });
    await alert.waitFor();
    assert.match(await alert.innerText(), /The previous data are kept\./);
    assert.equal(await summary(page), before);
    assert.notEqual(await page.getByLabel('Dataset', { exact: true }).inputValue(), 'custom');
    assert.deepEqual(errorsSince(mark), []);
    await page.close();
  });
}

// ---------------------------------------------------------------- settings (rows 23-26, 28-30)

test('refused settings typed into their fields are named beside them and Train fits the last valid settings', async () => {
  const mark = env.log.errors.length;
  const page = await open(env.context, 'steps=2000');
  const cases = [
    ['Hidden widths', '32,0', 'hidden widths must be between 1 and 512 (got 0)'],
    ['Hidden widths', '32,100000', 'hidden widths must be between 1 and 512 (got 100000)'],
    ['Hidden widths', '8,8,8,8,8,8,8', 'at most 6 hidden layers'],
    ['Step size', '-1', 'step size must be positive and at most 1 (got -1)'],
    ['Step size', '0', 'step size must be positive and at most 1 (got 0)'],
    ['Prior scale', '0', 'prior scale must be between 0.001 and 100 (got 0)'],
    ['Prior scale', '1e9', 'prior scale must be between 0.001 and 100 (got 1000000000)'],
    ['Seed', '9007199254740994', 'seed must be at most 2^53 = 9007199254740992'],
  ];
  for (const [label, value, message] of cases) {
    const input = field(page, label);
    const previous = await input.inputValue();
    await input.fill(value);
    await input.press('Enter');
    await page.getByRole('alert').filter({ hasText: message }).waitFor();
    // The field goes back to the value in force; nothing is clamped.
    assert.equal(await input.inputValue(), previous, `${label} = ${value} is not taken`);
    assert.equal(await input.getAttribute('aria-invalid'), 'true', `${label} is marked invalid`);
  }
  // The settings in force (what a link and Train use) are the valid ones.
  await page.getByRole('button', { name: 'Copy link', exact: true }).click();
  const link = new URL(await page.getByLabel('Link to these settings').inputValue());
  // A v=5 link names only what differs from the defaults (pSGLD's method and draws, since
  // steps= came without a method): the refused values are not in it.
  assert.equal(link.search, '?v=5&draws=100&method=psgld&steps=2000');
  await train(page).click();
  await waitForFinish(page, 90_000);
  assert.match((await status(page)).text, /Finished/);
  assert.equal(await page.getByRole('alert').filter({ hasText: /diverged|crashed|Cannot train/ }).count(), 0);
  assert.deepEqual(errorsSince(mark), []);
  await page.close();
});

// ---------------------------------------------------------------- links (row 31)

for (const [query, message] of [
  ['steps=abc', "bad value for steps: 'abc'"],
  ['steps=1e99', "bad value for steps: '1e99'"],
  ['data=bump&n=999999999', 'N must be between 2 and 100000 (got 999999999)'],
  ['n=999999999', 'N must be between 2 and 100000 (got 999999999)'],
  ['hidden=0', 'hidden widths must be between 1 and 512 (got 0)'],
  ['steps=2000&seed=9007199254740994', 'seed must be at most 2^53'],
]) {
  test(`a link with ${query} opens with a message and the default settings`, async () => {
    const mark = env.log.errors.length;
    // Nothing saved, so what shows can only come from the link or the defaults.
    const page = await open(env.context);
    await page.evaluate(() => localStorage.clear());
    await page.goto(BASE);
    await train(page).waitFor();
    const defaults = {};
    for (const l of DEFAULT_FIELDS) defaults[l] = await field(page, l).inputValue();
    const before = await summary(page);
    await page.goto(BASE + '?' + query);
    await train(page).waitFor();
    await page.getByRole('alert').filter({ hasText: "The link's settings could not be used" }).filter({ hasText: message }).waitFor();
    for (const [l, v] of Object.entries(defaults)) assert.equal(await field(page, l).inputValue(), v, `${l} is the default`);
    assert.equal(await summary(page), before);
    // Nothing half-applied: the address bar now carries the defaults (a v=5 link names none).
    assert.equal(defaults['Draws kept / chain'], '150');
    assert.equal(new URL(page.url()).search, '?v=5');
    assert.deepEqual(errorsSince(mark), []);
    await page.close();
  });
}

// ---------------------------------------------------------------- saved state (row 37)

test('damaged saved state loads with the defaults, a message where it was readable, and no console error', async () => {
  const mark = env.log.errors.length;
  const page = await open(env.context);
  await page.evaluate(() => localStorage.clear());
  await page.goto(BASE);
  await train(page).waitFor();
  const labels = DEFAULT_FIELDS;
  const defaults = {};
  for (const l of labels) defaults[l] = await field(page, l).inputValue();
  const defaultSummary = await summary(page);
  const good = JSON.parse(await page.evaluate(() => localStorage.getItem('bayesband.v1')));
  assert.equal(good.format, 'bayesband-project');
  const damaged = (f) => { const p = structuredClone(good); f(p); return JSON.stringify(p); };
  const cases = [
    ['not JSON', 'not json {', null],
    ['truncated JSON', JSON.stringify(good).slice(0, 60), null],
    ['another shape', '{"format":"bayesband-project","version":1,"settings":{"config":{}}}', null],
    ['steps = 0', damaged((p) => { p.settings.config.inference.steps = 0; }), 'The saved settings could not be used (steps must be between 1 and 10000000 (got 0))'],
    ['hidden width 0', damaged((p) => { p.settings.config.model.hidden = [0]; }), 'The saved settings could not be used (hidden widths must be between 1 and 512'],
    ['too many points', damaged((p) => { p.settings.source.n = 999999999; }), 'The saved data could not be rebuilt (N must be between 2 and 100000 (got 999999999))'],
  ];
  for (const [what, text, message] of cases) {
    // The draws a user would see if the damaged entry were used half-way.
    await page.getByLabel('Draws kept / chain', { exact: true }).fill('321');
    await page.getByLabel('Draws kept / chain', { exact: true }).press('Enter');
    await page.evaluate((t) => localStorage.setItem('bayesband.v1', t), text);
    await page.goto(BASE); // no query: only the saved state can set the page up
    await train(page).waitFor();
    if (message) await page.getByRole('alert').filter({ hasText: message }).waitFor();
    else assert.equal(await page.getByRole('alert').count(), 0, `${what}: dropped without a message`);
    for (const l of labels) assert.equal(await field(page, l).inputValue(), defaults[l], `${what}: ${l} is the default`);
    assert.equal(await summary(page), defaultSummary, `${what}: default data`);
  }
  await train(page).click(); // the defaults are usable: training starts
  await page.waitForFunction(() => ['running', 'finished'].includes(document.querySelector('#status')?.dataset.state));
  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await waitForState(page, 'idle');
  assert.deepEqual(errorsSince(mark), []);
  await page.close();
});

// ---------------------------------------------------------------- worker crash (row 35)

test('after a worker panic the data, the changed settings and the last plot are kept', async () => {
  const page = await open(env.context, 'steps=2000');
  await page.getByLabel('Dataset', { exact: true }).selectOption('linear');
  await page.locator(MAIN).click({ position: { x: 400, y: 200 } }); // hand-edited data
  await page.waitForFunction(() => document.querySelector('#dataset')?.value === 'custom');
  const data = await summary(page);
  assert.match(data, /^N = \d+ · x from /);
  for (const [l, v] of [['Seed', '17'], ['Hidden widths', '16,8'], ['Steps', '2500']]) {
    await field(page, l).fill(v);
    await field(page, l).press('Enter');
  }
  await train(page).click();
  await waitForFinish(page, 90_000);
  const plotted = await pixelCounts(page, MAIN, bandColours);
  assert.ok(plotted.mean > 300, `mean drawn before the crash (${plotted.mean} px)`);
  await page.evaluate(() => window.bayesbandTestPanic());
  await page.getByRole('alert').filter({ hasText: 'worker crashed' }).waitFor();
  env.log.errors.length = 0; // the dead worker logs its panic; expected here
  assert.equal(await summary(page), data);
  assert.equal(await page.getByLabel('Dataset', { exact: true }).inputValue(), 'custom');
  assert.equal(await field(page, 'Seed').inputValue(), '17');
  assert.equal(await field(page, 'Hidden widths').inputValue(), '16,8');
  assert.equal(await field(page, 'Steps').inputValue(), '2500');
  const after = await pixelCounts(page, MAIN, bandColours);
  assert.ok(after.mean > 300, `last plot kept (${after.mean} px)`);
  // Train again, without a reload, with the same data and settings.
  await train(page).click();
  await waitForFinish(page, 90_000);
  assert.match((await status(page)).text, /2,500/);
  assert.equal(await summary(page), data);
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

// ---------------------------------------------------------------- divergence (row 33)

test('after a divergence the main plot still shows the last good mean and bands', async () => {
  const mark = env.log.errors.length;
  const page = await open(env.context, 'steps=5000&step_size=1&warm_start_lr=1');
  const blank = await pixelCounts(page, MAIN, bandColours);
  assert.equal(blank.mean, 0, 'no mean before training');
  await train(page).click();
  await waitForState(page, 'failed', 60_000);
  await page.getByRole('alert').filter({ hasText: 'training diverged' }).filter({ hasText: 'The last good state is kept' }).waitFor();
  const failed = await pixelCounts(page, MAIN, bandColours);
  assert.ok(failed.mean > 300, `last mean drawn (${failed.mean} px)`);
  const bands = failed.total + failed.aleatoric + failed.epistemic;
  assert.ok(bands > 1500, `last bands drawn (${JSON.stringify(failed)})`);
  // Dismissing the alert and waiting do not clear the plot.
  await page.getByRole('button', { name: 'Dismiss', exact: true }).click();
  await page.waitForTimeout(500);
  assert.deepEqual(await pixelCounts(page, MAIN, bandColours), failed);
  assert.equal((await status(page)).state, 'failed');
  assert.deepEqual(errorsSince(mark), []);
  await page.close();
});

// ---------------------------------------------------------------- an outlier (row 53)

/** 40 rows of y = sin(x), x = i / 4, with y = `bad` at i = 16 (line 18 of the file). */
const withOutlier = (bad) => {
  let s = 'x,y\n';
  for (let i = 0; i < 40; i++) s += `${i / 4},${i === 16 ? bad : Math.sin(i / 4)}\n`;
  return s;
};

test('a value far outside the others is named with its line at load, Train refuses it, no NaN, tick labels stay short', async () => {
  const mark = env.log.errors.length;
  const page = await open(env.context, 'steps=2000');
  // A fit of the previous data first: the outlier's file replaces it, never fits.
  await train(page).click();
  await waitForFinish(page, 90_000);
  await page.getByLabel('Upload CSV').setInputFiles({ name: 'outlier.csv', mimeType: 'text/csv', buffer: Buffer.from(withOutlier('1e12')) });
  const atLoad = page.getByRole('alert').filter({ hasText: 'line 18: y = 1e12 lies far outside the other values' });
  await atLoad.waitFor();
  const said = await atLoad.innerText();
  assert.match(said, /robust sds away/);
  assert.match(said, /Train will refuse these data until it is corrected\./);
  // The file is read (the point can be seen on the plot), the old fit is gone.
  await page.locator('#data-summary').filter({ hasText: 'N = 40' }).waitFor();
  await page.waitForFunction(() => document.querySelector('#plot-main').dataset.hasFit === 'false');
  // Train refuses, with the reason and the point; no worker run starts.
  await train(page).click();
  const refused = page.getByRole('alert').filter({ hasText: 'Cannot train: point 17: y = 1e12 lies far outside the other values' });
  await refused.waitFor();
  await page.waitForTimeout(500);
  const s = await status(page);
  assert.equal(s.state, 'failed');
  assert.ok(s.step <= 0, `no steps taken (${s.step})`);
  assert.doesNotMatch(s.text, /Finished/);
  assert.equal(await page.locator(MAIN).getAttribute('data-has-fit'), 'false');
  // No NaN anywhere on the page (the issue saw "NaN% of the predictive variance").
  assert.doesNotMatch(await page.locator('body').innerText(), /NaN/);
  // The y axis reaches 1e12: its tick labels are in the short exponent form, and
  // none is long enough to be cut at the figure's edge (the issue saw "000e300").
  await page.waitForTimeout(200);
  const ticks = (await page.locator(MAIN).getAttribute('data-tick-labels')).split('\n');
  assert.ok(ticks.some((t) => /^\d(\.\d{1,2})?e1[12]$/.test(t)), `exponent-form labels (${ticks.join(' | ')})`);
  for (const t of ticks) assert.ok(t.length <= 8 && !/NaN|inf/i.test(t), `tick label '${t}'`);
  await page.screenshot({ path: join(SHOTS, 'outlier-1280.png') });
  // The corrected file loads without a message and fits.
  await page.getByLabel('Upload CSV').setInputFiles({ name: 'fixed.csv', mimeType: 'text/csv', buffer: Buffer.from(withOutlier('0.9')) });
  await page.waitForFunction(() => ![...document.querySelectorAll('[role=alert]')].some((a) => /far outside/.test(a.textContent)));
  await train(page).click();
  await waitForFinish(page, 90_000);
  assert.doesNotMatch(await page.locator('body').innerText(), /NaN/);
  assert.deepEqual(errorsSince(mark), []);
  await page.close();
});
