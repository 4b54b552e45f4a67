// Exploration (not shipped): scoring rules on the cross-validation fold models.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { selectBackend } from '../src/backend/select.js';
import { loadScorer } from '../src/inference/load.js';
import { SIGNATURES_PREPROCESS, loadSignatures, writerFolds } from '../src/applications/signatures/layout.js';
import { summarize } from '../src/verification/metrics.js';
import { Rng } from '../src/util/random.js';
import { WriterDependentVerifier } from '../src/verification/writer_dependent.js';

await selectBackend('auto');
const state = process.argv[2] ?? '/tmp/sigcv';
const all = await loadSignatures(resolve('..', 'shared', 'data', 'signatures', 'handwritten_signatures.zip'), SIGNATURES_PREPROCESS);
const folds = writerFolds(all.files, 3, 1);
const files = all.files;
type V = Float32Array;
const d = (a: V, b: V) => { let s = 0; for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2; return Math.sqrt(s); };
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

type Rule = (q: V, refs: V[], negs: V[], spread0: number) => number;
const rules: Record<string, Rule> = {
  mean: (q, r) => -mean(r.map((x) => d(q, x))),
  min: (q, r) => -Math.min(...r.map((x) => d(q, x))),
  centroid: (q, r) => { const c = new Float32Array(q.length); for (const x of r) for (let i = 0; i < c.length; i++) c[i]! += x[i]! / r.length; return -d(q, c); },
  spread: (q, r, _n, s0) => { const p: number[] = []; for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) p.push(d(r[i]!, r[j]!)); const s = (p.reduce((a, b) => a + b, 0) + s0) / (p.length + 1); return -mean(r.map((x) => d(q, x))) / s; },
  znorm: (q, r, n) => { const m = (x: V) => mean(r.map((y) => d(x, y))); const ns = n.map(m); const mu = mean(ns); const sd = Math.sqrt(mean(ns.map((v) => (v - mu) ** 2))); return -(m(q) - mu) / sd; },
  wdRbf: (q, r, n) => new WriterDependentVerifier(n.map((embedding) => ({ writer: 'x', embedding })), { kernel: 'rbf', l2: 10 }).fit('w', r).score(q),
  wdRbfUnit: (q, r, n) => { const u = (x: V) => { const l = Math.hypot(...x); return x.map((v) => v / l); }; return new WriterDependentVerifier(n.map((e) => ({ writer: 'x', embedding: u(e) })), { kernel: 'rbf', l2: 10 }).fit('w', r.map(u)).score(u(q)); },
  wdLinUnit: (q, r, n) => { const u = (x: V) => { const l = Math.hypot(...x); return x.map((v) => v / l); }; return new WriterDependentVerifier(n.map((e) => ({ writer: 'x', embedding: u(e) })), { kernel: 'linear', l2: 1 }).fit('w', r.map(u)).score(u(q)); },
  ratio: (q, r, n) => { const m = (x: V) => mean(r.map((y) => d(x, y))); return -m(q) / mean(n.map(m)); },
};

function trialsFor(emb: V[], persons: string[], negPersons: string[], k: number, seed: number, rule: Rule, spread0: number) {
  const rng = new Rng(seed);
  const gen = new Map<string, number[]>(), forg = new Map<string, number[]>();
  files.forEach((f, i) => { if (!persons.includes(f.claimed)) return; const m = f.genuine ? gen : forg; if (!m.has(f.claimed)) m.set(f.claimed, []); m.get(f.claimed)!.push(i); });
  const g: number[] = [], s: number[] = [];
  const negOf = (excl: string[]) => files.flatMap((f, i) => (f.genuine && negPersons.includes(f.claimed) && !excl.includes(f.claimed) ? [emb[i]!] : []));
  for (const p of [...gen.keys()].sort()) {
    const G = gen.get(p)!;
    if (G.length < k) continue;
    if (G.length > k) for (const q of G) { const refs = rng.sample(G.filter((x) => x !== q), k); g.push(rule(emb[q]!, refs.map((r) => emb[r]!), negOf([p]), spread0)); }
    for (const q of forg.get(p) ?? []) { const refs = rng.sample(G, k); s.push(rule(emb[q]!, refs.map((r) => emb[r]!), negOf([p, files[q]!.writer]), spread0)); }
  }
  return { g, s };
}
const eer = (g: number[], s: number[]) => summarize({ genuine: g, impostor: s, direction: 'higher-is-same' }).eer;

function spreadOf(emb: V[], persons: string[]): number {
  const p: number[] = [];
  for (const w of persons) { const G = files.flatMap((f, i) => (f.genuine && f.claimed === w ? [i] : [])); for (let i = 0; i < G.length; i++) for (let j = i + 1; j < G.length; j++) p.push(d(emb[G[i]!]!, emb[G[j]!]!)); }
  return mean(p);
}

const pixelCache = new Map<string, Uint8Array>();
async function pixelsFor(h: number, w: number): Promise<Uint8Array> {
  const key = `${h}x${w}`;
  if (!pixelCache.has(key)) pixelCache.set(key, (await loadSignatures(resolve('..', 'shared', 'data', 'signatures', 'handwritten_signatures.zip'), { ...SIGNATURES_PREPROCESS, height: h, width: w })).pixels);
  return pixelCache.get(key)!;
}
const only = process.argv[3]?.split(',');
const onlyRecipes = process.argv[4]?.split(',');
const ensembles: Record<string, V[][]> = {};
for (const recipe of readdirSync(state).filter((r) => existsSync(join(state, r, 'fold-0')) && (!onlyRecipes || onlyRecipes.includes(r))).sort()) {
  const steps = readdirSync(join(state, recipe, 'fold-0')).filter((x) => /^step-\d+$/.test(x)).map((x) => Number(x.slice(5))).sort((a, b) => a - b).filter((s) => !only || only.includes(String(s)));
  for (const step of steps) {
    const res: Record<string, { val: number[]; test: number[][] }> = {};
    for (let f = 0; f < 3; f++) {
      const m = await loadScorer(join(state, recipe, `fold-${f}`, `step-${step}`));
      const t = m.meta.training as { testPersons: string[]; validationPersons: string[]; trainPersons: string[] };
      const [h, w] = m.meta.inputShape as number[];
      const emb = m.embedFlat(await pixelsFor(h!, w!), files.length);
      const s0x = spreadOf(emb, t.trainPersons);
      ((ensembles[`fold${f}`] ??= []).push(emb.map((e) => e.map((v) => v / s0x))));
      const s0 = spreadOf(emb, t.trainPersons);
      for (const [name, rule] of Object.entries(rules)) {
        res[name] ??= { val: [], test: [[], [], [], []] };
        const G: number[] = [], S: number[] = [];
        for (let k = 1; k <= 4; k++) { const r = trialsFor(emb, t.validationPersons, t.trainPersons, k, 100 + k, rule, s0); G.push(...r.g); S.push(...r.s); }
        res[name]!.val.push(eer(G, S));
        for (let k = 1; k <= 4; k++) { const r = trialsFor(emb, t.testPersons, [...t.trainPersons, ...t.validationPersons], k, k, rule, s0); res[name]!.test[k - 1]!.push(eer(r.g, r.s)); }
      }
    }
    for (const [name, r] of Object.entries(res)) {
      console.log(`${recipe}@${step} ${name.padEnd(8)} val ${(100 * mean(r.val)).toFixed(1)}  test K1..4 ${r.test.map((x) => (100 * mean(x)).toFixed(1)).join(' ')}  (K4 folds ${r.test[3]!.map((x) => (100 * x).toFixed(1)).join('/')})`);
    }
  }
}
// Ensemble: concatenation of every model above (each scaled by its training writers' spread), per fold.
{
  const res: Record<string, { val: number[]; test: number[][] }> = {};
  const foldModels = await Promise.all([0, 1, 2].map((f) => loadScorer(join(state, 'pairs', `fold-${f}`, 'step-20'))));
  for (let f = 0; f < 3; f++) {
    const t = foldModels[f]!.meta.training as { testPersons: string[]; validationPersons: string[]; trainPersons: string[] };
    const parts = ensembles[`fold${f}`] ?? [];
    if (!parts.length) break;
    const emb = files.map((_, i) => { const out: number[] = []; for (const p of parts) out.push(...p[i]!); return Float32Array.from(out); });
    const s0 = spreadOf(emb, t.trainPersons);
    for (const [name, rule] of Object.entries(rules)) {
      res[name] ??= { val: [], test: [[], [], [], []] };
      const G: number[] = [], S: number[] = [];
      for (let k = 1; k <= 4; k++) { const r = trialsFor(emb, t.validationPersons, t.trainPersons, k, 100 + k, rule, s0); G.push(...r.g); S.push(...r.s); }
      res[name]!.val.push(eer(G, S));
      for (let k = 1; k <= 4; k++) { const r = trialsFor(emb, t.testPersons, [...t.trainPersons, ...t.validationPersons], k, k, rule, s0); res[name]!.test[k - 1]!.push(eer(r.g, r.s)); }
    }
  }
  for (const [name, r] of Object.entries(res)) console.log(`ensemble(${(ensembles.fold0 ?? []).length}) ${name.padEnd(8)} val ${(100 * mean(r.val)).toFixed(1)}  test K1..4 ${r.test.map((x) => (100 * mean(x)).toFixed(1)).join(' ')}  (K4 folds ${r.test[3]!.map((x) => (100 * x).toFixed(1)).join('/')})`);
}
// Pixel baseline: the preprocessed canvas itself (no learning), 24x48 area-averaged.
{
  const px = await pixelsFor(24, 48);
  const n = 24 * 48;
  const emb = files.map((_, i) => Float32Array.from(px.subarray(i * n, (i + 1) * n), (v) => v / 255));
  for (const [name, rule] of Object.entries(rules)) {
    const val: number[] = [], test: number[][] = [[], [], [], []];
    for (let f = 0; f < 3; f++) {
      const m = await loadScorer(join(state, 'pairs', `fold-${f}`, 'step-20'));
      const t = m.meta.training as { testPersons: string[]; validationPersons: string[]; trainPersons: string[] };
      const s0 = spreadOf(emb, t.trainPersons);
      const G: number[] = [], S: number[] = [];
      for (let k = 1; k <= 4; k++) { const r = trialsFor(emb, t.validationPersons, t.trainPersons, k, 100 + k, rule, s0); G.push(...r.g); S.push(...r.s); }
      val.push(eer(G, S));
      for (let k = 1; k <= 4; k++) { const r = trialsFor(emb, t.testPersons, [...t.trainPersons, ...t.validationPersons], k, k, rule, s0); test[k - 1]!.push(eer(r.g, r.s)); }
    }
    console.log(`pixels24x48 ${name.padEnd(8)} val ${(100 * mean(val)).toFixed(1)}  test K1..4 ${test.map((x) => (100 * mean(x)).toFixed(1)).join(' ')}`);
  }
}
