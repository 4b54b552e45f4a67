/**
 * Hostile requests for the service, as fast-check arbitraries: random bytes, truncated and
 * bit-flipped PNG/JPEG, images declaring huge sizes, wrong content types, broken multipart bodies
 * and hostile class names, sent to every write and read route. Shared by the seeded test
 * (test/service/fuzz.test.ts) and the longer run (bench/fuzz-service.ts).
 */
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import { encodePng } from '../../src/data/image.js';
import { drawShape, multipartBody } from './helpers.js';

export interface FuzzRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** What the case is, for failure messages. */
  label: string;
}

const validPng = Buffer.from(encodePng(drawShape('triangle', 40, 3)));
const validJpeg = (() => {
  const w = 32;
  const data = Buffer.alloc(w * w * 4, 255);
  for (let i = 4; i < 28; i++) for (let c = 0; c < 3; c++) data[(i * w + i) * 4 + c] = 0;
  return Buffer.from(jpeg.encode({ width: w, height: w, data }, 80).data);
})();

/** Names a client could try: traversal, control characters, markup, overlong, odd Unicode. */
export const hostileName = fc.oneof(
  fc.constantFrom(
    '..', '../etc/passwd', '%2e%2e%2f', 'a/b', 'a\\b', ' lead', 'trail ', '', ' ', '\u0000', 'nul\u0000byte', '<script>alert(1)</script>',
    "'; DROP TABLE classes; --", 'x'.repeat(65), 'x'.repeat(5000), '\u202eevil', '\ud800', 'e\u0301', '🙂', 'CON', '.hidden', '-', '__proto__', 'constructor',
  ),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

function flipBits(bytes: Buffer, positions: number[]): Buffer {
  const out = Buffer.from(bytes);
  for (const p of positions) out[p % out.length]! ^= 1 << (p % 8);
  return out;
}

function hugePng(width: number, height: number): Buffer {
  const b = Buffer.from(validPng);
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
}

function hugeJpeg(width: number, height: number): Buffer {
  // APP0 stub, then a baseline SOF declaring the size, then a truncated scan.
  return Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0, 0xff, 0xda, 0, 2]);
}

/** Image-ish payloads, mostly invalid. */
export const imageBytes = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((b) => ({ bytes: Buffer.from(b), label: `random ${b.length} bytes` })),
  fc.nat({ max: validPng.length - 1 }).map((n) => ({ bytes: validPng.subarray(0, n), label: `PNG truncated at ${n}` })),
  fc.nat({ max: validJpeg.length - 1 }).map((n) => ({ bytes: validJpeg.subarray(0, n), label: `JPEG truncated at ${n}` })),
  fc.array(fc.nat({ max: 1 << 20 }), { minLength: 1, maxLength: 8 }).map((p) => ({ bytes: flipBits(validPng, p), label: `PNG with bits flipped at ${p}` })),
  fc.array(fc.nat({ max: 1 << 20 }), { minLength: 1, maxLength: 8 }).map((p) => ({ bytes: flipBits(validJpeg, p), label: `JPEG with bits flipped at ${p}` })),
  fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })).map(([w, h]) => ({ bytes: hugePng(w, h), label: `PNG declaring ${w}x${h}` })),
  fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 })).map(([w, h]) => ({ bytes: hugeJpeg(w, h), label: `JPEG declaring ${w}x${h}` })),
  fc.constant({ bytes: Buffer.alloc(0), label: 'empty' }),
  fc.constant({ bytes: Buffer.from('P5\n99999 99999\n255\n'), label: 'PGM declaring 99999x99999' }),
);

const contentTypes = fc.constantFrom('image/png', 'image/jpeg', 'application/json', 'text/plain', 'application/octet-stream', 'image/gif', 'multipart/form-data', 'image/png; charset=utf-8', 'IMAGE/PNG', '');

/** A body with its content type: raw images under any type, or multipart edge cases. */
export const imageBody = fc.oneof(
  fc.tuple(imageBytes, contentTypes).map(([img, type]) => ({ body: img.bytes, contentType: type, label: `${img.label} as '${type}'` })),
  fc.tuple(fc.array(imageBytes, { minLength: 0, maxLength: 20 }), fc.array(fc.constantFrom('image', 'a', 'b', '', 'x"y', 'a\r\nb'), { minLength: 20, maxLength: 20 })).map(([imgs, fields]) => {
    const form = multipartBody(imgs.map((im, i) => ({ field: fields[i]!, filename: `f${i}.png`, type: 'image/png', data: im.bytes })));
    return { body: Buffer.from(form.body), contentType: form.contentType, label: `multipart of ${imgs.length}: ${imgs.map((i) => i.label).join(', ')}` };
  }),
  fc.tuple(imageBytes, fc.constantFrom('no-boundary', 'wrong-boundary', 'unterminated', 'no-disposition', 'field-not-file', 'huge-header')).map(([img, kind]) => {
    const b = 'XbOuNdArY';
    const part = (head: string) => Buffer.concat([Buffer.from(`--${b}\r\n${head}\r\n\r\n`), img.bytes]);
    const bodies: Record<string, [Buffer, string]> = {
      'no-boundary': [Buffer.concat([part('Content-Disposition: form-data; name="image"; filename="a.png"'), Buffer.from(`\r\n--${b}--\r\n`)]), 'multipart/form-data'],
      'wrong-boundary': [Buffer.concat([part('Content-Disposition: form-data; name="image"; filename="a.png"'), Buffer.from(`\r\n--${b}--\r\n`)]), 'multipart/form-data; boundary=other'],
      unterminated: [part('Content-Disposition: form-data; name="image"; filename="a.png"'), `multipart/form-data; boundary=${b}`],
      'no-disposition': [Buffer.concat([part('Content-Type: image/png'), Buffer.from(`\r\n--${b}--\r\n`)]), `multipart/form-data; boundary=${b}`],
      'field-not-file': [Buffer.concat([part('Content-Disposition: form-data; name="image"'), Buffer.from(`\r\n--${b}--\r\n`)]), `multipart/form-data; boundary=${b}`],
      'huge-header': [Buffer.concat([part(`Content-Disposition: form-data; name="image"; filename="${'a'.repeat(100_000)}"`), Buffer.from(`\r\n--${b}--\r\n`)]), `multipart/form-data; boundary=${b}`],
    };
    const [body, contentType] = bodies[kind]!;
    return { body, contentType, label: `multipart ${kind} with ${img.label}` };
  }),
);

const jsonBody = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{"format":"fewshot-gallery/1"}', '{"format":"fewshot-gallery/1","model":{"id":"x","embeddingDim":16},"classes":[]}', '{"__proto__":{"polluted":1}}', '[1,2', '{"a":' + '['.repeat(5000)),
);

/** One request to any route, write or read, with hostile parts. */
export function fuzzRequest(modelId: string, dim: number): fc.Arbitrary<FuzzRequest> {
  const enc = (s: string) => {
    try {
      return encodeURIComponent(s);
    } catch {
      return '%ED%A0%80'; // a lone surrogate: send its (invalid) UTF-8 escape
    }
  };
  const validImport = fc.tuple(hostileName, fc.array(fc.oneof(fc.double(), fc.constant(Number.NaN), fc.string()), { maxLength: dim + 2 })).map(([name, emb]) =>
    JSON.stringify({ format: 'fewshot-gallery/1', model: { id: modelId, embeddingDim: dim, metric: 'l2' }, classes: [{ name, examples: [{ sha256: '0'.repeat(64), embedding: emb }] }] }),
  );
  const withImage = (method: 'POST', path: string) =>
    imageBody.map((b): FuzzRequest => ({ method, path, headers: b.contentType ? { 'content-type': b.contentType } : {}, body: b.body, label: `${method} ${path}: ${b.label}` }));
  return fc.oneof(
    hostileName.chain((name) => withImage('POST', `/api/classes/${enc(name)}/examples`).map((r) => ({ ...r, label: `${r.label} (class ${JSON.stringify(name)})` }))),
    withImage('POST', '/api/predict'),
    fc.tuple(imageBody, fc.constantFrom('', '?top=0', '?top=-1', '?top=101', '?top=abc', '?top=1e3', '?top=3')).map(([b, q]) => ({ method: 'POST' as const, path: `/api/predict${q}`, headers: { 'content-type': b.contentType }, body: b.body, label: `predict${q}: ${b.label}` })),
    withImage('POST', '/api/verify'),
    withImage('POST', '/api/embed'),
    fc.tuple(fc.oneof(jsonBody, validImport), fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1'), fc.boolean()).map(([body, type, replace]) => ({
      method: 'POST' as const,
      path: `/api/gallery/import${replace ? '?replace=true' : ''}`,
      headers: { 'content-type': type },
      body: Buffer.from(body),
      label: `import (${type}): ${body.slice(0, 120)}`,
    })),
    hostileName.map((name) => ({ method: 'DELETE' as const, path: `/api/classes/${enc(name)}`, headers: {}, label: `DELETE class ${JSON.stringify(name)}` })),
    fc.oneof(fc.constantFrom('0', '-1', '1.5', 'abc', '9007199254740993', '1e3', '%00', '99999999'), fc.string({ maxLength: 12 })).map((id) => ({ method: 'DELETE' as const, path: `/api/examples/${enc(id)}`, headers: {}, label: `DELETE example ${JSON.stringify(id)}` })),
    fc.tuple(hostileName, fc.string({ maxLength: 12 })).map(([name, id]) => ({ method: 'DELETE' as const, path: `/api/classes/${enc(name)}/examples/${enc(id)}`, headers: {}, label: `DELETE ${JSON.stringify(name)}/${JSON.stringify(id)}` })),
    hostileName.map((name) => ({ method: 'GET' as const, path: `/api/classes/${enc(name)}`, headers: {}, label: `GET class ${JSON.stringify(name)}` })),
    fc.constantFrom('/api/classes', '/api/gallery/export', '/api/gallery/snapshot', '/model/..%2Ffewshot.json', '/model/%00', '/api/classes/', '//api//classes').map((path) => ({ method: 'GET' as const, path, headers: {}, label: `GET ${path}` })),
  );
}

/**
 * What the gallery must hold after a fuzz run: what it held before, changed only by the answers
 * that acknowledged a write (201 enrolment, 200 delete or import).
 */
export class ExpectedGallery {
  private readonly counts: Map<string, number>;
  acknowledgedWrites = 0;

  constructor(classes: { name: string; examples: number }[]) {
    this.counts = new Map(classes.map((c) => [c.name, c.examples]));
  }

  /** `now`: the gallery's classes after an acknowledged import (its effect is taken as reported). */
  observe(req: FuzzRequest, status: number, body: any, now: () => { name: string; examples: number }[]): void {
    if (status >= 300 || req.method === 'GET' || /\/api\/(predict|verify|embed)/.test(req.path)) return;
    this.acknowledgedWrites++;
    if (req.path.includes('/gallery/import')) for (const c of now()) this.counts.set(c.name, c.examples);
    else if (req.method === 'POST') this.counts.set(body.class, (this.counts.get(body.class) ?? 0) + (body.ids?.length ?? 1));
    else if (body.examples !== undefined) this.counts.delete(body.class);
    else this.counts.set(body.class, this.counts.get(body.class)! - 1);
  }

  /** Differences from the gallery's classes ([] when it holds exactly what was acknowledged). */
  differences(classes: { name: string; examples: number }[]): string[] {
    const actual = new Map(classes.map((c) => [c.name, c.examples]));
    const out: string[] = [];
    for (const name of new Set([...actual.keys(), ...this.counts.keys()])) {
      if (actual.get(name) !== this.counts.get(name)) out.push(`${JSON.stringify(name)}: expected ${this.counts.get(name) ?? 'absent'}, found ${actual.get(name) ?? 'absent'}`);
    }
    return out;
  }
}
