/**
 * Chooses the signature recipe by nested cross-validation over writers and reports it:
 *   nice -n 15 npx tsx scripts/nested-cv-signatures.ts --state DIR [--out DIR] [--wd rbf:1,rbf:10]
 *
 * Reads the models of `scripts/train-signatures.ts --phase cv --inner-folds 4`:
 * <state>/<recipe>/fold-<i>/inner-<j>/step-<n> (15 training persons, 5 validation persons) and
 * <state>/<recipe>/fold-<i>/dev/step-<n> (all 20 development persons of outer fold i).
 * 1. Inner CV: every candidate (recipe, checkpoint, decision, writer-dependent classifier) gets the
 *    genuine-vs-skilled EER (K = 1..4 pooled, or the --select-k ones) on each inner fold's 5 validation persons; per outer
 *    fold the candidate with the lowest mean over its 4 inner folds (all 20 development persons
 *    validate once) is chosen, its threshold the mean of the 4 inner EER thresholds.
 * 2. Outer test: the chosen recipe's dev model (trained on the 20 development persons) on the
 *    outer fold's 10 test persons, never trained on and never used to choose; K = 1..4: AUC, EER,
 *    FAR (skilled) and FRR at the chosen threshold, random-forgery FAR. Three selections are
 *    reported: the decision chosen too (the procedure that ships), and each decision fixed.
 * 3. The shipped model: the candidate with the lowest inner-CV EER over all 12 inner folds
 *    (every outer fold's choice pooled), thresholds the mean of those 12 inner folds'. Writes
 *    <out>/cv-results.json, which `train-signatures.ts --phase final --from` reads.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFileAtomically } from '../src/util/atomic_file.js';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backend/select.js';
import { writerFolds } from '../src/applications/signatures/layout.js';
import type { SignatureDecision } from '../src/applications/signatures/reference_verification.js';
import { KS, SignatureFolds, candidateLabel, eerOf, eerThreshold, mean, parseWdGrid, pct, pooled, sd, tableLines, type TestRow, type WdConfig } from './lib/signature-cv.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: resolve('..', 'shared', 'data', 'signatures', 'handwritten_signatures.zip') },
    state: { type: 'string', default: '/tmp/fewshot-signatures-nested' },
    out: { type: 'string', default: 'models/signatures' },
    folds: { type: 'string', default: '3' },
    'inner-folds': { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    wd: { type: 'string', default: 'linear:1,rbf:1,rbf:10' },
    recipes: { type: 'string' },
    steps: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    // Test-time augmentation: every embedding the mean over this many fixed jitters (1 = off).
    tta: { type: 'string', default: '1' },
    // The reference counts whose validation trials choose (pooled): all, or e.g. 4 (the K a deployment uses).
    'select-k': { type: 'string', default: KS.join(',') },
  },
});
const tta = Number(args.tta);
const selectK = args['select-k']!.split(',').map(Number);
if (selectK.some((k) => !KS.includes(k))) throw new Error(`--select-k: reference counts among ${KS.join(',')}, got '${args['select-k']}'`);
const selectLabel = selectK.join() === KS.join() ? '' : ` K=${selectK.join(',')}`;
const seed = Number(args.seed);
const innerFolds = Number(args['inner-folds']);
const backend = await selectBackend(args.backend as 'auto');
const cvData = await SignatureFolds.load(args.data!);
const folds = writerFolds(cvData.all.files, Number(args.folds), seed);
const wdGrid = parseWdGrid(args.wd!);
const stepFilter = args.steps ? args.steps.split(',').map(Number) : null;
const state = resolve(args.state!);
const recipes = (args.recipes ? args.recipes.split(',') : readdirSync(state).filter((r) => existsSync(join(state, r, 'fold-0', 'inner-0'))).sort());
if (recipes.length === 0) throw new Error(`${state}: no nested fold models (run scripts/train-signatures.ts --phase cv --inner-folds ${innerFolds} first)`);
const modelDir = (recipe: string, f: number, part: string, step: number) => join(state, recipe, `fold-${f}`, part, `step-${step}`);

// --- 1. inner cross-validation ---------------------------------------------------------------------
interface Candidate {
  recipe: string; step: number; decision: SignatureDecision; wd: WdConfig | null;
  /** [outer fold][inner fold]: EER on the inner fold's validation persons, and its threshold. */
  eer: number[][]; threshold: number[][];
}
const candidates: Candidate[] = [];
// Inner validation results by model weights and decision: a rerun with a wider grid computes only what is new.
const cacheFile = join(state, 'inner-validation-cache.json');
const cache = (existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {}) as Record<string, { eer: number; threshold: number }>;
for (const recipe of recipes) {
  const steps = readdirSync(join(state, recipe, 'fold-0', 'inner-0')).filter((d) => /^step-\d+$/.test(d)).map((d) => Number(d.slice(5)))
    .filter((st) => !stepFilter || stepFilter.includes(st)).sort((a, b) => a - b);
  for (const step of steps) {
    const dirs = folds.map((_, f) => [...Array.from({ length: innerFolds }, (_, j) => modelDir(recipe, f, `inner-${j}`, step)), modelDir(recipe, f, 'dev', step)]);
    if (!dirs.flat().every((d) => existsSync(join(d, 'model.json')))) {
      console.error(`${recipe} step ${step}: not every inner and dev model is trained, left out`);
      continue;
    }
    const configs: [SignatureDecision, WdConfig | null][] = [['distance', null], ...wdGrid.map((wd): [SignatureDecision, WdConfig] => ['wd', wd])];
    const rows = configs.map(([decision, wd]) => ({ recipe, step, decision, wd, eer: [] as number[][], threshold: [] as number[][] }));
    for (let f = 0; f < folds.length; f++) {
      for (const row of rows) { row.eer.push([]); row.threshold.push([]); }
      for (let j = 0; j < innerFolds; j++) {
        const dir = dirs[f]![j]!;
        const weights = createHash('sha256').update(readFileSync(join(dir, 'weights.bin'))).digest('hex');
        let m: Awaited<ReturnType<typeof cvData.loadModel>> | null = null;
        for (const row of rows) {
          const key = `${weights}${tta > 1 ? ` tta ${tta}` : ''}${selectLabel} ${row.decision}${row.wd ? ` ${row.wd.kernel}:${row.wd.l2}` : ''}`;
          if (!cache[key]) {
            m ??= await cvData.loadModel(dir, folds[f]!, tta);
            const trials = cvData.validationTrials(m, row.decision, row.wd ?? wdGrid[0]!).filter((t) => selectK.includes(t.references.length));
            cache[key] = { eer: eerOf(trials), threshold: eerThreshold(trials) };
          }
          row.eer[f]!.push(cache[key].eer);
          row.threshold[f]!.push(cache[key].threshold);
        }
      }
    }
    writeFileAtomically(cacheFile, JSON.stringify(cache)); // a crash mid-write must not leave a cache that fails to parse
    candidates.push(...rows);
    console.error(`${recipe} @${step}: inner-CV EER (mean of ${folds.length}x${innerFolds}) ${rows.map((r) => `${r.decision}${r.wd ? ` ${r.wd.kernel}:${r.wd.l2}` : ''} ${pct(mean(r.eer.flat()))}`).join(', ')}`);
  }
}
if (candidates.length === 0) throw new Error(`${state}: no step has every inner and dev model trained`);

/** Lowest mean inner EER; ties: fewer steps, then distance before wd (the cheaper decision). */
function choose(pool: readonly Candidate[], eer: (c: Candidate) => number): Candidate {
  return [...pool].sort((a, b) => eer(a) - eer(b) || a.step - b.step || Number(a.decision === 'wd') - Number(b.decision === 'wd'))[0]!;
}
const innerMean = (f: number) => (c: Candidate) => mean(c.eer[f]!);
const overall = (c: Candidate) => mean(c.eer.flat());

// --- 2. outer test, per outer fold with its own choice ---------------------------------------------
const SELECTIONS = { 'decision chosen': () => true, 'distance only': (c: Candidate) => c.decision === 'distance', 'wd only': (c: Candidate) => c.decision === 'wd' } as const;
type Selection = keyof typeof SELECTIONS;
const testRowsOf = new Map<string, TestRow[]>();
async function outerTest(c: Candidate, f: number): Promise<TestRow[]> {
  const key = `${candidateLabel(c)} fold ${f}`;
  if (!testRowsOf.has(key)) {
    const m = await cvData.loadModel(modelDir(c.recipe, f, 'dev', c.step), folds[f]!, tta);
    testRowsOf.set(key, cvData.testRows(m, f, c.decision, c.wd ?? wdGrid[0]!, mean(c.threshold[f]!)));
  }
  return testRowsOf.get(key)!;
}
const outer: Record<string, { chosen: { fold: number; candidate: string; innerEer: number; threshold: number }[]; test: ReturnType<typeof pooled>; perFold: TestRow[] }> = {};
for (const [name, keep] of Object.entries(SELECTIONS) as [Selection, (c: Candidate) => boolean][]) {
  const chosen = [];
  const rows: TestRow[] = [];
  for (let f = 0; f < folds.length; f++) {
    const c = choose(candidates.filter(keep), innerMean(f));
    chosen.push({ fold: f, candidate: candidateLabel(c), innerEer: innerMean(f)(c), threshold: mean(c.threshold[f]!) });
    rows.push(...(await outerTest(c, f)));
  }
  // With the decision chosen per fold, the folds' rows pool whatever decision each chose.
  const pooledRows = name === 'decision chosen' ? rows.map((r) => ({ ...r, decision: 'chosen' as const })) : rows;
  outer[name] = { chosen, test: pooled(pooledRows), perFold: rows };
}
// Each recipe with its own inner-CV choice (decision free), for comparison: what the recipe gives.
const perRecipe: Record<string, { chosen: string[]; test: ReturnType<typeof pooled> }> = {};
for (const recipe of recipes) {
  const rows: TestRow[] = [];
  const chosen: string[] = [];
  for (let f = 0; f < folds.length; f++) {
    const own = candidates.filter((c) => c.recipe === recipe);
    if (own.length === 0) continue;
    const c = choose(own, innerMean(f));
    chosen.push(candidateLabel(c));
    rows.push(...(await outerTest(c, f)).map((r) => ({ ...r, decision: 'chosen' as const })));
  }
  if (rows.length) perRecipe[recipe] = { chosen, test: pooled(rows) };
}

// --- 3. the shipped model's choice over all inner folds --------------------------------------------
const best = choose(candidates, overall);
const bestWd = choose(candidates.filter((c) => c.recipe === best.recipe && c.step === best.step && c.decision === 'wd'), overall);
const thresholdsOf = (c: Candidate) => ({ value: mean(c.threshold.flat()), folds: c.threshold.flat() });
const distanceAtBest = candidates.find((c) => c.recipe === best.recipe && c.step === best.step && c.decision === 'distance')!;

// --- output --------------------------------------------------------------------------------------
console.log(`inner-CV EER (genuine vs skilled, K = ${selectK.join(', ')} pooled; per outer fold the mean of its ${innerFolds} inner folds of 5 persons; all: mean of ${folds.length * innerFolds}):\n`);
console.log(`| candidate | ${folds.map((_, f) => `outer ${f}`).join(' | ')} | all |`);
console.log(`|---|${folds.map(() => '---|').join('')}---|`);
for (const c of candidates) console.log(`| ${candidateLabel(c)} | ${folds.map((_, f) => pct(innerMean(f)(c))).join(' | ')} | ${pct(overall(c))} ± ${pct(sd(c.eer.flat()))} |`);
for (const [name, o] of Object.entries(outer)) {
  console.log(`\n### outer test, ${name}: ${o.chosen.map((c) => `fold ${c.fold} ${c.candidate} (inner ${pct(c.innerEer)})`).join('; ')}\n`);
  for (const line of tableLines(o.test)) console.log(line);
  for (let f = 0; f < folds.length; f++) {
    const r = o.perFold.filter((x) => x.fold === f);
    console.log(`fold ${f} (${folds[f]!.join(',')}): ${r.map((x) => `K=${x.references} AUC ${x.auc.toFixed(3)} EER ${pct(x.eer)} FAR ${pct(x.far)} FRR ${pct(x.frr)} FARr ${pct(x.farRandom)}`).join('; ')}`);
  }
}
console.log('\n### each recipe at its own inner-CV choice, outer test EER K = 1..4');
for (const [recipe, r] of Object.entries(perRecipe)) console.log(`${recipe} (${r.chosen.join('; ')}): ${r.test.map((x) => pct(x.eer)).join(' ')} (AUC ${r.test.map((x) => x.auc.toFixed(3)).join(' ')})`);
console.log(`\nshipped choice (lowest inner-CV EER over all ${folds.length * innerFolds} inner folds): ${candidateLabel(best)} ${pct(overall(best))}; writer-dependent ${bestWd.wd!.kernel}:${bestWd.wd!.l2} ${pct(overall(bestWd))}`);

/** The dev models of the shipped choice, reproducible: sha256 and the command that retrains them. */
function devModelRecords(c: Candidate) {
  return folds.map((_, f) => {
    const dir = modelDir(c.recipe, f, 'dev', c.step);
    const t = (JSON.parse(readFileSync(join(dir, 'fewshot.json'), 'utf8')) as { training: Record<string, unknown> }).training;
    return {
      fold: f, step: c.step, weightsSha256: createHash('sha256').update(readFileSync(join(dir, 'weights.bin'))).digest('hex'),
      command: `nice -n 15 npx tsx scripts/train-signatures.ts --phase cv --inner-folds ${innerFolds} --state <dir> --recipes ${String(t.recipe)} --steps ${String(t.steps)} --checkpoints ${c.step} --seed ${String(t.seed)} --lr ${String(t.lr)} --backend ${String(t.backend)}`,
    };
  });
}
const result = {
  data: args.data, backend, state, folds, innerFolds, seed, ttaViews: tta, selectK,
  protocol: `nested cross-validation over writers: per outer fold 10 test persons never trained on and never used to choose; the recipe, checkpoint, decision, writer-dependent classifier and thresholds chosen by ${innerFolds} inner folds over its 20 development persons (15 train, 5 validation); the outer test measures the choice retrained on all 20`,
  chosen: { recipe: best.recipe, step: best.step, decision: best.decision, wd: bestWd.wd!, valEer: overall(best) },
  thresholds: { distance: thresholdsOf(distanceAtBest), wd: thresholdsOf(bestWd) },
  foldModels: devModelRecords(best),
  selection: candidates.map((c) => ({ recipe: c.recipe, step: c.step, decision: c.decision, wd: c.wd, innerEer: overall(c), outerFoldInnerEer: folds.map((_, f) => innerMean(f)(c)), eer: c.eer, threshold: c.threshold })),
  outerTest: outer,
  perRecipe,
  createdAt: new Date().toISOString(),
};
mkdirSync(args.out!, { recursive: true });
writeFileSync(join(args.out!, 'cv-results.json'), JSON.stringify(result, null, 2) + '\n');
console.error(`wrote ${join(args.out!, 'cv-results.json')}`);
