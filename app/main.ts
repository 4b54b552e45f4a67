/**
 * The browser app: draw (or drop) a character, enrol it under a name, and see it recognised live.
 * Recognition runs twice: instantly in the page (TF.js, against the gallery's embeddings) and on
 * the server (POST /api/predict), which is the authority and also covers large galleries.
 */
import { decodeImage } from '../src/data/image.js';
import { chooseBackend, imageFromRgba, PageModel, similarity, type ModelInfo } from './page_model.js';
import { PageFaces } from './page_faces.js';

interface Prediction {
  class: string;
  score: number;
}
/** Face models: the face the server used, in the uploaded canvas image's pixels. */
interface FaceAnswer {
  box: { x: number; y: number; width: number; height: number };
  score: number;
}
interface GalleryEntry {
  id: number;
  class: string;
  embedding: Float32Array;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('canvas');
const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
const statusLine = $<HTMLParagraphElement>('status');
const tokenInput = $<HTMLInputElement>('token');

let model: PageModel | null = null;
let faces: PageFaces | null = null; // face models: the face pipeline, run in the page
let pageFace: FaceAnswer | null = null; // the face the page found last
let backendName = '';
let info: ModelInfo | null = null;
let gallery: GalleryEntry[] | null = null; // null: too large for the page, the server answers alone
let drawn = false;
let serverRequest = 0;

function setStatus(text: string, error = false): void {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', error);
}

function authHeaders(): Record<string, string> {
  const t = tokenInput.value.trim();
  return t ? { authorization: `Bearer ${t}` } : {};
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, init);
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new Error(typeof body === 'object' && body && 'message' in body ? String(body.message) : `${res.status} ${res.statusText}`);
  return body as T;
}

// --- drawing ----------------------------------------------------------------------------------
function clearCanvas(): void {
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  drawn = false;
  showVerdict(null);
  renderResults('page-results', []);
  renderResults('server-results', []);
  showFaceBox(null);
}

/** Outlines the detected face over the canvas (face models; the server finds it). */
function showFaceBox(face: FaceAnswer | null): void {
  const el = $('face-box');
  el.hidden = !face;
  if (!face) return;
  // Canvas pixels -> CSS pixels of the canvas inside the drop zone.
  const k = canvas.clientWidth / canvas.width;
  Object.assign(el.style, {
    left: `${canvas.offsetLeft + face.box.x * k}px`, top: `${canvas.offsetTop + face.box.y * k}px`,
    width: `${face.box.width * k}px`, height: `${face.box.height * k}px`,
  });
  el.title = `face, detector confidence ${face.score.toFixed(2)}`;
}

function setupDrawing(): void {
  let last: [number, number] | null = null;
  const pos = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  };
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = pos(e);
    ctx.fillStyle = '#000';
    ctx.beginPath();
    ctx.arc(last[0], last[1], 4, 0, 2 * Math.PI);
    ctx.fill();
    drawn = true;
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = pos(e);
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 8;
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    last = p;
    scheduleLiveRecognition();
  });
  const end = () => {
    if (!last) return;
    last = null;
    void recognise();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
}

/** Draws an image file onto the canvas (fit, centred, on white). */
async function loadFile(file: Blob): Promise<void> {
  stopLive();
  const bitmap = await createImageBitmap(file);
  clearCanvas();
  drawFit(bitmap, bitmap.width, bitmap.height);
  drawn = true;
  await recognise();
}

/** Draws an image or video frame onto the canvas, fit and centred, on white. */
function drawFit(source: CanvasImageSource, width: number, height: number): void {
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const scale = Math.min(canvas.width / width, canvas.height / height);
  const w = width * scale;
  const h = height * scale;
  ctx.drawImage(source, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
}

// --- live camera (face models) ---------------------------------------------------------------------
let stream: MediaStream | null = null;

/** Webcam frames on the canvas, each with the face the page finds in it outlined; Capture keeps one. */
async function startLive(): Promise<void> {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (e) {
    setStatus(`camera: ${(e as Error).message}`, true);
    return;
  }
  const video = $<HTMLVideoElement>('video');
  video.srcObject = stream;
  await video.play();
  $('live').textContent = 'Stop camera';
  $('capture').hidden = false;
  clearCanvas();
  const frame = async (): Promise<void> => {
    if (!stream) return;
    if (video.videoWidth > 0) {
      drawFit(video, video.videoWidth, video.videoHeight);
      // Preview: the tiny detector alone, so that the loop keeps up; Capture runs the model's own.
      const [f] = await faces!.find(canvasImage(), { maxFaces: 1, detector: 'tiny-face-detector', fallback: false });
      if (!stream) return;
      showFaceBox(f ? { box: f.box, score: f.score } : null);
    }
    requestAnimationFrame(() => void frame());
  };
  void frame();
}

function stopLive(): void {
  if (!stream) return;
  for (const t of stream.getTracks()) t.stop();
  stream = null;
  $<HTMLVideoElement>('video').srcObject = null;
  $('live').textContent = 'Live camera';
  $('capture').hidden = true;
}

function capture(): void {
  if (!stream) return;
  stopLive(); // the canvas keeps the last frame
  drawn = true;
  void recognise();
}

function canvasImage() {
  const d = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return imageFromRgba(d.data, d.width, d.height);
}

function canvasPng(): Promise<Blob> {
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('cannot encode the drawing'))), 'image/png'));
}

// --- recognition ---------------------------------------------------------------------------------
function rank(scores: number[], entries: GalleryEntry[], top = 5): Prediction[] {
  const best = new Map<string, number>();
  entries.forEach((e, i) => best.set(e.class, Math.max(best.get(e.class) ?? -Infinity, scores[i]!)));
  return [...best.entries()].map(([c, s]) => ({ class: c, score: s })).sort((a, b) => b.score - a.score).slice(0, top);
}

function isUnknown(preds: Prediction[]): boolean {
  if (preds.length === 0) return true;
  return info!.threshold !== null && preds[0]!.score < info!.threshold;
}

function recogniseInPage(): Prediction[] | null {
  if (!model || !gallery || !drawn) return null;
  const q = model.embed(canvasImage());
  const preds = rank(model.similarity(q, gallery.map((g) => g.embedding)), gallery);
  renderResults('page-results', preds);
  showVerdict(preds);
  return preds;
}

/** Instant feedback while drawing, at most every 150 ms so that slow models keep the pen fluid. */
let liveTimer: number | undefined;
function scheduleLiveRecognition(): void {
  if (liveTimer !== undefined) return;
  liveTimer = window.setTimeout(() => {
    liveTimer = undefined;
    recogniseInPage();
  }, 150);
}

/** Face models: detect, align and embed in the page, outline the face, rank it against the gallery. */
let pageRequest = 0;
async function recogniseFaceInPage(): Promise<void> {
  const n = ++pageRequest;
  const t0 = performance.now();
  const [face] = await faces!.find(canvasImage(), { maxFaces: 1 });
  if (n !== pageRequest) return;
  pageFace = face ? { box: face.box, score: face.score } : null;
  $('page-backend').textContent = `(TF.js ${backendName}: face ${face ? 'found' : 'not found'} in ${Math.round(performance.now() - t0)} ms)`;
  showFaceBox(pageFace);
  if (!face || !gallery) {
    renderResults('page-results', []);
    return;
  }
  const preds = rank(similarity(info!.meta, faces!.embed(face), gallery.map((g) => g.embedding)), gallery);
  renderResults('page-results', preds);
  showVerdict(preds);
}

async function recognise(): Promise<void> {
  if (!drawn) return;
  if (faces) void recogniseFaceInPage().catch((e: Error) => setStatus(`page: ${e.message}`, true));
  else recogniseInPage();
  const n = ++serverRequest;
  try {
    const r = await api<{ predictions: Prediction[]; unknown: boolean; search: string; face?: FaceAnswer }>('/api/predict', {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: await canvasPng(),
    });
    if (n !== serverRequest) return; // a newer drawing is on its way
    showFaceBox(r.face ?? null);
    renderResults('server-results', r.predictions);
    $('server-search').textContent = `(${r.search} search)`;
    showVerdict(r.predictions, r.unknown);
  } catch (e) {
    if (n === serverRequest) showFaceBox(null);
    setStatus(`server: ${(e as Error).message}`, true);
  }
}

function showVerdict(preds: Prediction[] | null, unknown = preds ? isUnknown(preds) : false): void {
  const v = $('verdict');
  if (!preds) {
    v.textContent = 'draw something';
    v.className = 'verdict';
    return;
  }
  v.textContent = unknown ? (preds.length ? `unknown (closest: ${preds[0]!.class})` : 'unknown (the gallery is empty)') : preds[0]!.class;
  v.className = unknown ? 'verdict unknown' : 'verdict';
  v.dataset['class'] = unknown ? '' : preds[0]!.class;
  v.dataset['unknown'] = String(unknown);
}

function renderResults(id: string, preds: Prediction[]): void {
  const list = $(id);
  list.replaceChildren();
  const lo = Math.min(...preds.map((p) => p.score), 0);
  const hi = Math.max(...preds.map((p) => p.score), 1e-9);
  for (const p of preds) {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.textContent = p.class;
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${Math.max(2, ((p.score - lo) / (hi - lo || 1)) * 100)}%`;
    const score = document.createElement('span');
    score.className = 'score';
    score.textContent = p.score.toFixed(3);
    li.append(name, bar, score);
    list.append(li);
  }
}

// --- classes ----------------------------------------------------------------------------------
async function refreshGallery(): Promise<void> {
  // The listing and the snapshot are protected reads when the server has a token.
  const classes = await api<{ name: string; examples: number }[]>('/api/classes', { headers: authHeaders() });
  const list = $('classes');
  list.replaceChildren();
  for (const c of classes) {
    const li = document.createElement('li');
    li.dataset['class'] = c.name;
    const label = document.createElement('span');
    label.textContent = `${c.name} (${c.examples})`;
    const del = document.createElement('button');
    del.type = 'button';
    del.textContent = 'delete';
    del.addEventListener('click', () => void deleteClass(c.name));
    li.append(label, del);
    list.append(li);
  }
  const snap = await api<{ available: boolean; size: number; examples: { id: number; class: string; embedding: number[] }[] }>('/api/gallery/snapshot', { headers: authHeaders() });
  gallery = snap.available ? snap.examples.map((e) => ({ id: e.id, class: e.class, embedding: Float32Array.from(e.embedding) })) : null;
  $('gallery-size').textContent = `${classes.length} classes, ${snap.size} examples${snap.available ? '' : ' (server-side search only)'}`;
}

async function enrol(name: string): Promise<void> {
  if (!drawn) {
    setStatus('draw or open an image first', true);
    return;
  }
  try {
    const r = await api<{ class: string; id: number }>(`/api/classes/${encodeURIComponent(name)}/examples`, {
      method: 'POST',
      headers: { 'content-type': 'image/png', ...authHeaders() },
      body: await canvasPng(),
    });
    // The list first, so "enrolled" never shows while the list still lacks the class.
    await refreshGallery();
    setStatus(`enrolled example ${r.id} as '${r.class}'`);
    clearCanvas();
  } catch (e) {
    setStatus(`enrol failed: ${(e as Error).message}`, true);
  }
}

async function deleteClass(name: string): Promise<void> {
  try {
    await api(`/api/classes/${encodeURIComponent(name)}`, { method: 'DELETE', headers: authHeaders() });
    setStatus(`deleted '${name}'`);
    await refreshGallery();
  } catch (e) {
    setStatus(`delete failed: ${(e as Error).message}`, true);
  }
}

// --- start ----------------------------------------------------------------------------------
async function main(): Promise<void> {
  clearCanvas();
  setupDrawing();
  tokenInput.value = localStorage.getItem('fewshot-token') ?? '';
  tokenInput.addEventListener('change', () => localStorage.setItem('fewshot-token', tokenInput.value.trim()));
  $('clear').addEventListener('click', () => {
    stopLive();
    clearCanvas();
  });
  $<HTMLFormElement>('enrol-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void enrol($<HTMLInputElement>('class-name').value.trim());
  });
  for (const id of ['file', 'camera']) {
    $<HTMLInputElement>(id).addEventListener('change', (e) => {
      const f = (e.target as HTMLInputElement).files?.[0];
      if (f) void loadFile(f);
    });
  }
  const zone = $('drop-zone');
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) void loadFile(f);
  });

  info = await api<ModelInfo>('/api/model');
  if (info.writeNeedsToken) ($<HTMLDetailsElement>('token-box')).open = !tokenInput.value;
  backendName = await chooseBackend(new URLSearchParams(location.search).get('backend'));
  $('page-backend').textContent = `(TF.js ${backendName})`;
  if (info.faceWeightsUrl) {
    setStatus('loading the face networks…');
    faces = await PageFaces.load(info);
    $('live').hidden = false;
    $('live').addEventListener('click', () => void (stream ? stopLive() : startLive()));
    $('capture').addEventListener('click', capture);
  } else {
    model = info.modelUrl ? await PageModel.load(info) : null;
  }
  const m = info.meta;
  $('model-info').textContent = `${info.name} · ${m.method}/${m.encoder} · ${m.inputShape.join('x')} → ${m.embeddingDim} · threshold ${info.threshold === null ? 'none' : info.threshold.toFixed(3)}`;
  await refreshGallery();
  setStatus(model ? 'ready: draw a character, name it, press Enrol; draw again to recognise'
    : 'ready: drop or take a photo (or use the live camera), name the person, press Enrol; another photo to recognise');
  document.body.dataset['ready'] = 'true';
}

/** Hooks for tests and scripts: the page's embedding of image bytes, with the page's own model. */
declare global {
  interface Window {
    fewshot: { ready: Promise<void>; embedBytes(bytes: Uint8Array): number[]; embedCanvas(): number[]; backend(): string; faceBox(): DOMRect | null; pageFace(): FaceAnswer | null; live(): boolean };
  }
}
const ready = main().catch((e: Error) => {
  setStatus(`cannot start: ${e.message}`, true);
  throw e;
});
window.fewshot = {
  ready,
  embedBytes: (bytes) => Array.from(model!.embed(decodeImage(bytes, 'bytes'))),
  embedCanvas: () => Array.from(model!.embed(canvasImage())),
  backend: () => ($('page-backend').textContent ?? ''),
  faceBox: () => ($('face-box').hidden ? null : $('face-box').getBoundingClientRect()),
  pageFace: () => pageFace,
  live: () => stream !== null,
};
