import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, open, external, SHOTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env.close(); });

test('the page loads without console errors and names its controls', async () => {
  const page = await open(env.context);
  assert.match(await page.title(), /BayesBand/);
  for (const name of ['Train', 'Pause', 'Step', 'Reset', 'Download predictions (CSV)', 'Copy link']) {
    await page.getByRole('button', { name, exact: true }).waitFor();
  }
  for (const label of ['Dataset', 'Model', 'Noise law', 'Method', 'Upload CSV']) {
    assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, label);
  }
  await page.getByRole('status').waitFor();
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/, 'a strict CSP is in force (and the page ran under it)');
  await page.screenshot({ path: join(SHOTS, 'load-1280.png') });
  assert.deepEqual(env.log.errors, []);
  assert.deepEqual(external(env.log), []);
});
