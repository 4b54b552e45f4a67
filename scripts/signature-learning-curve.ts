/**
 * Which signature recipe gains most from more writers: a learning curve inside nested
 * cross-validation, to choose the recipe for a model trained on more writers than any fold has.
 *
 *   npx tsx scripts/train-signatures.ts --phase cv --inner-folds 4 --state A ...            (as shipped)
 *   npx tsx scripts/train-signatures.ts --phase cv --inner-folds 4 --state B --writer-fraction 0.67 ...
 *   npx tsx scripts/nested-cv-signatures.ts --state A --out A/report   (and B -> B/report)
 *   npx tsx scripts/signature-learning-curve.ts --full A/report/cv-results.json --reduced B/report/cv-results.json[,C/...] [--target 30]
 *
 * Why: the inner folds train on 15 writers, the outer dev models on 20, the shipped model on 30.
 * A recipe that learns more per added writer (writer classification) can lose at 15 and win at 30,
 * and the inner folds alone cannot see that. Each recipe is taken at its own best inner candidate
 * on the full-size folds (checkpoint, decision, writer-dependent classifier); the same candidate's
 * inner EER on the same validation persons with a third fewer training writers gives the slope
 * per log(writers), and EER(n) = a + b ln n through those two sizes is extrapolated to the dev size
 * and to --target. Smaller sizes (e.g. --writer-fraction 0.33) only check the curve's shape: a
 * least-squares line over every size is printed beside it.
 * Rule (stated before the reduced runs were scored): the recipe with the lowest extrapolated EER
 * at --target writers is chosen. The outer test (fixed test persons, dev models at both sizes)
 * is printed beside it as a check, never as the chooser.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backend/select.js';
import type { SignatureDecision } from '../src/applications/signatures/reference_verification.js';
import { SignatureFolds, candidateLabel, mean, pct, pooled, sd, type TestRow, type WdConfig } from './lib/signature-cv.js';

const { values: args } = parseArgs({
  options: {
    full: { type: 'string' },
    reduced: { type: 'string' },
    target: { type: 'string', default: '30' },
    out: { type: 'string' },
    data: { type: 'string', default: join('..', 'shared', 'data', 'signatures', 'handwritten_signatures.zip') },
    backend: { type: 'string', default: 'auto' },
  },
});
if (!args.full || !args.reduced) throw new Error('--full and --reduced: the cv-results.json of nested-cv-signatures.ts on the full-size state and on the --writer-fraction states (comma-separated)');
const target = Number(args.target);
if (!(target >= 2)) throw new Error(`--target: writers of the model to choose for, got '${args.target}'`);

interface Selection { recipe: string; step: number; decision: SignatureDecision; wd: WdConfig | null; innerEer: number; eer: number[][]; threshold: number[][] }
interface CvResults { state: string; folds: string[][]; selection: Selection[] }
const load = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as CvResults;
const full = load(args.full);
// Several reduced reports (comma-separated: repeats with other --writer-seed subsamples) are averaged per inner fold.
const reducedAll = args.reduced.split(',').map(load);
for (const r of reducedAll) if (JSON.stringify(full.folds) !== JSON.stringify(r.folds)) throw new Error(`${r.state}: made with other outer folds than ${full.state} (--seed or --folds)`);

/** Training persons of a state's models (inner and dev), read from the first fold's metadata. */
function writers(res: CvResults, recipe: string, part: string, step: number): number {
  const meta = JSON.parse(readFileSync(join(res.state, recipe, 'fold-0', part, `step-${step}`, 'fewshot.json'), 'utf8')) as { training: { trainPersons: string[] } };
  return meta.training.trainPersons.length;
}
await selectBackend(args.backend as 'auto');
const cvData = await SignatureFolds.load(args.data!);
/** The candidate's dev models (one per outer fold) on the outer test persons, K = 4: EER mean over folds. */
async function outerK4(res: CvResults, c: Selection): Promise<number> {
  const rows: TestRow[] = [];
  for (let f = 0; f < res.folds.length; f++) {
    const m = await cvData.loadModel(join(res.state, c.recipe, `fold-${f}`, 'dev', `step-${c.step}`), res.folds[f]!);
    rows.push(...cvData.testRows(m, f, c.decision, c.wd ?? { kernel: 'rbf', l2: 1 }, mean(c.threshold[f]!), [4]));
  }
  return pooled(rows)[0]!.eer;
}
const same = (a: Selection, b: Selection) => candidateLabel(a) === candidateLabel(b);

/** Least-squares slope of EER on ln(writers). */
function slopeOf(points: readonly { n: number; eer: number }[]): number {
  const xs = points.map((p) => Math.log(p.n));
  const mx = mean(xs);
  const my = mean(points.map((p) => p.eer));
  return points.reduce((a, p, i) => a + (xs[i]! - mx) * (p.eer - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
}

const rows = [];
for (const recipe of [...new Set(full.selection.map((c) => c.recipe))].sort()) {
  const best = full.selection.filter((c) => c.recipe === recipe).sort((a, b) => a.innerEer - b.innerEer)[0]!;
  const smalls = reducedAll.map((r) => ({ r, c: r.selection.find((c) => same(c, best)) }));
  if (smalls.some((x) => !x.c)) { console.error(`${candidateLabel(best)}: not in every reduced report, left out`); continue; }
  const nFull = writers(full, recipe, 'inner-0', best.step);
  const nDev = writers(full, recipe, 'dev', best.step);
  // Reports of the same writer count (other --writer-seed subsamples) are averaged per inner fold.
  const sizes = [...new Set(smalls.map((x) => writers(x.r, recipe, 'inner-0', best.step)))].sort((a, b) => a - b).map((n) => {
    const group = smalls.filter((x) => writers(x.r, recipe, 'inner-0', best.step) === n);
    return { n, reports: group.length, eer: mean(group.map((x) => x.c!.innerEer)), folds: best.eer.flat().map((_, i) => mean(group.map((x) => x.c!.eer.flat()[i]!))), group };
  });
  const nearest = sizes[sizes.length - 1]!;
  // Paired per inner fold: the same 5 validation persons at both sizes.
  const gains = best.eer.flat().map((e, i) => nearest.folds[i]! - e);
  // The rule: the line through the full size and the nearest smaller one (EER per unit ln(writers); negative = gains).
  const slope = (best.innerEer - nearest.eer) / Math.log(nFull / nearest.n);
  const at = (n: number) => best.innerEer + slope * Math.log(n / nFull);
  // A check of the curve's shape, never the chooser: least squares over every size.
  const allPoints = [...sizes.map((x) => ({ n: x.n, eer: x.eer })), { n: nFull, eer: best.innerEer }];
  const lsSlope = slopeOf(allPoints);
  const lsAt = (n: number) => mean(allPoints.map((p) => p.eer)) + lsSlope * (Math.log(n) - mean(allPoints.map((p) => Math.log(p.n))));
  const outer = [];
  for (const x of sizes) outer.push({ devWriters: writers(x.group[0]!.r, recipe, 'dev', best.step), eerK4: mean(await Promise.all(x.group.map((g) => outerK4(g.r, g.c!)))) });
  outer.push({ devWriters: nDev, eerK4: await outerK4(full, best) });
  rows.push({
    recipe, candidate: candidateLabel(best), writers: { sizes: sizes.map((x) => x.n), full: nFull, dev: nDev, target },
    innerEer: [...sizes.map((x) => ({ writers: x.n, reports: x.reports, eer: x.eer })), { writers: nFull, reports: 1, eer: best.innerEer }],
    gainPerFold: { from: nearest.n, to: nFull, mean: mean(gains), sd: sd(gains), folds: gains },
    slopePerLnWriters: slope, extrapolated: { dev: at(nDev), target: at(target) },
    leastSquaresCheck: { slopePerLnWriters: lsSlope, target: lsAt(target) },
    outerTestK4: outer,
  });
}
if (rows.length === 0) throw new Error('no recipe is in every report');
const chosen = [...rows].sort((a, b) => a.extrapolated.target - b.extrapolated.target)[0]!;

const r0 = rows[0]!;
console.log(`| recipe (its best full-size inner candidate) | ${r0.innerEer.map((x) => `inner EER, ${x.writers} writers${x.reports > 1 ? ` (${x.reports} subsamples)` : ''}`).join(' | ')} | gain ${r0.gainPerFold.from} -> ${r0.gainPerFold.to} per inner fold (mean ± sd of ${r0.gainPerFold.folds.length}) | extrapolated, ${r0.writers.dev} writers | **extrapolated, ${target} writers (the rule)** | least squares over all sizes, ${target} writers (check) | outer test K=4, dev on ${r0.outerTestK4.map((x) => x.devWriters).join(' / ')} writers (check) |`);
console.log(`|---|${r0.innerEer.map(() => '---|').join('')}---|---|---|---|---|`);
for (const r of rows) {
  console.log(`| ${r.candidate} | ${r.innerEer.map((x) => pct(x.eer)).join(' | ')} | ${pct(r.gainPerFold.mean)} ± ${pct(r.gainPerFold.sd)} | ${pct(r.extrapolated.dev)} | **${pct(r.extrapolated.target)}** | ${pct(r.leastSquaresCheck.target)} | ${r.outerTestK4.map((x) => pct(x.eerK4)).join(' / ')} |`);
}
// How sure: the chosen recipe's gain minus another's, paired on the same inner folds (mean ± standard error).
for (const r of rows.filter((x) => x !== chosen)) {
  const d = chosen.gainPerFold.folds.map((g, i) => g - r.gainPerFold.folds[i]!);
  console.log(`gain ${chosen.gainPerFold.from} -> ${chosen.gainPerFold.to} writers, ${chosen.recipe} minus ${r.recipe}, paired over ${d.length} inner folds: ${pct(mean(d))} ± ${pct(sd(d) / Math.sqrt(d.length - 1))} (standard error)`);
}
console.log(`\nchosen for ${target} writers: ${chosen.candidate} (extrapolated inner EER ${pct(chosen.extrapolated.target)})`);
if (args.out) {
  writeFileSync(args.out, JSON.stringify({ full: args.full, reduced: args.reduced, target, rule: 'lowest inner EER extrapolated to the target writer count, EER = a + b ln(writers) through the full-size inner folds and the nearest smaller size', rows, chosen: chosen.candidate, createdAt: new Date().toISOString() }, null, 2) + '\n');
  console.error(`wrote ${args.out}`);
}
