// What a new user ran into (issue 9): a fit outliving its data, Space restarting the
// fit, settings coming back silently, the column picker and validation messages,
// the phone layout and touch, the status line, and short links.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, open, external, status, waitForState, waitForFinish, waitForStep, pixelCounts, MAIN, BAND_COLOURS, BASE, SHOTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => {
  assert.deepEqual(external(env.log), [], 'no request leaves 127.0.0.1');
  await env.close();
});

const xAxis = async (page) => (await page.locator(MAIN).getAttribute('data-x-axis')).split(',').map(Number);
const noiseTable = (page) => page.getByRole('heading', { name: 'Noise parameters (data units)' });
const words = (page) => page.locator('#fit-summary');

test('a change of the data clears the fit: bands, Finished, noise table and In words go; the axes follow the new points', async () => {
  const page = await open(env.context, 'steps=2000&kind=noise_model');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  assert.match((await status(page)).text, /Finished/);
  await noiseTable(page).waitFor();
  assert.match(await words(page).innerText(), /widest/);
  const [, oldHi] = await xAxis(page);
  // Pasted points far to the right of the old fit's x range.
  await page.getByLabel('Paste data').fill('x,y\n10,1\n11,2\n12,1.5\n13,3\n14,2\n15,2.5\n');
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  await page.locator('#data-summary').filter({ hasText: 'N = 6' }).waitFor();
  await page.waitForFunction(() => document.querySelector('#plot-main').dataset.hasFit === 'false');
  const s = await status(page);
  assert.equal(s.state, 'idle');
  assert.doesNotMatch(s.text, /Finished/);
  assert.equal(await noiseTable(page).count(), 0, 'no noise table of the old fit');
  assert.match(await words(page).innerText(), /^6 data points.*No fit yet/);
  await page.waitForTimeout(200); // the next animation frame redraws
  const [lo, hi] = await xAxis(page);
  assert.ok(oldHi < 10, `old axis ended at ${oldHi}`);
  assert.ok(lo <= 10 && hi >= 15, `new points inside the axes (${lo}..${hi})`);
  const px = await pixelCounts(page, MAIN, BAND_COLOURS);
  assert.equal(px.mean, 0, 'no mean line of the old fit');
  // Another data set, Regenerate: the same.
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  await page.getByLabel('Dataset', { exact: true }).selectOption('linear');
  await page.waitForFunction(() => document.querySelector('#plot-main').dataset.hasFit === 'false');
  assert.equal((await status(page)).state, 'idle');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForStep(page, 1);
  await page.getByRole('button', { name: 'Regenerate', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('#plot-main').dataset.hasFit === 'false');
  await page.waitForTimeout(500);
  assert.equal((await status(page)).state, 'idle', 'the running fit of the old data stopped');
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('a click on the plot greys the old fit as the fit of the previous data until Train', async () => {
  const page = await open(env.context, 'steps=2000');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  const n = Number((await page.locator('#data-summary').innerText()).match(/N = (\d+)/)[1]);
  const box = await page.locator(MAIN).boundingBox();
  await page.locator(MAIN).click({ position: { x: box.width * 0.6, y: box.height * 0.5 } });
  await page.locator('#data-summary').filter({ hasText: `N = ${n + 1}` }).waitFor();
  await page.waitForFunction(() => document.querySelector('#plot-main').dataset.stale === 'true');
  const s = await status(page);
  assert.equal(s.state, 'idle');
  assert.match(s.text, /fit of the previous data/);
  assert.match(await words(page).innerText(), new RegExp(`^${n + 1} data points.*fit of the previous data`));
  await page.waitForTimeout(200);
  const px = await pixelCounts(page, MAIN, { ...BAND_COLOURS, grey: [150, 150, 150, 6] });
  assert.equal(px.mean, 0, 'the old mean is no longer drawn in the fit colour');
  assert.ok(px.grey > 200, `the old fit is drawn grey (${px.grey} px)`);
  await page.screenshot({ path: join(SHOTS, 'stale-fit-1280.png') });
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  assert.equal(await page.locator(MAIN).getAttribute('data-stale'), 'false');
  assert.ok((await pixelCounts(page, MAIN, BAND_COLOURS)).mean > 300, 'the new fit in colour');
  await page.close();
});

test('Space, S and R do what the page says with a button focused: Space on a clicked Train pauses, never restarts', async () => {
  const page = await open(env.context, 'steps=400000');
  const train = page.getByRole('button', { name: 'Train', exact: true });
  await train.click(); // focus stays on Train
  await waitForStep(page, 2000);
  const before = (await status(page)).step;
  await page.keyboard.press('Space');
  await waitForState(page, 'paused');
  await page.waitForTimeout(300);
  const paused = (await status(page)).step;
  assert.ok(paused >= before, `not restarted (step ${before} -> ${paused})`);
  await page.keyboard.press('Space');
  await waitForState(page, 'running');
  await waitForStep(page, paused + 500);
  assert.ok((await status(page)).step > paused, 'resumed where it was');
  // Keyboard focus on a button (Tab), then S: pauses (Step while running), S again steps.
  await page.getByRole('button', { name: 'Reset', exact: true }).focus();
  await page.keyboard.press('s');
  await waitForState(page, 'paused');
  await page.waitForTimeout(300);
  const p2 = (await status(page)).step;
  await page.keyboard.press('s');
  await waitForStep(page, p2 + 100, 10_000);
  // Space on the focused Pause/Resume button resumes once (not twice: the key is not also a click).
  await page.getByRole('button', { name: 'Resume', exact: true }).focus();
  await page.keyboard.press('Space');
  await waitForState(page, 'running');
  await page.waitForTimeout(300);
  assert.equal((await status(page)).state, 'running');
  await train.focus();
  await page.keyboard.press('r');
  await waitForState(page, 'idle');
  // Not in text fields.
  await page.getByLabel('Hidden widths').focus();
  await page.keyboard.press('Space');
  await page.waitForTimeout(300);
  assert.equal((await status(page)).state, 'idle');
  await page.close();
});

test('saved settings are announced at load and Restore defaults brings back the first visit', async () => {
  const page = await open(env.context, 'steps=4000&step_size=0.05&data=linear');
  await page.getByLabel('Steps', { exact: true }).waitFor();
  // Nothing is said when a link set the settings.
  assert.equal(await page.getByRole('region', { name: 'Restored settings' }).count(), 0);
  await page.goto(BASE); // the bare address: the saved settings come back
  const note = page.getByRole('region', { name: 'Restored settings' });
  await note.waitFor();
  assert.match(await note.innerText(), /step_size=0\.05/);
  assert.match(await note.innerText(), /Restore defaults/);
  assert.equal(await page.getByLabel('Steps', { exact: true }).inputValue(), '4000');
  await page.screenshot({ path: join(SHOTS, 'restored-1280.png') });
  await note.getByRole('button', { name: 'Restore defaults', exact: true }).click();
  await note.waitFor({ state: 'detached' });
  // The first visit's method (NUTS) and its draws; pSGLD's step size is its default again.
  assert.equal(await page.getByLabel('Method', { exact: true }).inputValue(), 'nuts');
  assert.equal(await page.getByLabel('Draws kept / chain', { exact: true }).inputValue(), '150');
  assert.equal(await page.getByLabel('Dataset', { exact: true }).inputValue(), 'bump');
  await page.getByLabel('Method', { exact: true }).selectOption('psgld');
  assert.equal(await page.getByLabel('Steps', { exact: true }).inputValue(), '20000');
  assert.equal(await page.getByLabel(/^Step size/).inputValue(), '0.0002');
  await page.getByLabel('Method', { exact: true }).selectOption('nuts');
  await page.goto(BASE);
  await page.getByRole('button', { name: 'Train', exact: true }).waitFor();
  assert.equal(await page.getByRole('region', { name: 'Restored settings' }).count(), 0, 'the defaults are not announced');
  // The settings panel's own button does the same.
  await page.getByLabel('Draws kept / chain', { exact: true }).fill('400');
  await page.getByLabel('Draws kept / chain', { exact: true }).press('Enter');
  await page.getByRole('complementary', { name: 'Settings' }).getByRole('button', { name: 'Restore defaults' }).click();
  assert.equal(await page.getByLabel('Draws kept / chain', { exact: true }).inputValue(), '150');
  await page.close();
});

test('the column picker shows the columns the data use; validation messages go when the value is valid; -5 is reported as -5', async () => {
  const page = await open(env.context);
  await page.getByLabel('Upload CSV').setInputFiles({
    name: 'three.csv', mimeType: 'text/csv', buffer: Buffer.from('time,signal,other\n0,1,5\n1,2,6\n2,2.5,7\n3,2,8\n'),
  });
  await page.locator('#data-summary').filter({ hasText: 'time from' }).waitFor();
  // x := the y column: the columns swap, and both pickers say so.
  await page.getByLabel('x column').selectOption({ label: 'signal' });
  await page.locator('#data-summary').filter({ hasText: 'signal from 1 to 2.5' }).waitFor();
  assert.equal(await page.getByLabel('x column').inputValue(), '1');
  assert.equal(await page.getByLabel('y column').inputValue(), '0');
  // Draws (the default method's budget): -5 is reported as typed; a valid value removes the message.
  const steps = page.getByLabel('Draws kept / chain', { exact: true });
  await steps.fill('-5');
  await steps.press('Enter');
  const err = page.getByRole('alert').filter({ hasText: 'got -5' });
  await err.waitFor();
  assert.doesNotMatch(await err.innerText(), /got 0/);
  await steps.fill('3000');
  await steps.press('Enter');
  await err.waitFor({ state: 'detached' });
  // N of a generated set: the same.
  await page.getByLabel('Dataset', { exact: true }).selectOption('bump');
  const n = page.getByLabel('N', { exact: true });
  await n.fill('1');
  await n.press('Enter');
  const nErr = page.getByRole('alert').filter({ hasText: 'N must be between 2' });
  await nErr.waitFor();
  await n.fill('80');
  await n.press('Enter');
  await nErr.waitFor({ state: 'detached' });
  await page.locator('#data-summary').filter({ hasText: 'N = 80' }).waitFor();
  await page.close();
});

test('the status line shows the elapsed time and one spelling of R-hat; the noise-law box only for the noise model', async () => {
  const page = await open(env.context, 'steps=3000');
  assert.equal(await page.getByLabel('Noise law formula and priors').count(), 0, 'no law box for the two-head model');
  await page.getByLabel('Model', { exact: true }).selectOption('homoskedastic');
  assert.equal(await page.getByLabel('Noise law formula and priors').count(), 0, 'none for the homoskedastic model');
  await page.getByLabel('Model', { exact: true }).selectOption('noise_model');
  await page.getByLabel('Noise law formula and priors').waitFor();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForStep(page, 1);
  assert.match((await status(page)).text, /elapsed \d+\.\d s/, 'while running');
  await waitForFinish(page, 90_000);
  const s = (await status(page)).text;
  assert.match(s, /elapsed \d+\.\d s|elapsed \d+ min/, s);
  assert.match(s, /R-hat \d/, s);
  const text = await page.locator('body').innerText();
  assert.ok(!text.includes('R\u0302'), 'no R̂ anywhere on the page');
  assert.match(await page.locator('.params table').innerText(), /R-hat/);
  await page.screenshot({ path: join(SHOTS, 'status-1280.png') });
  await page.close();
});

test('Copy link gives a short link, says Copied, and an old full link still opens to the same settings', async () => {
  await env.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(BASE).origin });
  const page = await open(env.context, 'v=2');
  await page.getByLabel('Steps', { exact: true }).fill('4321');
  await page.getByLabel('Steps', { exact: true }).press('Enter');
  await page.getByRole('button', { name: 'Copy link', exact: true }).click();
  await page.locator('#copied').filter({ hasText: 'Copied' }).waitFor();
  assert.equal(await page.locator('#copied').getAttribute('aria-live'), 'polite', 'announced');
  const link = await page.getByLabel('Link to these settings').inputValue();
  // A v=2 link meant pSGLD and NeuroBayes's NUTS settings: the v=5 link of the same settings names them.
  assert.equal(new URL(link).search, '?v=5&draws=100&extend=false&max_depth=10&method=psgld&steps=4321&warmup=1000');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
  // A link made before v=2 (every setting spelled out) opens to the same settings.
  const old = 'data=linear&n=77&dseed=1&activation=tanh&hidden=32,16,8&kind=noise_model&noise_law=step&prior_scale=1.0&raw_scale=false&sigma_floor=0.001&batch_size=256&beta_nll=0.0&burn_in_frac=0.3&chains=2&cycles=0&draws=100&kl_ramp_frac=0.3&kl_weight=0.1&mean_warmup=true&method=vi&minibatch_above=1000&psgld_alpha=0.99&psgld_freeze=true&psgld_lambda=0.00001&seed=17&sgld_decay_offset=1000.0&step_size=0.0002&steps=4321&vi_init_sd=0.001&vi_lr=0.001&vi_lr_final=0.0001&warm_start_frac=0.1&warm_start_lr=0.01';
  const other = await open(env.context, old);
  assert.equal(await other.getByLabel('Dataset', { exact: true }).inputValue(), 'linear');
  assert.equal(await other.getByLabel('N', { exact: true }).inputValue(), '77');
  assert.equal(await other.getByLabel('Model', { exact: true }).inputValue(), 'noise_model');
  assert.equal(await other.getByLabel('Noise law', { exact: true }).inputValue(), 'step');
  assert.equal(await other.getByLabel('Method', { exact: true }).inputValue(), 'vi');
  assert.equal(await other.getByLabel('Steps', { exact: true }).inputValue(), '4321');
  // The address bar now holds the same settings as a short link.
  assert.equal(new URL(other.url()).search, '?v=5&data=linear&n=77&dseed=1&kind=noise_model&noise_law=step&draws=100&method=vi&seed=17&steps=4321');
  await page.close();
  await other.close();
});

test('phone 390x844 with touch: settings first, a tap adds a point and a long press removes it', async () => {
  const phone = await start({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, hasTouch: true, isMobile: true });
  try {
    const page = await open(phone.context, 'steps=2000');
    const picker = await page.getByLabel('Dataset', { exact: true }).boundingBox();
    assert.ok(picker.y + picker.height < 844, `the data set picker is on the first screen (y = ${picker.y})`);
    assert.match(await page.locator('.controls').innerText(), /long-press to remove/);
    await page.screenshot({ path: join(SHOTS, 'phone-390-settings-first.png') });
    const plot = page.locator(MAIN);
    await plot.scrollIntoViewIfNeeded();
    const box = await plot.boundingBox();
    const n = Number((await page.locator('#data-summary').innerText()).match(/N = (\d+)/)[1]);
    // A point at the right of the plot, away from the data's cloud.
    const x = box.x + box.width * 0.93, y = box.y + box.height * 0.2;
    await page.touchscreen.tap(x, y);
    await page.locator('#data-summary').filter({ hasText: `N = ${n + 1}` }).waitFor();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] });
    await page.waitForTimeout(900);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await page.locator('#data-summary').filter({ hasText: `N = ${n}` }).waitFor();
    await page.waitForTimeout(300);
    assert.match(await page.locator('#data-summary').innerText(), new RegExp(`N = ${n} `), 'the long press removed, and added nothing');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
    await page.screenshot({ path: join(SHOTS, 'phone-390-touch.png') });
    assert.deepEqual(phone.log.errors, []);
    assert.deepEqual(external(phone.log), []);
  } finally {
    await phone.close();
  }
});
