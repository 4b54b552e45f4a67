/**
 * The browser app with the face model, in Chromium: the page runs the face pipeline itself
 * (face-api on the page's TF.js, weights from this server) and the server checks it: an uploaded
 * photo shows the detected face box, enrolling it and uploading another photo of the same person
 * recognises them, a photo without a face says "no face found" and shows no box; and the live
 * camera (Chromium's fake camera playing a face photo) outlines the face live and captures it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { selectBackend } from '../../src/backend/select.js';
import { decodeImage, encodePng, type Image } from '../../src/data/image.js';
import { resize } from '../../src/data/preprocess.js';
import { FacePipeline } from '../../src/applications/faces/pipeline.js';
import { startService } from '../../src/service/service.js';
import { cropAroundFace, faceDemoPhoto } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM} (install it with: apt-get install -y chromium; .ci/run does)`;
const MODEL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'faces');

/** sample1 of face-api's demo at half size, and its largest face's box. */
async function groupPhoto(): Promise<{ group: Image; face: { x: number; y: number; width: number; height: number } }> {
  await selectBackend('auto', { quiet: true });
  const full = decodeImage(readFileSync(faceDemoPhoto()), 'sample1.jpg');
  const group = resize(full, full.width / 2, full.height / 2);
  return { group, face: (await (await FacePipeline.load()).alignFaces(group))[0]!.box };
}

const photo = (img: Image, name: string) => ({ name, mimeType: 'image/png', buffer: Buffer.from(encodePng(img)) });

/**
 * The app on the face model in Chromium (the page on the wasm backend), ready; no page errors by
 * the end. `setup` writes what Chromium needs into the temp folder and returns its extra flags.
 */
async function withFacePage(setup: (root: string) => string[], body: (page: Page) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'fewshot-browser-faces-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', ...setup(root)] });
  const service = await startService({ modelDir: MODEL_DIR, home: join(root, 'home'), port: 0, log: () => {} });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 540 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${service.url}/?backend=wasm`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    await body(page);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await service.close();
    rmSync(root, { recursive: true, force: true });
  }
}

test('browser app with the face model: the detected box is drawn, enrol a photo, recognise another; no face: an error and no box', { skip, timeout: 180_000 }, async () => {
  const { group, face } = await groupPhoto();
  await withFacePage(() => [], async (page) => {
    await page.setInputFiles('#file', photo(cropAroundFace(group, face, 2, 0), 'ann1.png'));
    await page.waitForFunction(() => window.fewshot.faceBox() !== null, undefined, { timeout: 60_000 });
    const box = (await page.evaluate(() => window.fewshot.faceBox()?.toJSON())) as { width: number; height: number };
    assert.ok(box.width > 40 && box.height > 40, JSON.stringify(box));
    // The page found the face itself, where the server did (canvas pixels).
    await page.waitForFunction(() => window.fewshot.pageFace() !== null, undefined, { timeout: 120_000 });
    const pageFace = (await page.evaluate(() => window.fewshot.pageFace()))!;
    assert.ok(pageFace.score > 0.5 && pageFace.box.width > 40, JSON.stringify(pageFace));
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
  });
});

/** One 4:2:0 frame of `img` (RGB) as a Y4M file: what Chromium's fake camera plays in a loop. */
function y4m(img: Image): Buffer {
  const { width: w, height: h } = img;
  const y = Buffer.alloc(w * h), u = Buffer.alloc((w / 2) * (h / 2)), v = Buffer.alloc((w / 2) * (h / 2));
  const px = (i: number, c: number) => img.data[i * 3 + c]!;
  for (let i = 0; i < w * h; i++) y[i] = Math.round(0.299 * px(i, 0) + 0.587 * px(i, 1) + 0.114 * px(i, 2));
  for (let r = 0; r < h / 2; r++) {
    for (let c = 0; c < w / 2; c++) {
      const i = 2 * r * w + 2 * c;
      const [R, G, B] = [0, 1, 2].map((k) => (px(i, k) + px(i + 1, k) + px(i + w, k) + px(i + w + 1, k)) / 4) as [number, number, number];
      u[r * (w / 2) + c] = Math.max(0, Math.min(255, Math.round(128 - 0.168736 * R - 0.331264 * G + 0.5 * B)));
      v[r * (w / 2) + c] = Math.max(0, Math.min(255, Math.round(128 + 0.5 * R - 0.418688 * G - 0.081312 * B)));
    }
  }
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F30:1 Ip A1:1 C420jpeg\nFRAME\n`), y, u, v]);
}

test('browser app live camera: the page outlines the face in each frame, Capture recognises it', { skip, timeout: 240_000 }, async () => {
  const { group, face } = await groupPhoto();
  // A 4:3 view around the face (not stretched), as a webcam would see it, played by Chromium's fake camera.
  const view = { x: face.x + face.width / 2 - (face.height * 2) / 3, y: face.y, width: (face.height * 4) / 3, height: face.height };
  const camera = (root: string) => {
    const file = join(root, 'camera.y4m');
    writeFileSync(file, y4m(resize(cropAroundFace(group, view, 2.4, 0), 640, 480)));
    return ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${file}`];
  };
  await withFacePage(camera, async (page) => {
    // Enrol the person from an uploaded photo first.
    await page.setInputFiles('#file', photo(cropAroundFace(group, face, 2, 0), 'ann.png'));
    await page.fill('#class-name', 'ann');
    await page.click('#enrol');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes("as 'ann'"), undefined, { timeout: 120_000 });

    await page.click('#live');
    await page.waitForFunction(() => window.fewshot.live() && window.fewshot.faceBox() !== null, undefined, { timeout: 120_000 });
    const live = (await page.evaluate(() => window.fewshot.faceBox()?.toJSON())) as { width: number; height: number };
    assert.ok(live.width > 30 && live.height > 30, JSON.stringify(live));
    await page.click('#capture');
    assert.equal(await page.evaluate(() => window.fewshot.live()), false);
    await page.waitForFunction(() => document.querySelector('#verdict')?.getAttribute('data-class') === 'ann', undefined, { timeout: 120_000 });
    // The page ranked the captured face against the gallery itself, too.
    await page.waitForFunction(() => document.querySelector('#page-results')?.textContent?.includes('ann'), undefined, { timeout: 120_000 });
  });
});
