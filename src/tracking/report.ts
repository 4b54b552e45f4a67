/**
 * The tracking report: OTB success and precision plots (Vega-Lite rendered to inline SVG, no
 * network needed to view it), the per-sequence table, and a frame strip per sequence (inline PNG).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from '../report/charts.js';
import { escapeHtml as esc } from '../report/html.js';
import { encodePng } from './data_access.js';
import type { Rgb } from './draw.js';
import { meanCurve, trackerOrder, type SequenceResult, type TrackerSummary, type TrackingEvaluation } from './evaluate.js';

const LABELS: Record<string, string> = { 'siamfc-pretrained': 'SiamFC, pretrained backbone', 'siamfc-small': 'SiamFC, small encoder', ncc: 'NCC baseline' };
const hex = (c: Rgb) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

function summaries(summary: TrackingEvaluation): Record<string, TrackerSummary> {
  return { ...summary.trackers, ncc: summary.baseline };
}

function curveSpec(results: SequenceResult[], which: 'success' | 'precision', summary: TrackingEvaluation): TopLevelSpec {
  const { names: trackers, colors } = trackerOrder(Object.keys(summary.trackers));
  const all = summaries(summary);
  const score = (t: string) => (which === 'success' ? `AUC ${all[t]!.meanAuc.toFixed(3)}` : `P@20 ${all[t]!.meanPrecision20.toFixed(3)}`);
  const label = (t: string) => `${LABELS[t] ?? t} [${score(t)}]`;
  const values = trackers.flatMap((t) => meanCurve(results, t, which).map((p) => ({ threshold: p.threshold, value: p.value, tracker: label(t) })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: which === 'success' ? 'Success plot (OPE)' : 'Precision plot (OPE)',
    width: 360,
    height: 300,
    data: { values },
    mark: { type: 'line', strokeWidth: 2 },
    encoding: {
      x: {
        field: 'threshold',
        type: 'quantitative',
        title: which === 'success' ? 'overlap threshold (IoU)' : 'location error threshold (pixels)',
      },
      y: { field: 'value', type: 'quantitative', title: which === 'success' ? 'success rate' : 'precision', scale: { domain: [0, 1] } },
      // Same colours as the boxes in the frame strips, whatever the label order.
      color: {
        field: 'tracker',
        type: 'nominal',
        scale: { domain: trackers.map(label), range: colors.map(hex) },
        legend: { orient: 'bottom', title: null, labelLimit: 400, direction: 'vertical' },
      },
    },
  };
}

/** Writes report.html (self-contained) and strip_<sequence>.png files into `dir`. */
export async function writeTrackingReport(dir: string, summary: TrackingEvaluation, results: SequenceResult[], title = 'Tracking report'): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const success = await renderSvg(curveSpec(results, 'success', summary));
  const precision = await renderSvg(curveSpec(results, 'precision', summary));
  const { names, colors } = trackerOrder(Object.keys(summary.trackers));
  const all = summaries(summary);
  const cells = (x: { auc: number; precision20: number; failures: number; fps: number }) =>
    `<td>${x.auc.toFixed(3)}</td><td>${x.precision20.toFixed(3)}</td><td>${x.failures}</td><td>${x.fps.toFixed(1)}</td>`;
  const rows = results
    .map((r) => `<tr><td>${esc(r.name)}</td><td>${all[names[0]!]!.sequences[r.name]!.frames}</td>${names.map((n) => cells(all[n]!.sequences[r.name]!)).join('')}</tr>`)
    .join('\n');
  const meanRow = `<tr><th>mean</th><th></th>${names.map((n) => cells({ auc: all[n]!.meanAuc, precision20: all[n]!.meanPrecision20, failures: all[n]!.failures, fps: all[n]!.fps })).join('')}</tr>`;
  const head1 = `<tr><th rowspan="2">sequence</th><th rowspan="2">frames</th>${names.map((n) => `<th colspan="4">${esc(LABELS[n] ?? n)}</th>`).join('')}</tr>`;
  const head2 = `<tr>${names.map(() => '<th>AUC</th><th>P@20</th><th>fail</th><th>fps</th>').join('')}</tr>`;
  const legend = names.map((n, i) => `<span style="color:${hex(colors[i]!)}">${esc(LABELS[n] ?? n)}</span>`).join(', ');
  const strips = results
    .map((r) => {
      const png = encodePng(r.strip);
      writeFileSync(join(dir, `strip_${r.name}.png`), png);
      return `<h3>${esc(r.name)}</h3><img alt="${esc(r.name)} frames" src="data:image/png;base64,${Buffer.from(png).toString('base64')}">`;
    })
    .join('\n');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}img{max-width:100%}.plots{display:flex;gap:2em;flex-wrap:wrap}</style></head><body>
<h1>${esc(title)}</h1>
<p>One-pass evaluation (OTB): the tracker is given the first ground-truth box only. Success: fraction of frames with IoU above each threshold (AUC = mean over 21 thresholds). Precision: fraction of frames with centre error within each pixel threshold.</p>
<div class="plots">${success}${precision}</div>
<table>${head1}${head2}
${rows}
${meanRow}</table>
<p>fail: frames where the box does not overlap the ground truth (IoU 0). fps: tracking only (crops, network, search); decoding the frames took ${summary.decodeSeconds} s in all and is not counted.</p>
<h2>Frames</h2><p>Green: ground truth; ${legend}.</p>
${strips}
</body></html>
`;
  const path = join(dir, 'report.html');
  writeFileSync(path, html);
  return path;
}
