/**
 * What every Omniglot model of this project gets after training (scripts/train-omniglot.ts) or
 * on demand (scripts/eval-omniglot.ts): the validation table (omniglot_validation.ts), an
 * open-set threshold calibrated on held-out pairs, and optionally shipping: the model, its
 * metadata, its training log and validation.json copied into a models/ folder.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openSource } from '../../data/source.js';
import { measureOnOmniglotValidation, type OmniglotValidationRow } from '../../evaluation/omniglot_validation.js';
import { loadScorer } from '../../inference/load.js';
import { calibrateThreshold, writeThreshold } from '../../verification/calibration.js';
import { pairSimilarities, sampledPairs, splitScores } from '../../verification/pairs.js';

export interface OmniglotReportOptions {
  /** The background set (zip or folder) holding the validation alphabets. */
  data: string;
  validationAlphabets: string[];
  episodes: number;
  /** Average embeddings over this many fixed jitters (1 = off). */
  ttaViews?: number;
  /** Calibrate the FAR-1% threshold on held-out pairs into the model's fewshot.json. */
  calibrate?: boolean;
  /** Copy the model, its log and validation.json to this folder. */
  shipTo?: string;
  /** Extra fields of validation.json (method, steps, command...). */
  facts?: Record<string, unknown>;
  log?: (line: string) => void;
}

export type OmniglotReport = Record<string, unknown> & OmniglotValidationRow;

export async function reportOmniglotModel(modelDir: string, opts: OmniglotReportOptions): Promise<OmniglotReport> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const base = await loadScorer(modelDir);
  const scorer = opts.ttaViews && opts.ttaViews > 1 ? base.withTestTimeAugmentation(opts.ttaViews) : base;
  const source = await openSource(opts.data);
  const { row: measured, validation, cache } = await measureOnOmniglotValidation(scorer, source, opts.validationAlphabets, { episodes: opts.episodes });
  const row: OmniglotReport = { ...opts.facts, score: base.meta.score, ...measured, model: modelDir, measuredAt: new Date().toISOString() };
  if (opts.calibrate) {
    // The open-set threshold ('unknown' below it): FAR 1% on same / different pairs of held-out
    // characters, stored in fewshot.json like `fewshot eval-verify --calibrate` does.
    const pairs = sampledPairs(validation.labels, 20000, 7);
    const embeddings = cache.get(Array.from({ length: validation.size }, (_, i) => i));
    const { genuine, impostor } = splitScores(pairSimilarities(embeddings, pairs, (a, b) => scorer.similarity(a, b)), pairs.same);
    const calibration = calibrateThreshold(genuine, impostor, 0.01, 'Omniglot validation alphabets');
    writeThreshold(modelDir, calibration.threshold);
    log(`threshold ${calibration.threshold.value.toFixed(4)} (${calibration.threshold.source}): FAR ${calibration.far.toFixed(4)}, FRR ${calibration.frr.toFixed(4)}`);
  }
  if (opts.shipTo) {
    const dest = resolve(opts.shipTo);
    if (dest === resolve(modelDir)) {
      writeFileSync(join(dest, 'validation.json'), JSON.stringify(remeasured(join(dest, 'validation.json'), row), null, 2) + '\n');
      log(`validation.json of ${dest} re-measured`);
    } else {
      mkdirSync(dest, { recursive: true });
      for (const f of ['model.json', 'weights.bin', 'fewshot.json', 'training-log.jsonl']) {
        if (existsSync(join(modelDir, f))) copyFileSync(join(modelDir, f), join(dest, f));
      }
      writeFileSync(join(dest, 'validation.json'), JSON.stringify(row, null, 2) + '\n');
      log(`shipped to ${dest}`);
    }
  }
  return row;
}

/**
 * `--ship` onto the model's own folder re-measures a shipped model: the measurements are
 * replaced, how it was trained (method, steps, the training command...) is kept, and the command
 * that measured it is added as `measuredWith`.
 */
export function remeasured(validationJson: string, row: OmniglotReport): Record<string, unknown> {
  const previous = existsSync(validationJson) ? (JSON.parse(readFileSync(validationJson, 'utf8')) as Record<string, unknown>) : {};
  const model = previous['model'] ?? row.model;
  return { ...previous, ...row, model, ...(previous['command'] !== undefined ? { command: previous['command'], measuredWith: row['command'] } : {}) };
}
