// Your own noise law (issue 13): the Noise law picker's "Custom formula", the "Noise
// formula" field checked as it is typed (errors with their column in an alert beside
// it, the previous formula kept), the priors table, a fit on NeuroBayes's notebook data
// that reports a and b in data units, a link that carries the formula, and hostile
// formulas refused before Train with nothing NaN on screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, open, external, status, waitForFinish, SHOTS, BASE } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => {
  assert.deepEqual(external(env.log), [], 'no request leaves 127.0.0.1');
  await env.close();
});

const field = (page) => page.getByLabel('Noise formula', { exact: true });
const alertBeside = (page) => page.locator('.law .field [role="alert"]');

/** Type into the formula field as a user does (one input event per character);
 * with `enter`, then press Enter (the formula is applied if good). */
async function typeFormula(page, text, enter = false) {
  await field(page).fill('');
  await field(page).pressSequentially(text);
  if (enter) await field(page).press('Enter');
}

test('a formula typed on the notebook data fits, and a and b come with intervals in data units', async () => {
  const page = await open(env.context, 'data=notebook:nb_exp&kind=noise_model&steps=3000&hidden=8');
  // A built-in law fills the field with its formula.
  assert.equal(await page.getByLabel('Noise law', { exact: true }).inputValue(), 'exponential');
  assert.equal(await field(page).inputValue(), 'a*exp(b*x)');
  await page.getByLabel('Noise law', { exact: true }).selectOption('bump');
  assert.equal(await field(page).inputValue(), 'base + amp*exp(-(x - c)^2/(2*w^2))');
  const rows = page.locator('table.prior-table tbody tr');
  assert.deepEqual(await rows.locator('th').allInnerTexts(), ['base', 'amp', 'c', 'w']);
  await page.getByRole('table', { name: 'Priors of the noise parameters' }).waitFor();
  // "Custom formula" starts from the formula shown; typing checks as it goes.
  await page.getByLabel('Noise law', { exact: true }).selectOption('custom');
  assert.equal(await field(page).inputValue(), 'base + amp*exp(-(x - c)^2/(2*w^2))');
  await typeFormula(page, 'a*expp(b*x)');
  await alertBeside(page).filter({ hasText: "unknown function 'expp' at column 3" }).waitFor();
  assert.equal(await field(page).getAttribute('aria-invalid'), 'true');
  await typeFormula(page, 'a*exp(b*x');
  await alertBeside(page).filter({ hasText: "missing ')' at column 10" }).waitFor();
  await typeFormula(page, 'a*exp(b*x)', true);
  assert.equal(await alertBeside(page).count(), 0, 'a good formula clears the alert');
  assert.deepEqual(await rows.locator('th').allInnerTexts(), ['a', 'b']);
  // A new parameter is real with a prior scaled to the data; mark a positive.
  assert.equal(await page.getByLabel('Prior of a', { exact: true }).inputValue(), 'real');
  assert.equal(await page.getByLabel('Scale of b', { exact: true }).inputValue(), '1/sd_x');
  await page.getByLabel('Prior of a', { exact: true }).selectOption('positive');
  assert.equal(await page.getByLabel('Location of a', { exact: true }).inputValue(), 'log(sd_y)');
  assert.match(await rows.nth(0).locator('td.numbers').innerText(), /^lognormal\(0\.3\d+, 2\)$/);
  // A prior's scale must be positive: refused beside the table, the previous one kept.
  await page.getByLabel('Scale of b', { exact: true }).fill('-1');
  await page.getByLabel('Scale of b', { exact: true }).press('Enter');
  await page.locator('.law > [role="alert"]').filter({ hasText: 'must be positive' }).waitFor();
  await page.getByLabel('Scale of b', { exact: true }).fill('0.5');
  await page.getByLabel('Scale of b', { exact: true }).press('Enter');
  assert.match(await rows.nth(1).locator('td.numbers').innerText(), /^normal\(0, 0\.5\)$/);
  assert.equal(await page.locator('.law > [role="alert"]').count(), 0);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 120_000);
  assert.match((await status(page)).text, /Finished/);
  const params = page.locator('.params table tbody tr');
  assert.deepEqual(await params.locator('th').allInnerTexts(), ['a', 'b']);
  for (const row of await params.all()) {
    const cells = await row.locator('td').allInnerTexts();
    const mean = Number(cells[0]);
    const [lo, hi] = cells[1].split('…').map((v) => Number(v.trim()));
    assert.ok(Number.isFinite(mean) && lo <= mean && mean <= hi, `mean inside its interval: ${cells}`);
    const rhat = Number(cells[2]);
    assert.ok(Number.isFinite(rhat) && rhat > 0.9, `an R-hat per parameter: ${cells}`);
    const ess = Number(cells[3]);
    assert.ok(Number.isInteger(ess) && ess >= 1, `an ESS per parameter: ${cells}`);
  }
  const heads = page.locator('.params table thead th');
  assert.deepEqual(await heads.allInnerTexts(), ['θ', 'mean', '95% interval', 'R-hat', 'ESS']);
  assert.match(await heads.nth(4).getAttribute('title'), /Effective sample size/);
  // nb_exp's true law is 0.1 exp(0.3 x): loose bounds in data units.
  const a = Number((await params.nth(0).locator('td').allInnerTexts())[0]);
  assert.ok(a > 0.02 && a < 0.5, `a = ${a}`);
  assert.ok(!(await page.locator('body').innerText()).includes('NaN'), 'no NaN on screen');
  await page.screenshot({ path: join(SHOTS, 'formula-1280.png') });
  // The link carries the formula and its priors; a fresh page opens to the same law.
  await page.getByRole('button', { name: 'Copy link', exact: true }).click();
  const link = await page.getByLabel('Link to these settings').inputValue();
  assert.match(link, /noise_law=custom/);
  assert.match(link, /noise_formula=a%2Aexp%28b%2Ax%29/);
  assert.match(link, /noise_priors=/);
  const other = await env.context.newPage();
  await other.goto(link);
  await other.evaluate(() => localStorage.clear());
  await other.goto(link);
  await other.getByRole('button', { name: 'Train', exact: true }).waitFor();
  assert.equal(await other.getByLabel('Noise law', { exact: true }).inputValue(), 'custom');
  assert.equal(await field(other).inputValue(), 'a*exp(b*x)');
  assert.equal(await other.getByLabel('Prior of a', { exact: true }).inputValue(), 'positive');
  assert.equal(await other.getByLabel('Scale of b', { exact: true }).inputValue(), '0.5');
  assert.deepEqual(env.log.errors, []);
  await other.close();
  await page.close();
});

test('hostile formulas are refused before Train, the previous formula is kept, nothing NaN on screen', async () => {
  const page = await open(env.context, 'data=notebook:nb_exp&kind=noise_model&noise_law=custom&noise_formula=a*exp(b*x)&steps=2500&hidden=8');
  assert.equal(await field(page).inputValue(), 'a*exp(b*x)');
  for (const [text, words] of [
    ['a*exp(1000*x)', /exp at column 3 gives inf/],
    ['a/(x - x)', /division by zero/],
    ['a*log(x - 2)', /log at column 3 gives/],
    ['2*x + 1', /the formula does not depend on any parameter/],
  ]) {
    await typeFormula(page, text, true);
    await alertBeside(page).filter({ hasText: words }).waitFor();
  }
  // Train fits the last good formula.
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 120_000);
  assert.deepEqual(await page.locator('.params table tbody tr th').allInnerTexts(), ['a', 'b']);
  assert.ok(!(await page.locator('body').innerText()).includes('NaN'), 'no NaN on screen');
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('a preset\'s formula edited becomes the custom law, the floor is said, and formula and priors come back from the saved settings and a project file', async () => {
  const page = await open(env.context, 'data=notebook:nb_exp&kind=noise_model&noise_law=exponential');
  // The positivity transform is said beside the field.
  const hint = await page.locator('#noise-formula-hint').innerText();
  assert.match(hint, /smooth floor/);
  assert.match(hint, /softplus/);
  // Editing the preset's formula makes it the custom law, with the preset's priors kept
  // for the parameters it still has.
  await typeFormula(page, 'a*exp(b*x) + s', true);
  assert.equal(await alertBeside(page).count(), 0);
  assert.equal(await page.getByLabel('Noise law', { exact: true }).inputValue(), 'custom');
  const rows = page.locator('table.prior-table tbody tr');
  assert.deepEqual(await rows.locator('th').allInnerTexts(), ['a', 'b', 's']);
  assert.equal(await page.getByLabel('Prior of a', { exact: true }).inputValue(), 'positive');
  assert.equal(await page.getByLabel('Prior of s', { exact: true }).inputValue(), 'real');
  assert.equal(await page.getByLabel('Scale of s', { exact: true }).inputValue(), 'sd_y');
  // Location and kind are editable; a location refused leaves the previous one.
  await page.getByLabel('Location of b', { exact: true }).fill('0.1');
  await page.getByLabel('Location of b', { exact: true }).press('Enter');
  assert.match(await rows.nth(1).locator('td.numbers').innerText(), /^normal\(0\.1, /);
  await page.getByLabel('Location of b', { exact: true }).fill('x');
  await page.getByLabel('Location of b', { exact: true }).press('Enter');
  await page.locator('.law > [role="alert"]').filter({ hasText: "cannot depend on 'x'" }).waitFor();
  assert.equal(await page.getByLabel('Location of b', { exact: true }).inputValue(), '0.1');
  await page.getByLabel('Prior of s', { exact: true }).selectOption('positive');
  assert.equal(await page.getByLabel('Location of s', { exact: true }).inputValue(), 'log(sd_y)');
  assert.equal(await page.locator('.law > [role="alert"]').count(), 0);
  // A half-typed formula goes when a law is picked; the field shows that law's formula.
  await typeFormula(page, 'a*expp(');
  await alertBeside(page).waitFor();
  await page.getByLabel('Noise law', { exact: true }).selectOption('constant');
  assert.equal(await field(page).inputValue(), 'c');
  assert.equal(await alertBeside(page).count(), 0);
  await typeFormula(page, 'a*exp(b*x) + s', true);
  await page.getByLabel('Location of b', { exact: true }).fill('0.1');
  await page.getByLabel('Location of b', { exact: true }).press('Enter');
  await page.getByLabel('Prior of s', { exact: true }).selectOption('positive');
  const expect = async (p) => {
    assert.equal(await p.getByLabel('Noise law', { exact: true }).inputValue(), 'custom');
    assert.equal(await field(p).inputValue(), 'a*exp(b*x) + s');
    assert.equal(await p.getByLabel('Location of b', { exact: true }).inputValue(), '0.1');
    assert.equal(await p.getByLabel('Prior of s', { exact: true }).inputValue(), 'positive');
  };
  // Saved in this browser: a visit without a link brings them back.
  await page.goto(BASE);
  await page.getByRole('button', { name: 'Train', exact: true }).waitFor();
  await expect(page);
  // A project file carries them to a browser that has never seen them.
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download project (JSON)', exact: true }).click()]);
  const other = await env.context.newPage();
  await other.goto(BASE);
  // Once the page has started (it saves its settings at start-up), forget them.
  await other.getByRole('button', { name: 'Train', exact: true }).waitFor();
  await other.evaluate(() => localStorage.clear());
  await other.goto(BASE);
  await other.getByRole('button', { name: 'Train', exact: true }).waitFor();
  assert.equal(await field(other).count(), 0, 'a first visit fits the two-head model: no formula field');
  await other.getByLabel('Open project').setInputFiles(await d.path());
  await field(other).waitFor();
  await expect(other);
  assert.ok(!(await other.locator('body').innerText()).includes('NaN'), 'no NaN on screen');
  assert.deepEqual(env.log.errors, []);
  await other.close();
  await page.close();
});
