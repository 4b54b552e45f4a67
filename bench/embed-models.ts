/**
 * What a model costs per image at inference, against a reference model, in the same process:
 * `npx tsx bench/embed-models.ts REFERENCE_DIR MODEL_DIR... [--rounds 7]`
 * (e.g. the previous models/omniglot, extracted with `git show REV:models/omniglot/FILE`, against
 * the current one). Rounds are interleaved (every model once per round, the order rotated); each
 * round embeds 512 synthetic images at batch 32 and 50 single images. Printed: per model, the
 * median [min, max] over rounds of its time per image and of its ratio to the reference's in the
 * same round. FEWSHOT_NUM_THREADS sets the native threads, the same for every model.
 */
import { parseArgs } from 'node:util';
import { useBackend } from '../src/cli/options.js';
import { loadScorer } from '../src/inference/load.js';
import type { SiameseScorer } from '../src/inference/embedder.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '7' } } });
if (positionals.length < 2) throw new Error('usage: bench/embed-models.ts REFERENCE_DIR MODEL_DIR... [--rounds N]');
await useBackend('native', true);
const scorers: SiameseScorer[] = [];
for (const dir of positionals) scorers.push(await loadScorer(dir));
const size = scorers[0]!.inputShape.reduce((a, b) => a * b, 1);
for (const [i, s] of scorers.entries()) {
  if (s.inputShape.reduce((a, b) => a * b, 1) !== size) throw new Error(`${positionals[i]}: input ${s.inputShape.join('x')} differs from the reference's`);
}
const images = Array.from({ length: 512 }, (_, i) => Uint8Array.from({ length: size }, (_, j) => (i * 31 + j * 7) % 256));

function timeBatch(s: SiameseScorer): number {
  const t = performance.now();
  for (let b = 0; b < images.length; b += 32) s.embed(images.slice(b, b + 32));
  return (performance.now() - t) / images.length;
}
function timeSingle(s: SiameseScorer): number {
  const times = images.slice(0, 50).map((img) => {
    const t = performance.now();
    s.embed([img]);
    return performance.now() - t;
  });
  return times.sort((a, b) => a - b)[25]!;
}
for (const s of scorers) timeBatch(s); // warm-up: plans compiled, buffers allocated

const rounds = Number(values.rounds);
const batch: number[][] = scorers.map(() => []);
const single: number[][] = scorers.map(() => []);
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < scorers.length; k++) {
    const m = (k + r) % scorers.length;
    batch[m]!.push(timeBatch(scorers[m]!));
    single[m]!.push(timeSingle(scorers[m]!));
  }
}
const summary = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 2)]!.toFixed(3)} [${s[0]!.toFixed(3)}, ${s[s.length - 1]!.toFixed(3)}]`;
};
const ratios = (v: number[][], m: number) => v[m]!.map((x, r) => x / v[0]![r]!);
console.log(`native backend, ${process.env['FEWSHOT_NUM_THREADS'] ?? 'default'} threads, ${rounds} interleaved rounds; median [min, max]`);
for (const [m, dir] of positionals.entries()) {
  console.log(`${dir}: batch 32 ${summary(batch[m]!)} ms/image (x ${summary(ratios(batch, m))} the reference); batch 1 ${summary(single[m]!)} ms (x ${summary(ratios(single, m))})`);
}
