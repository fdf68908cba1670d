// What people see: screenshots of the main states at desktop and phone sizes (looked
// at by hand; saved under tests/e2e/screenshots/), HiDPI canvases, no overflow.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, open, external, waitForFinish, SHOTS } from './harness.mjs';

const envs = [];
after(async () => {
  for (const env of envs) {
    assert.deepEqual(external(env.log), []);
    await env.close();
  }
});

test('desktop 1280x800: trained page, HiDPI canvas backing store', async () => {
  const env = await start({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 2 });
  envs.push(env);
  const page = await open(env.context, 'steps=4000&kind=noise_model&noise_law=bump');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  const { w, cw } = await page.evaluate(() => {
    const c = document.querySelector('#plot-main');
    return { w: c.width, cw: c.clientWidth };
  });
  assert.equal(w, cw * 2, 'backing store is CSS size x devicePixelRatio');
  await page.screenshot({ path: join(SHOTS, 'desktop-1280x800.png') });
  await page.screenshot({ path: join(SHOTS, 'desktop-full.png'), fullPage: true });
  assert.deepEqual(env.log.errors, []);
});

test('phone 390 px wide: settings first, then the fit; no horizontal scrolling', async () => {
  const env = await start({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 3 });
  envs.push(env);
  const page = await open(env.context, 'steps=3000');
  const settings = await page.getByRole('complementary', { name: 'Settings' }).boundingBox();
  const fit = await page.getByRole('region', { name: 'Fit', exact: true }).boundingBox();
  assert.ok(settings.y < fit.y, `settings (y = ${settings.y}) above the fit (y = ${fit.y})`);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
  await page.screenshot({ path: join(SHOTS, 'phone-390.png') });
  await page.screenshot({ path: join(SHOTS, 'phone-390-full.png'), fullPage: true });
  assert.deepEqual(env.log.errors, []);
});
