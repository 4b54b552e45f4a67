/**
 * Compares rules for scoring a questioned signature against K references, on the cross-validation
 * fold models of scripts/train-signatures.ts (no training; docs/signatures.md, "Scoring rules"):
 *
 *   nice -n 19 npx tsx scripts/signature-scoring.ts --state DIR [--steps 20,40] [--recipes pairs,pairs-mirrored] [--rules mean,wd]
 *
 * Per recipe and checkpoint, every rule gets the validation persons' EER (genuine vs skilled, K =
 * 1..4 pooled: what would choose) and the test persons' EER per K, mean over the folds, with the
 * trials of `evaluateReferenceVerification` (the report's protocol and seeds). Rules, on euclidean
 * embedding distances d: mean d to the references (the shipped rule), min d, d to the references'
 * centroid, mean d divided by the references' own spread (mean pairwise d, shrunk towards the
 * training writers' spread with one pseudo-pair), and two cohort normalisations against the fold's
 * training writers' genuine signatures (z-norm, ratio to the cohort's mean d). Also: the fold's
 * recipes concatenated (each scaled by its training writers' spread) and the raw preprocessed
 * pixels (24x48), a no-learning baseline. `--rules wd,wd-unit`: the writer-dependent classifier
 * (rbf, l2 10) against the cohort, on the embeddings and on unit-length embeddings (slow).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backend/select.js';
import { loadScorer } from '../src/inference/load.js';
import type { SiameseScorer } from '../src/inference/embedder.js';
import { SIGNATURES_PREPROCESS, loadSignatures, subset } from '../src/applications/signatures/layout.js';
import { evaluateReferenceVerification } from '../src/applications/signatures/reference_verification.js';
import { summarize } from '../src/verification/metrics.js';
import { WriterDependentVerifier } from '../src/verification/writer_dependent.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: resolve('..', 'shared', 'data', 'signatures', 'handwritten_signatures.zip') },
    state: { type: 'string', default: '/tmp/fewshot-signatures-cv' },
    steps: { type: 'string' },
    recipes: { type: 'string' },
    rules: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
  },
});
await selectBackend(args.backend as 'auto');
const all = await loadSignatures(args.data!, SIGNATURES_PREPROCESS);
const files = all.files;
const pixelsBySize = new Map<string, Uint8Array>();
async function pixelsFor(height: number, width: number): Promise<Uint8Array> {
  const key = `${height}x${width}`;
  if (!pixelsBySize.has(key)) pixelsBySize.set(key, (await loadSignatures(args.data!, { ...SIGNATURES_PREPROCESS, height, width })).pixels);
  return pixelsBySize.get(key)!;
}

type V = Float32Array;
const dist = (a: V, b: V) => { let s = 0; for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2; return Math.sqrt(s); };
const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const pct = (v: number) => (100 * v).toFixed(1);

/** Higher = genuine. `cohort`: the training writers' genuine signatures; `spread0`: their mean intra-writer d. */
type Rule = (q: V, refs: V[], cohort: V[], spread0: number) => number;
const meanD = (x: V, refs: V[]) => mean(refs.map((r) => dist(x, r)));
const RULES: Record<string, Rule> = {
  mean: (q, r) => -meanD(q, r),
  min: (q, r) => -Math.min(...r.map((x) => dist(q, x))),
  centroid: (q, r) => -dist(q, Float32Array.from(q, (_, i) => mean(r.map((x) => x[i]!)))),
  spread: (q, r, _c, s0) => {
    const pairs: number[] = [];
    for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) pairs.push(dist(r[i]!, r[j]!));
    return -meanD(q, r) / ((pairs.reduce((a, b) => a + b, 0) + s0) / (pairs.length + 1));
  },
  znorm: (q, r, c) => { const cs = c.map((x) => meanD(x, r)); const mu = mean(cs); return -(meanD(q, r) - mu) / Math.sqrt(mean(cs.map((v) => (v - mu) ** 2))); },
  ratio: (q, r, c) => -meanD(q, r) / mean(c.map((x) => meanD(x, r))),
  // Writer-dependent classifiers (rbf, l2 10: the shipped settings) against the cohort, on the
  // embeddings as they are and scaled to unit length.
  wd: (q, r, c) => wdScore(q, r, c, (x) => x),
  'wd-unit': (q, r, c) => wdScore(q, r, c, (x) => { const l = Math.hypot(...x) || 1; return x.map((v) => v / l); }),
};
function wdScore(q: V, refs: V[], cohort: V[], f: (x: V) => V): number {
  return new WriterDependentVerifier(cohort.map((x) => ({ writer: 'cohort', embedding: f(x) })), { kernel: 'rbf', l2: 10 }).fit('claimed', refs.map(f)).score(f(q));
}
const ruleNames = args.rules ? args.rules.split(',') : ['mean', 'min', 'centroid', 'spread', 'znorm', 'ratio'];
for (const r of ruleNames) if (!RULES[r]) throw new Error(`--rules: unknown rule '${r}': one of ${Object.keys(RULES).join(', ')}`);

interface Fold { testPersons: string[]; validationPersons: string[]; trainPersons: string[] }

/** A scorer whose similarity of q to the references is the rule's score (one value: its mean is itself). */
function ruleScorer(meta: SiameseScorer['meta'], rule: Rule, cohort: V[], spread0: number) {
  const unused = (): never => { throw new Error('scores embeddings only'); };
  return { meta, embed: unused, embedImages: unused, similarity: (q: V, refs: V[]) => [rule(q, refs, cohort, spread0)] };
}

function spreadOf(emb: V[], persons: readonly string[]): number {
  const d: number[] = [];
  for (const w of persons) {
    const g = files.flatMap((f, i) => (f.genuine && f.claimed === w ? [i] : []));
    for (let i = 0; i < g.length; i++) for (let j = i + 1; j < g.length; j++) d.push(dist(emb[g[i]!]!, emb[g[j]!]!));
  }
  return mean(d);
}

/** Validation EER (K pooled) and test EER per K of one rule on one fold's embeddings. */
function evaluate(meta: SiameseScorer['meta'], emb: V[], fold: Fold, rule: Rule): { val: number; test: number[] } {
  const cohort = files.flatMap((f, i) => (f.genuine && fold.trainPersons.includes(f.claimed) ? [emb[i]!] : []));
  const scorer = ruleScorer(meta, rule, cohort, spreadOf(emb, fold.trainPersons));
  const part = (persons: readonly string[]) => ({
    set: subset(all, (f) => persons.includes(f.claimed)),
    emb: files.flatMap((f, i) => (persons.includes(f.claimed) ? [emb[i]!] : [])),
  });
  const v = part(fold.validationPersons);
  const g: number[] = [], s: number[] = [];
  for (let k = 1; k <= 4; k++) {
    const r = evaluateReferenceVerification(scorer, v.set, v.emb, { references: k, seed: 100 + k, skipShortWriters: true, randomPerPerson: 0, threshold: 0 });
    for (const t of r.trials) (t.kind === 'genuine' ? g : s).push(t.similarity);
  }
  const t = part(fold.testPersons);
  const test = [1, 2, 3, 4].map((k) => evaluateReferenceVerification(scorer, t.set, t.emb, { references: k, seed: k, skipShortWriters: true, threshold: 0 }).eer);
  return { val: summarize({ genuine: g, impostor: s, direction: 'higher-is-same' }).eer, test };
}

function print(label: string, rows: Record<string, { val: number; test: number[] }[]>): void {
  for (const [name, folds] of Object.entries(rows)) {
    const k4 = folds.map((f) => pct(f.test[3]!)).join('/');
    console.log(`| ${label} | ${name} | ${pct(mean(folds.map((f) => f.val)))}% | ${[0, 1, 2, 3].map((k) => pct(mean(folds.map((f) => f.test[k]!)))).join(' / ')} | ${k4} |`);
  }
}

console.log('| fold models | rule | validation EER (K pooled) | test EER K = 1 / 2 / 3 / 4 | K = 4 per fold |\n|---|---|---|---|---|');
const recipes = readdirSync(args.state!).filter((r) => existsSync(join(args.state!, r, 'fold-0')) && (!args.recipes || args.recipes.split(',').includes(r))).sort();
const concatenated: V[][][] = [[], [], []];
let folds: Fold[] = [];
let meta0: SiameseScorer['meta'] | null = null;
for (const recipe of recipes) {
  const steps = readdirSync(join(args.state!, recipe, 'fold-0')).filter((d) => /^step-\d+$/.test(d)).map((d) => Number(d.slice(5)))
    .filter((st) => !args.steps || args.steps.split(',').map(Number).includes(st)).sort((a, b) => a - b);
  for (const step of steps) {
    const rows: Record<string, { val: number; test: number[] }[]> = {};
    folds = [];
    for (let f = 0; f < 3; f++) {
      const m = await loadScorer(join(args.state!, recipe, `fold-${f}`, `step-${step}`));
      meta0 ??= m.meta;
      const fold = m.meta.training as unknown as Fold;
      folds.push(fold);
      const [h, w] = m.meta.inputShape;
      const emb = m.embedFlat(await pixelsFor(h!, w!), files.length);
      const s0 = spreadOf(emb, fold.trainPersons);
      concatenated[f]!.push(emb.map((e) => e.map((x) => x / s0)));
      for (const name of ruleNames) (rows[name] ??= []).push(evaluate(m.meta, emb, fold, RULES[name]!));
    }
    print(`${recipe} @${step}`, rows);
  }
}
if (meta0 && folds.length === 3) {
  const join3 = (f: number) => files.map((_, i) => Float32Array.from(concatenated[f]!.flatMap((e) => Array.from(e[i]!))));
  print(`all above, concatenated (${concatenated[0]!.length})`, { mean: [0, 1, 2].map((f) => evaluate(meta0!, join3(f), folds[f]!, RULES.mean!)) });
  const px = await pixelsFor(24, 48);
  const n = 24 * 48;
  const raw = files.map((_, i) => Float32Array.from(px.subarray(i * n, (i + 1) * n), (v) => v / 255));
  const rows: Record<string, { val: number; test: number[] }[]> = {};
  for (const name of ruleNames) rows[name] = [0, 1, 2].map((f) => evaluate(meta0!, raw, folds[f]!, RULES[name]!));
  print('pixels 24x48 (no learning)', rows);
}
