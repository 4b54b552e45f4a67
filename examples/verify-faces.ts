/**
 * Same person or not? Two photos, the shipped face model (or yours) and its calibrated
 * threshold. Face models find and align the largest face of each photo first.
 *
 *   npx tsx examples/verify-faces.ts <photo-a> <photo-b> [model-dir, default models/faces]
 */
import { readFileSync } from 'node:fs';
import { decodeImage, loadScorer, selectBackend, Verifier } from 'fewshot/node';

const [a, b, modelDir = 'models/faces'] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: verify-faces.ts <photo-a> <photo-b> [model-dir]');

await selectBackend('auto', { quiet: true });
const scorer = await loadScorer(modelDir);
// Face detection is asynchronous; a photo without a face rejects with "<file>: no face found".
const [pa, pb] = await scorer.prepareWithFaces([a, b].map((f) => decodeImage(readFileSync(f), f)), [a, b]);
const [ea, eb] = scorer.embed([pa!.pixels, pb!.pixels]);
const r = new Verifier(scorer).verifyEmbeddings(ea!, eb!);
const verdict = r.same === null ? 'no calibrated threshold' : r.same ? 'SAME' : 'DIFFERENT';
console.log(`${verdict}: ${r.scoreKind} ${r.score.toFixed(3)}, threshold ${r.threshold?.toFixed(3) ?? '-'} (${r.meaning})`);
