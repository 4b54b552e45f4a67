/**
 * The browser app in a real browser (Debian's Chromium driven by playwright-core): the page's
 * TF.js embeddings equal the server's, three drawn symbols are enrolled, a fourth drawing is
 * recognised, and the gallery is intact after reloading the page and restarting the server.
 * Set FEWSHOT_SCREENSHOTS=docs to refresh the README's screenshots, FEWSHOT_APP_MODEL=DIR to use
 * another model than the shipped Omniglot one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { selectBackend } from '../../src/backend/select.js';
import { DEFAULT_MODEL_DIR } from '../../src/inference/default_model.js';
import { startService, type RunningService } from '../../src/service/service.js';
import { Rng } from '../../src/util/random.js';
import { bytes, saveTestModel, SHAPES, shapePng, type Shape } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const skip = existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM} (install it with: apt-get install -y chromium; .ci/run does)`;

/** Draws strokes (unit coordinates) on the page's canvas with the mouse, jittered by `seed`. */
async function draw(page: Page, shape: Shape, seed: number, scale = 1): Promise<void> {
  const box = (await page.locator('#canvas').boundingBox())!;
  const rng = new Rng(seed);
  const dx = (rng.next() - 0.5) * 0.08;
  const dy = (rng.next() - 0.5) * 0.08;
  const at = (x: number, y: number): [number, number] => [
    box.x + box.width * (0.5 + (x - 0.5) * scale + dx + (rng.next() - 0.5) * 0.02),
    box.y + box.height * (0.5 + (y - 0.5) * scale + dy + (rng.next() - 0.5) * 0.02),
  ];
  for (const stroke of SHAPES[shape]) {
    await page.mouse.move(...at(...stroke[0]!));
    await page.mouse.down();
    for (let i = 1; i < stroke.length; i++) {
      const [x0, y0] = stroke[i - 1]!;
      const [x1, y1] = stroke[i]!;
      for (let s = 1; s <= 6; s++) await page.mouse.move(...at(x0 + ((x1 - x0) * s) / 6, y0 + ((y1 - y0) * s) / 6));
    }
    await page.mouse.up();
  }
}

async function serverEmbedding(url: string, png: Uint8Array<ArrayBuffer>): Promise<number[]> {
  const r = await fetch(`${url}/api/embed`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
  assert.equal(r.status, 200);
  return ((await r.json()) as { embeddings: number[][] }).embeddings[0]!;
}

async function classNames(page: Page): Promise<string[]> {
  return page.locator('#classes li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset['class']!));
}

test('browser app: page embeddings equal the server\'s; enrol three drawings, recognise a fourth, survive reload and restart', { skip, timeout: 180_000 }, async (t) => {
  await selectBackend('cpu', { quiet: true });
  const root = mkdtempSync(join(tmpdir(), 'fewshot-browser-'));
  const shots = process.env['FEWSHOT_SCREENSHOTS'] ? resolve(process.env['FEWSHOT_SCREENSHOTS']) : null;
  let modelDir = process.env['FEWSHOT_APP_MODEL'] ? resolve(process.env['FEWSHOT_APP_MODEL']) : DEFAULT_MODEL_DIR;
  if (!existsSync(join(modelDir, 'model.json'))) {
    modelDir = join(root, 'model');
    await saveTestModel(modelDir, 'distance');
    t.diagnostic(`the shipped model is missing from ${DEFAULT_MODEL_DIR}; using an untrained test model`);
  }
  const home = join(root, 'home');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  let service: RunningService | null = await startService({ modelDir, home, port: 0, log: () => {} });
  try {
    const port = Number(new URL(service.url).port);
    const page = await browser.newPage({ viewport: { width: 1200, height: 540 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${service.url}/?backend=cpu`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });

    // 1. The page's TF.js model gives the server's embeddings.
    const images = [shapePng('circle', 105), shapePng('zigzag', 105, 3), shapePng('bars', 64, 1), shapePng('triangle', 280, 2)];
    let worst = 0;
    for (const png of images) {
      const fromPage = await page.evaluate((b) => window.fewshot.embedBytes(new Uint8Array(b)), Array.from(png));
      const fromServer = await serverEmbedding(service.url, png);
      assert.equal(fromPage.length, fromServer.length);
      for (let i = 0; i < fromPage.length; i++) worst = Math.max(worst, Math.abs(fromPage[i]! - fromServer[i]!));
    }
    t.diagnostic(`largest page/server embedding difference (TF.js cpu): ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-4, `page and server embeddings differ by ${worst}`);

    // The page's default backend (WebGL where the browser has it, else the CPU) agrees too.
    const defaultPage = await browser.newPage();
    await defaultPage.goto(service.url);
    await defaultPage.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    let worstDefault = 0;
    for (const png of images.slice(0, 2)) {
      const fromPage = await defaultPage.evaluate((b) => window.fewshot.embedBytes(new Uint8Array(b)), Array.from(png));
      const fromServer = await serverEmbedding(service.url, png);
      for (let i = 0; i < fromPage.length; i++) worstDefault = Math.max(worstDefault, Math.abs(fromPage[i]! - fromServer[i]!));
    }
    const defaultBackend = await defaultPage.evaluate(() => window.fewshot.backend());
    t.diagnostic(`largest page/server embedding difference ${defaultBackend}: ${worstDefault.toExponential(2)}`);
    assert.ok(worstDefault <= 1e-4, `page (${defaultBackend}) and server embeddings differ by ${worstDefault}`);
    await defaultPage.close();

    // 2. Enrol three drawn symbols.
    const symbols: Shape[] = ['circle', 'cross', 'triangle'];
    for (const [i, s] of symbols.entries()) {
      await page.click('#clear');
      await draw(page, s, 10 + i);
      await page.fill('#class-name', s);
      await page.click('#enrol');
      await page.waitForFunction((name) => document.querySelector('#status')?.textContent?.includes(`as '${name}'`), s);
      // The page says "enrolled" before it refreshes the class list (app/main.ts): wait for the list too.
      await page.waitForFunction((name) => [...document.querySelectorAll('#classes li')].some((e) => (e as HTMLElement).dataset['class'] === name), s);
    }
    assert.deepEqual(await classNames(page), ['circle', 'cross', 'triangle']);

    // The drawn canvas embeds identically in the page and on the server, too.
    await draw(page, 'circle', 99);
    const canvasPage = await page.evaluate(() => window.fewshot.embedCanvas());
    const canvasPngBytes = await page.evaluate(async () => {
      const blob = await new Promise<Blob>((r) => (document.getElementById('canvas') as HTMLCanvasElement).toBlob((b) => r(b!), 'image/png'));
      return Array.from(new Uint8Array(await blob.arrayBuffer()));
    });
    const canvasServer = await serverEmbedding(service.url, bytes(Uint8Array.from(canvasPngBytes)));
    assert.ok(canvasPage.every((v, i) => Math.abs(v - canvasServer[i]!) <= 1e-4), 'drawn canvas: page and server embeddings agree');

    // 3. A fourth drawing (another triangle, smaller and shifted) is recognised.
    await page.click('#clear');
    await draw(page, 'triangle', 42, 0.8);
    await page.waitForFunction(() => document.querySelectorAll('#server-results li').length > 0);
    const verdict = await page.locator('#verdict').getAttribute('data-class');
    const serverTop = await page.locator('#server-results li span').first().textContent();
    const pageTop = await page.locator('#page-results li span').first().textContent();
    assert.equal(serverTop, 'triangle');
    assert.equal(pageTop, 'triangle', 'the in-page ranking agrees with the server');
    assert.ok(verdict === 'triangle' || (await page.locator('#verdict').getAttribute('data-unknown')) === 'true');
    if (shots) {
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, 'app-recognise.png') });
    }
    const fourthPng = bytes(Uint8Array.from(await page.evaluate(async () => {
      const blob = await new Promise<Blob>((r) => (document.getElementById('canvas') as HTMLCanvasElement).toBlob((b) => r(b!), 'image/png'));
      return Array.from(new Uint8Array(await blob.arrayBuffer()));
    })));
    const predictFourth = async () =>
      (await (await fetch(`${service!.url}/api/predict`, { method: 'POST', body: fourthPng, headers: { 'content-type': 'image/png' } })).json()) as { predictions: unknown[] };
    const before = await predictFourth();

    // 4. Reload the page, then restart the server on the same port: the gallery is intact.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    assert.deepEqual(await classNames(page), symbols);
    await service.close();
    service = null;
    service = await startService({ modelDir, home, port, log: () => {} });
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    assert.deepEqual(await classNames(page), symbols);
    assert.equal(await page.locator('#gallery-size').textContent(), '3 classes, 3 examples');
    assert.deepEqual((await predictFourth()).predictions, before.predictions, 'the restarted server ranks the fourth drawing exactly as before');
    await draw(page, 'triangle', 77);
    await page.waitForFunction(() => document.querySelectorAll('#server-results li').length === 3);
    if (shots) await page.screenshot({ path: join(shots, 'app-after-restart.png') });
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await browser.close();
    await service?.close();
    rmSync(root, { recursive: true, force: true });
  }
});
