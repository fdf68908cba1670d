// The two worker builds (issue 15): the page validates a tiny relaxed-SIMD module at load
// and runs worker-relaxed.js (simd128 + relaxed-simd kernels) where the engine takes it,
// worker.js (simd128) where it does not; window.bayesbandKernels says which.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, open, external, status, waitForFinish } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => {
  assert.deepEqual(external(env.log), [], 'no request leaves 127.0.0.1');
  await env.close();
});

const wasmFetched = (log, name) => log.requests.some((u) => new URL(u).pathname.endsWith('/' + name));

async function trainShort(page) {
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForFinish(page, 90_000);
  assert.match((await status(page)).text, /Finished/);
}

test('Chromium has relaxed SIMD: the page runs the relaxed-SIMD worker build and it fits', async () => {
  env.log.requests.length = 0;
  const page = await open(env.context, 'method=psgld&steps=3000');
  assert.equal(await page.evaluate(() => window.bayesbandKernels), 'relaxed-simd');
  await trainShort(page);
  assert.ok(wasmFetched(env.log, 'worker-relaxed_bg.wasm'), 'the relaxed worker wasm was loaded');
  assert.ok(!wasmFetched(env.log, 'worker_bg.wasm'), 'the simd128 worker wasm was not');
  assert.deepEqual(env.log.errors, []);
  await page.close();
});

test('an engine without relaxed SIMD gets the simd128 worker build, and it fits', async () => {
  const { context, log, close } = await start();
  try {
    // Stand in for such an engine: the probe module (f32x4.relaxed_madd, 0xfd 0x85 0x02)
    // does not validate; every other module still does.
    await context.addInitScript(() => {
      const validate = WebAssembly.validate.bind(WebAssembly);
      WebAssembly.validate = (bytes) => {
        const b = new Uint8Array(bytes.buffer ?? bytes);
        for (let i = 0; i + 2 < b.length; i++) if (b[i] === 0xfd && b[i + 1] === 0x85 && b[i + 2] === 0x02) return false;
        return validate(bytes);
      };
    });
    const page = await open(context, 'method=psgld&steps=3000');
    assert.equal(await page.evaluate(() => window.bayesbandKernels), 'simd128');
    await trainShort(page);
    assert.ok(wasmFetched(log, 'worker_bg.wasm'), 'the simd128 worker wasm was loaded');
    assert.ok(!wasmFetched(log, 'worker-relaxed_bg.wasm'), 'the relaxed worker wasm was not');
    assert.deepEqual(log.errors, []);
  } finally {
    await close();
  }
});
