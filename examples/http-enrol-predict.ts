/**
 * Enrol examples in a running service and ask it about a new image, over HTTP with fetch.
 * Start the service first (`npm start`, or `fewshot serve --model DIR`).
 *
 *   npx tsx examples/http-enrol-predict.ts <support-dir> <query-image> [url, default http://127.0.0.1:3000]
 *
 * support-dir holds one folder per class (<class>/<image>); each image is enrolled under its class.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

const [supportDir, query, url = 'http://127.0.0.1:3000'] = process.argv.slice(2);
if (!supportDir || !query) throw new Error('usage: http-enrol-predict.ts <support-dir> <query-image> [url]');

const type = (file: string): string => (extname(file).toLowerCase() === '.png' ? 'image/png' : 'image/jpeg');
async function post(path: string, file: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type(file) }, body: readFileSync(file) });
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

for (const cls of readdirSync(supportDir)) {
  for (const image of readdirSync(join(supportDir, cls))) {
    await post(`/api/classes/${encodeURIComponent(cls)}/examples`, join(supportDir, cls, image));
  }
  console.log(`enrolled ${cls}`);
}
const answer = await post('/api/predict?top=3', query);
console.log(JSON.stringify(answer.predictions), answer.unknown ? '(unknown)' : '');
