/**
 * The browser app with the face model, in Chromium: an uploaded photo shows the face box the
 * server detected, enrolling it and uploading another photo of the same person recognises them,
 * and a photo without a face says "no face found" and shows no box.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { selectBackend } from '../../src/backend/select.js';
import { decodeImage, encodePng, type Image } from '../../src/data/image.js';
import { resize } from '../../src/data/preprocess.js';
import { FacePipeline } from '../../src/applications/faces/pipeline.js';
import { startService } from '../../src/service/service.js';
import { cropAroundFace, faceDemoPhoto } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM} (install it with: apt-get install -y chromium; .ci/run does)`;
const MODEL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'faces');

test('browser app with the face model: the detected box is drawn, enrol a photo, recognise another; no face: an error and no box', { skip, timeout: 180_000 }, async () => {
  await selectBackend('auto', { quiet: true });
  const full = decodeImage(readFileSync(faceDemoPhoto()), 'sample1.jpg');
  const group = resize(full, full.width / 2, full.height / 2);
  const face = (await (await FacePipeline.load()).alignFaces(group))[0]!.box;
  const photo = (img: Image, name: string) => ({ name, mimeType: 'image/png', buffer: Buffer.from(encodePng(img)) });
  const root = mkdtempSync(join(tmpdir(), 'fewshot-browser-faces-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  const service = await startService({ modelDir: MODEL_DIR, home: join(root, 'home'), port: 0, log: () => {} });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 540 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${service.url}/?backend=cpu`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });

    await page.setInputFiles('#file', photo(cropAroundFace(group, face, 2, 0), 'ann1.png'));
    await page.waitForFunction(() => window.fewshot.faceBox() !== null, undefined, { timeout: 60_000 });
    const box = (await page.evaluate(() => window.fewshot.faceBox()?.toJSON())) as { width: number; height: number };
    assert.ok(box.width > 40 && box.height > 40, JSON.stringify(box));
    await page.fill('#class-name', 'ann');
    await page.click('#enrol');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes("as 'ann'"), undefined, { timeout: 60_000 });

    await page.setInputFiles('#file', photo(cropAroundFace(group, face, 2.6, 0.15), 'ann2.png'));
    await page.waitForFunction(() => document.querySelector('#verdict')?.getAttribute('data-class') === 'ann', undefined, { timeout: 60_000 });
    assert.ok(await page.evaluate(() => window.fewshot.faceBox() !== null));

    const wall: Image = { width: 200, height: 150, channels: 3, data: new Uint8Array(200 * 150 * 3).fill(190) };
    await page.setInputFiles('#file', photo(wall, 'wall.png'));
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('no face found'), undefined, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => window.fewshot.faceBox()), null);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await service.close();
    rmSync(root, { recursive: true, force: true });
  }
});
