/**
 * `npx tsx scripts/build-fused-tracker.ts --out DIR NAME=MODEL_DIR:WEIGHT...`
 *
 * Writes a fused tracker folder (src/tracking/loaded_tracker.ts): each member tracking model is
 * copied into DIR/NAME, and DIR/tracker.json names them with their weights and takes the search
 * parameters of the first member (every member must share its crop geometry; loading checks).
 * E.g. `--out models/tracking s4x=runs/final-s4x:0.5 s8=runs/final-s8:0.5`.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backend/select.js';
import { shellQuote } from '../src/cli/command_line.js';
import { loadTracker } from '../src/tracking/loaded_tracker.js';
import { readTrackerMetadata, type TrackerMetadata } from '../src/tracking/model_io.js';

const { values: args, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
if (!args.out || positionals.length < 2) throw new Error('usage: build-fused-tracker.ts --out DIR NAME=MODEL_DIR:WEIGHT NAME=MODEL_DIR:WEIGHT...');
const members = positionals.map((p) => {
  const m = /^([A-Za-z0-9_-]+)=(.+):([0-9.]+)$/.exec(p);
  if (!m) throw new Error(`${p}: expected NAME=MODEL_DIR:WEIGHT`);
  return { name: m[1]!, from: m[2]!, weight: Number(m[3]) };
});
const out = resolve(args.out);
for (const m of members) {
  if (resolve(m.from) === join(out, m.name)) continue; // already in place
  if (existsSync(join(out, m.name))) throw new Error(`${join(out, m.name)} exists: remove it or choose another name`);
  mkdirSync(out, { recursive: true });
  cpSync(m.from, join(out, m.name), { recursive: true, filter: (src) => !/experiments.*\.json$/.test(src) });
}
const first = readTrackerMetadata(join(out, members[0]!.name));
const meta: TrackerMetadata = {
  format: 'fewshot-tracker/1',
  network: { kind: 'fused', members: members.map((m) => ({ dir: m.name, weight: m.weight })) },
  params: first.params,
  ...(first.backbone ? { backbone: first.backbone } : {}),
  training: { command: ['npx', 'tsx', 'scripts/build-fused-tracker.ts', ...process.argv.slice(2)].map(shellQuote).join(' '), members: Object.fromEntries(members.map((m) => [m.name, m.from])) },
  createdAt: new Date().toISOString(),
};
writeFileSync(join(out, 'tracker.json'), JSON.stringify(meta, null, 2) + '\n');
// Load it once: a bad combination (weights, crop geometry) fails here, not at a user's first run.
await selectBackend('auto', { quiet: true });
const loaded = await loadTracker(out);
loaded.dispose();
console.log(`fused tracker of ${members.map((m) => `${m.name} (${m.weight})`).join(', ')} written to ${out}`);
