// Shared set-up for the browser tests: Debian's Chromium driven by playwright-core,
// a fresh profile per test file, and a record of every request and console error.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOTAL_ALPHA, ALEATORIC_ALPHA, EPISTEMIC_ALPHA } from './colours.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BASE = process.env.BAYESBAND_URL ?? 'http://127.0.0.1:8080/';
export const SUBPATH = process.env.BAYESBAND_SUBPATH_URL ?? BASE;
export const SHOTS = join(ROOT, 'tests', 'e2e', 'screenshots');
mkdirSync(SHOTS, { recursive: true });

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Start Chromium with a fresh user-data-dir. */
export async function start({ viewport = { width: 1280, height: 800 }, deviceScaleFactor = 1, hasTouch = false, isMobile = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bayesband-e2e-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    viewport,
    deviceScaleFactor,
    hasTouch,
    isMobile,
    acceptDownloads: true,
  });
  const log = { requests: [], errors: [] };
  context.on('request', (r) => log.requests.push(r.url()));
  const watch = (page) => {
    page.on('console', (m) => { if (m.type() === 'error') log.errors.push(m.text()); });
    page.on('pageerror', (e) => log.errors.push(String(e)));
  };
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
  const close = async () => { await context.close(); rmSync(dir, { recursive: true, force: true }); };
  return { context, log, close };
}

/** Requests that left the loopback host (blob: and data: URLs stay in the page). */
export function external(log) {
  return log.requests.filter((u) => !/^(blob:|data:)/.test(u) && new URL(u).hostname !== '127.0.0.1');
}

/** Open the app (optionally with a query string) and wait until it has rendered. */
export async function open(context, query = '', base = BASE) {
  const page = context.pages()[0] && context.pages()[0].url() === 'about:blank' ? context.pages()[0] : await context.newPage();
  await page.goto(base + (query ? '?' + query : ''));
  await page.getByRole('button', { name: 'Train', exact: true }).waitFor();
  return page;
}

/** The status line's state and step. */
export async function status(page) {
  const el = page.locator('#status');
  return { state: await el.getAttribute('data-state'), step: Number(await el.getAttribute('data-step') ?? -1), text: await el.innerText() };
}

export async function waitForState(page, state, timeout = 60_000) {
  await page.waitForFunction((s) => document.querySelector('#status')?.dataset.state === s, state, { timeout });
}

/**
 * Wait until a fit ends (Finished or failed) and assert it finished; a failed fit
 * fails the test with the page's alert and status line, not with a timeout.
 */
export async function waitForFinish(page, timeout = 90_000) {
  await page.waitForFunction(() => ['finished', 'failed'].includes(document.querySelector('#status')?.dataset.state), null, { timeout });
  const state = await page.locator('#status').getAttribute('data-state');
  if (state !== 'finished') {
    const alert = await page.getByRole('alert').allInnerTexts().catch(() => []);
    assert.fail(`the fit ${state}: ${(await status(page)).text} | ${alert.join(' | ')}`);
  }
}

export async function waitForStep(page, atLeast, timeout = 60_000) {
  await page.waitForFunction((n) => Number(document.querySelector('#status')?.dataset.step ?? -1) >= n, atLeast, { timeout });
}

/**
 * Count canvas pixels close to each colour (device pixels). Bands are translucent
 * fills over white, so they are matched against the colour blended with white.
 */
export async function pixelCounts(page, selector, colours) {
  return page.evaluate(async ({ selector, colours }) => {
    // The page draws its figures two animation frames after a change (the first lays
    // out the text): read the canvas after a third.
    for (let i = 0; i < 3; i++) await new Promise((r) => requestAnimationFrame(r));
    const c = document.querySelector(selector);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const out = {};
    for (const [name, [r, g, b, tol]] of Object.entries(colours)) {
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (Math.abs(d[i] - r) <= tol && Math.abs(d[i + 1] - g) <= tol && Math.abs(d[i + 2] - b) <= tol) n++;
      }
      out[name] = n;
    }
    return out;
  }, { selector, colours });
}

/** A colour blended over white at opacity a, as [r, g, b, tolerance]. */
export function overWhite([r, g, b], a, tol = 6) {
  return layered([[[r, g, b], a]], tol);
}

/** Translucent layers painted in order over white, as [r, g, b, tolerance]. */
export function layered(layers, tol = 8) {
  let c = [255, 255, 255];
  for (const [rgb, a] of layers) c = c.map((v, i) => rgb[i] * a + v * (1 - a));
  return [...c.map(Math.round), tol];
}

export const OKABE_ITO = {
  blue: [0, 114, 178], sky: [86, 180, 233], orange: [230, 159, 0], green: [0, 158, 115], vermillion: [213, 94, 0],
};

/** The main plot's canvas, and the colours of its mean and of its bands as they show
 * over white (each band drawn over the wider ones). */
export const MAIN = '#plot-main';
export const BAND_COLOURS = {
  mean: [...OKABE_ITO.blue, 40],
  total: overWhite(OKABE_ITO.sky, TOTAL_ALPHA, 8),
  aleatoric: layered([[OKABE_ITO.sky, TOTAL_ALPHA], [OKABE_ITO.orange, ALEATORIC_ALPHA]], 10),
  epistemic: layered([[OKABE_ITO.sky, TOTAL_ALPHA], [OKABE_ITO.orange, ALEATORIC_ALPHA], [OKABE_ITO.green, EPISTEMIC_ALPHA]], 12),
};
