import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backend/select.js';
import { renderReportHtml, writeReport, type ReportInput } from '../../src/report/html.js';
import { renderSvg, rocSpec, scoreHistogramSpec, trainingCurvesSpec } from '../../src/report/charts.js';
import { findTrainingLog, pairReportInput } from '../../src/report/verification_report.js';
import { evaluatePairs } from '../../src/verification/evaluate.js';
import { rocCurve } from '../../src/verification/metrics.js';
import { Rng } from '../../src/util/random.js';
import { embeddingScorer, patternDataset, embeddingMeta } from '../verification/helpers.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

/** Every way a page could reach the network: absolute URLs, scripts, stylesheets, fonts. */
function assertOffline(html: string): void {
  assert.doesNotMatch(html, /https?:\/\//i, 'no absolute URL');
  assert.doesNotMatch(html, /<script/i, 'no script');
  assert.doesNotMatch(html, /<link/i, 'no external stylesheet');
  assert.doesNotMatch(html, /@import|url\(/i, 'no CSS import or url()');
  for (const m of html.matchAll(/\b(?:src|href)="([^"]*)"/g)) assert.match(m[1]!, /^data:image\/png;base64,/, `resource ${m[1]!.slice(0, 40)}`);
}

test('charts render to SVG in Node (ROC, histogram with threshold, training curves)', async () => {
  const rng = new Rng(1);
  const genuine = Array.from({ length: 200 }, () => 1 + rng.normal());
  const impostor = Array.from({ length: 400 }, () => -1 + rng.normal());
  const roc = await renderSvg(rocSpec(rocCurve({ genuine, impostor, direction: 'higher-is-same' }), { eer: 0.16 }));
  assert.match(roc, /^<svg/);
  assert.match(roc, /EER 16\.0%/);
  const hist = await renderSvg(scoreHistogramSpec(genuine, impostor, { scoreLabel: 'score', threshold: 0.1, thresholdLabel: 'threshold 0.1' }));
  assert.match(hist, /threshold 0\.1/);
  assert.match(hist, /genuine \(200\)/);
  assert.match(hist, /impostor \(400\)/);
  const curves = trainingCurvesSpec([{ step: 10, loss: 2, lr: 0.1, elapsed: 1 }, { step: 20, loss: 1, lr: 0.05, valAccuracy: 0.8, elapsed: 2 }]);
  assert.ok(curves);
  const svg = await renderSvg(curves);
  assert.match(svg, /loss/);
  assert.match(svg, /valAccuracy/);
  assert.doesNotMatch(svg, />elapsed</);
  assert.equal(trainingCurvesSpec([{ note: 'no numbers' }]), null);
});

test('report HTML is written, holds the plots and the error grid, and needs no network', async () => {
  // Noisy generated classes (noise 140 of 255) so that some pairs are misjudged.
  const ds = patternDataset(5, 5, 3);
  for (let i = 0; i < ds.pixels.length; i++) ds.pixels[i] = Math.min(255, ds.pixels[i]! + ((i * 7919) % 140));
  const scorer = embeddingScorer();
  const e = evaluatePairs(scorer, ds, { seed: 0, dataName: 'generated' });
  const dir = mkdtempSync(join(tmpdir(), 'fewshot-report-'));
  try {
    writeFileSync(join(dir, 'training-log.jsonl'), [
      JSON.stringify({ step: 50, loss: 1.5, lr: 0.001, elapsed: 3 }),
      JSON.stringify({ step: 100, loss: 0.9, lr: 0.0005, valAccuracy: 0.7, elapsed: 6 }),
      '{"step": 150, "loss"', // a killed run's partial line is skipped
    ].join('\n'));
    const input: ReportInput = pairReportInput({ modelDir: dir, dataPath: 'generated', meta: embeddingMeta(), worst: 4 }, ds, e);
    const log = findTrainingLog(dir);
    assert.ok(log);
    assert.equal(log.records.length, 2);
    input.trainingLog = log.records;
    input.trainingLogSource = log.path;
    const out = join(dir, 'report');
    const path = await writeReport(input, out);
    assert.ok(existsSync(path));
    const html = readFileSync(path, 'utf8');
    assert.match(html, /^<!doctype html>/);
    for (const id of ['roc', 'histogram', 'training']) assert.match(html, new RegExp(`id="${id}"><svg`), `plot ${id}`);
    assert.match(html, /ROC AUC/);
    assert.match(html, /equal error rate/);
    const errors = e.atCalibrated.far + e.atCalibrated.frr;
    assert.ok(errors > 0, 'the generated data must produce errors for the grid');
    const images = html.match(/src="data:image\/png;base64,/g) ?? [];
    assert.ok(images.length >= 2 && images.length <= 2 * 2 * 4, `${images.length} inline images`);
    assert.match(html, /distance \(lower = same\)/);
    assertOffline(html);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('report without a training log says so instead of leaving a hole', async () => {
  const rng = new Rng(2);
  const genuine = Array.from({ length: 20 }, () => 0.8 + 0.1 * rng.normal());
  const impostor = Array.from({ length: 20 }, () => 0.3 + 0.1 * rng.normal());
  const html = await renderReportHtml({
    title: 'T <b>escaped</b>', subtitle: ['s'], summary: [['a', '1']],
    roc: rocCurve({ genuine, impostor, direction: 'higher-is-same' }), eer: 0.05,
    genuineScores: genuine, impostorScores: impostor, scoreLabel: 'probability', threshold: 0.5,
    falseRejects: [], falseAccepts: [],
  });
  assert.match(html, /No training log/);
  assert.match(html, /T &lt;b&gt;escaped&lt;\/b&gt;/);
  assert.match(html, /No genuine pair was rejected/);
  assertOffline(html);
  const missing = join(tmpdir(), 'fewshot-no-such-model-dir');
  mkdirSync(missing, { recursive: true });
  assert.equal(findTrainingLog(missing), null);
  rmSync(missing, { recursive: true, force: true });
});
