/**
 * Tunes the tracker's search (scale step/penalty/damping, cosine window, context, upsampling)
 * on the 2-fold cross-validation models that `scripts/train-tracking.ts --experiments` saved in
 * runs/tracking/: every sequence is tracked only by the model of the fold that never saw it, and
 * every variant runs in lockstep on the same decoded frames. Usage (see docs/tracking.md):
 *   nice -n 19 npx tsx scripts/tune-tracking-search.ts --model centernet-s4x:8:both[,OTHER...]
 *       [--variants 'base;windowInfluence=0.3;scaleLr=0.3,scalePenalty=0.96'] [--only Human3]
 *       [--ious] [--out runs/tracking/search.json]
 * A variant is `base` or comma-separated `param=value` overrides of the model's TrackerParams,
 * the online ones included (e.g. 'templateRate=0.01,updateGate=0.7;distractorWeight=0.5').
 * Prints, per variant, the per-sequence success AUC / P@20 / failures and the mean, and the
 * cross-fold choice: the variant chosen on one fold's sequences, scored on the other fold's.
 */
import '../src/tracking/native_crop.js'; // the tracker's crops in native code where the addon is built (bitwise the same)
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend, type BackendName } from '../src/backend/select.js';
import { loadTrackingModel } from '../src/tracking/model_io.js';
import { loadSequences } from '../src/tracking/sequence.js';
import { SiamFCScorer } from '../src/tracking/scorers.js';
import { runTrackers, type TrackerSpec } from '../src/tracking/run.js';
import type { TrackerParams } from '../src/tracking/tracker.js';
import { onlineOptions } from '../src/tracking/online_template.js';
import { iou as boxIou } from '../src/tracking/boxes.js';
import { TRACKING_FOLDS } from '../src/tracking/folds.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'centernet-s4x:8:both' },
    sequences: { type: 'string', default: '../shared/data/tracking/sequences.zip' },
    variants: { type: 'string', default: 'base' },
    only: { type: 'string' },
    ious: { type: 'boolean', default: false },
    'runs-dir': { type: 'string', default: 'runs/tracking' },
    out: { type: 'string' },
    // Summarise the JSON lines that earlier runs appended with --out (one sequence per run, say)
    // instead of tracking: the variants present for every sequence.
    from: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
  },
});
const log = (...a: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
if (!args.from) await selectBackend(args.backend as BackendName);

const only = args.only?.split(',');
const sequences = args.from ? [] : (await loadSequences(args.sequences!)).filter((s) => !only || only.includes(s.name));
const foldOf = (name: string) => TRACKING_FOLDS.findIndex((f) => f.includes(name));
// Only the fold models that the chosen sequences need are loaded.
const neededFolds = [...new Set(sequences.map((s) => foldOf(s.name)).filter((k) => k >= 0))];
const modelLabels = args.model!.split(',');
const models = new Map<string, Map<number, Awaited<ReturnType<typeof loadTrackingModel>>>>();
for (const label of modelLabels) {
  const folds = new Map<number, Awaited<ReturnType<typeof loadTrackingModel>>>();
  for (const k of neededFolds) folds.set(k, await loadTrackingModel(join(args['runs-dir']!, `${label}-heldout${k}`.replaceAll(':', '_'))));
  models.set(label, folds);
}

function parseVariant(v: string, baseParams: TrackerParams): { label: string; params: TrackerParams } {
  if (v === 'base') return { label: v, params: baseParams };
  // The online options (off by default) may be absent from the model's params.
  const params = { ...onlineOptions(baseParams), ...baseParams } as Record<string, number>;
  for (const kv of v.split(',')) {
    const [k, value] = kv.split('=');
    if (!(k! in params) || !Number.isFinite(Number(value))) throw new Error(`variant '${v}': unknown parameter or bad value '${kv}'`);
    params[k!] = Number(value);
  }
  return { label: v, params: params as unknown as TrackerParams };
}
// One tracker per model and variant (named by the variant alone when there is one model).
const variants = (args.from ? [] : modelLabels).flatMap((model) =>
  args.variants!.split(';').map((v) => {
    const parsed = parseVariant(v.trim(), models.get(model)!.values().next().value!.meta.params);
    return { model, label: modelLabels.length === 1 ? parsed.label : `${model} ${parsed.label}`, params: parsed.params };
  }),
);

type Row = { auc: number; precision20: number; failures: number };
const table: Record<string, Record<string, Row>> = {};
let labels = variants.map((v) => v.label);
if (args.from) {
  // Later lines win for a sequence; variants are those every sequence has.
  for (const line of readFileSync(args.from, 'utf8').split('\n').filter((l) => l.trim())) {
    const rec = JSON.parse(line) as { perSequence: Record<string, Record<string, Row>> };
    for (const [name, rows] of Object.entries(rec.perSequence)) if (!only || only.includes(name)) table[name] = { ...table[name], ...rows };
  }
  const all = Object.values(table);
  if (all.length === 0) throw new Error(`${args.from}: no sequences`);
  labels = Object.keys(all[0]!).filter((l) => all.every((r) => l in r));
}
const r3 = (v: number) => Math.round(v * 1000) / 1000;
for (const seq of sequences) {
  const k = foldOf(seq.name);
  if (k < 0) continue;
  const specs: TrackerSpec[] = variants.map((v) => ({ name: v.label, scorer: new SiamFCScorer(models.get(v.model)!.get(k)!.network), params: v.params }));
  const runs = runTrackers(seq, specs);
  table[seq.name] = Object.fromEntries(runs.map((r) => [r.tracker, { auc: r3(r.scores.auc), precision20: r3(r.scores.precision20), failures: r.scores.failures }]));
  log(seq.name, JSON.stringify(table[seq.name]));
  if (args.ious) {
    for (const r of runs) {
      const ious = r.boxes.map((b, i) => (seq.groundTruth[i] ? boxIou(b, seq.groundTruth[i]!) : NaN));
      console.log(`${seq.name} ${r.tracker} IoU per 10 frames:`, ious.filter((_, i) => i % 10 === 0).map((v) => v.toFixed(2)).join(' '));
      console.log(`${seq.name} ${r.tracker} boxes per 20:`, r.boxes.filter((_, i) => i % 20 === 0).map((b) => `${b.x.toFixed(0)},${b.y.toFixed(0)},${b.w.toFixed(0)},${b.h.toFixed(0)}`).join(' | '));
    }
  }
}
const mean = (label: string, names: string[]) => r3(names.reduce((a, n) => a + table[n]![label]!.auc, 0) / names.length);
const names = TRACKING_FOLDS.flat().filter((n) => n in table);
const folds = TRACKING_FOLDS.map((f) => f.filter((n) => names.includes(n)));
const summary = labels.map((label) => ({
  variant: label,
  meanAuc: mean(label, names),
  meanP20: r3(names.reduce((a, n) => a + table[n]![label]!.precision20, 0) / names.length),
  failures: names.reduce((a, n) => a + table[n]![label]!.failures, 0),
  // Mean success AUC on each fold's sequences (each tracked by the model of the other fold).
  folds: folds.map((f) => (f.length ? mean(label, f) : NaN)),
}));
console.log(`models ${args.model}`);
for (const s of summary) console.log(`${s.meanAuc.toFixed(3)} P20 ${s.meanP20.toFixed(3)} fail ${String(s.failures).padStart(4)} folds ${s.folds.map((v) => v.toFixed(3)).join('/')}  ${s.variant}  ${names.map((n) => `${n} ${table[n]![s.variant]!.auc.toFixed(3)}`).join(' ')}`);
// Honest estimate of choosing among the variants: pick on one fold's sequences, score on the other's.
if (folds.every((f) => f.length > 0) && labels.length > 1) {
  const cross = folds.map((f, k) => {
    const pick = labels.reduce((b, l) => (mean(l, f) > mean(b, f) ? l : b));
    const other = folds[1 - k]!;
    return { chosenOn: f, variant: pick, scoredOn: other, auc: mean(pick, other) };
  });
  const all = r3(cross.reduce((a, c) => a + c.auc * c.scoredOn.length, 0) / names.length);
  console.log(`cross-fold choice: ${cross.map((c) => `'${c.variant}' (chosen on ${c.chosenOn.join('+')}) -> ${c.auc.toFixed(3)}`).join('; ')}; mean ${all.toFixed(3)}`);
}
if (args.out && !args.from) appendFileSync(args.out, JSON.stringify({ model: args.model, at: new Date().toISOString(), perSequence: table, summary }) + '\n');

