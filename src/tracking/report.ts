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
import { meanCurve, type SequenceResult, type TrackingEvaluation } from './evaluate.js';

const LABELS: Record<string, string> = { siamfc: 'SiamFC (learned)', ncc: 'NCC baseline' };
const COLORS = ['#e41a1c', '#377eb8'];

function curveSpec(results: SequenceResult[], which: 'success' | 'precision', summary: TrackingEvaluation): TopLevelSpec {
  const trackers = ['siamfc', 'ncc'];
  const score = (t: string) =>
    which === 'success'
      ? `AUC ${(t === 'siamfc' ? summary.meanAuc : summary.baseline.meanAuc).toFixed(3)}`
      : `P@20 ${(t === 'siamfc' ? summary.meanPrecision20 : summary.baseline.meanPrecision20).toFixed(3)}`;
  const label = (t: string) => `${LABELS[t]} [${score(t)}]`;
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
      // Same colours as the frame strips (SiamFC red, NCC blue), whatever the label order.
      color: {
        field: 'tracker',
        type: 'nominal',
        scale: { domain: trackers.map(label), range: COLORS },
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
  const rows = results
    .map((r) => {
      const a = summary.sequences[r.name]!;
      const b = summary.baseline.sequences[r.name]!;
      return `<tr><td>${esc(r.name)}</td><td>${a.frames}</td><td>${a.auc.toFixed(3)}</td><td>${a.precision20.toFixed(3)}</td><td>${a.fps.toFixed(1)}</td><td>${b.auc.toFixed(3)}</td><td>${b.precision20.toFixed(3)}</td><td>${b.fps.toFixed(1)}</td></tr>`;
    })
    .join('\n');
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
<table><tr><th>sequence</th><th>frames</th><th>SiamFC AUC</th><th>P@20</th><th>fps</th><th>NCC AUC</th><th>P@20</th><th>fps</th></tr>
${rows}
<tr><th>mean</th><th></th><th>${summary.meanAuc.toFixed(3)}</th><th>${summary.meanPrecision20.toFixed(3)}</th><th>${summary.fps.toFixed(1)}</th><th>${summary.baseline.meanAuc.toFixed(3)}</th><th>${summary.baseline.meanPrecision20.toFixed(3)}</th><th>${summary.baseline.fps.toFixed(1)}</th></tr></table>
<h2>Frames</h2><p>Green: ground truth; red: SiamFC; blue: NCC.</p>
${strips}
</body></html>
`;
  const path = join(dir, 'report.html');
  writeFileSync(path, html);
  return path;
}
