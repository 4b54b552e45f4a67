/**
 * Same person or not? Two face images, the shipped face model (or yours) and its calibrated
 * threshold.
 *
 *   npx tsx examples/verify-faces.ts <image-a> <image-b> [model-dir, default models/faces]
 */
import { readFileSync } from 'node:fs';
import { decodeImage, loadVerifier } from 'fewshot/node';

const [a, b, modelDir = 'models/faces'] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: verify-faces.ts <image-a> <image-b> [model-dir]');

const verifier = await loadVerifier(modelDir);
const r = verifier.verifyImages(decodeImage(readFileSync(a), a), decodeImage(readFileSync(b), b));
const verdict = r.same === null ? 'no calibrated threshold' : r.same ? 'SAME' : 'DIFFERENT';
console.log(`${verdict}: ${r.scoreKind} ${r.score.toFixed(3)}, threshold ${r.threshold?.toFixed(3) ?? '-'} (${r.meaning})`);
