/**
 * A self-contained HTML verification report: plots are inline SVG (rendered in Node by
 * charts.ts), images are inline PNG data URIs, styles are inline. The page loads nothing from
 * anywhere, so it can be mailed, archived, or opened offline.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encodePng, type Image } from '../data/image.js';
import type { RocPoint } from '../verification/metrics.js';
import { renderSvg, rocSpec, scoreHistogramSpec, trainingCurvesSpec } from './charts.js';

/** One pair shown in the error grid: one or more reference images against a questioned one. */
export interface ReportPair {
  left: Image[];
  right: Image;
  leftCaption: string;
  rightCaption: string;
  /** The model's score in user units (probability or distance). */
  score: number;
  /** What the truth was. */
  truth: 'same' | 'different';
}

export interface ReportInput {
  title: string;
  /** Lines under the title: model, data, date. */
  subtitle: string[];
  /** The numbers, as a two-column table. */
  summary: [string, string][];
  roc: readonly RocPoint[];
  eer: number;
  operatingPoint?: { far: number; tar: number; label: string };
  /** Scores in user units (probability or distance). */
  genuineScores: ArrayLike<number>;
  impostorScores: ArrayLike<number>;
  scoreLabel: string;
  /** Legend names of the two score sets (default 'genuine' / 'impostor'). */
  genuineName?: string;
  impostorName?: string;
  threshold?: number;
  thresholdLabel?: string;
  trainingLog?: readonly Record<string, unknown>[];
  trainingLogSource?: string;
  /** Genuine pairs scored most like impostors, worst first. */
  falseRejects: ReportPair[];
  /** Impostor pairs scored most like genuine pairs, worst first. */
  falseAccepts: ReportPair[];
  notes?: string[];
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function pngDataUri(img: Image): string {
  return `data:image/png;base64,${Buffer.from(encodePng(img)).toString('base64')}`;
}

function pairCard(p: ReportPair, rank: number): string {
  const imgs = p.left
    .map((im) => `<img src="${pngDataUri(im)}" alt="reference" title="${escapeHtml(p.leftCaption)}">`)
    .join('');
  return `<figure class="pair">
<div class="imgs">${imgs}<span class="vs">vs</span><img src="${pngDataUri(p.right)}" alt="questioned" title="${escapeHtml(p.rightCaption)}"></div>
<figcaption>#${rank} &middot; score <b>${p.score.toPrecision(4)}</b> &middot; truth: ${p.truth}<br>
<span class="cap">${escapeHtml(p.leftCaption)}<br>vs ${escapeHtml(p.rightCaption)}</span></figcaption>
</figure>`;
}

function pairGrid(pairs: ReportPair[], empty: string): string {
  if (pairs.length === 0) return `<p class="muted">${escapeHtml(empty)}</p>`;
  return `<div class="grid">${pairs.map((p, i) => pairCard(p, i + 1)).join('\n')}</div>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1100px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.sub { color: #666; margin: 0; } .muted { color: #888; }
table.summary { border-collapse: collapse; margin-top: 10px; } table.summary td { padding: 3px 14px 3px 0; border-bottom: 1px solid #eee; }
table.summary td:first-child { color: #555; }
.plots { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
.pair { margin: 0; border: 1px solid #ddd; border-radius: 6px; padding: 8px; background: #fafafa; }
.pair .imgs { display: flex; align-items: center; gap: 4px; }
.pair img { height: 84px; image-rendering: pixelated; border: 1px solid #ccc; background: #000; }
.pair .vs { color: #999; padding: 0 4px; }
.pair figcaption { font-size: 12px; margin-top: 4px; max-width: 360px; } .cap { color: #777; word-break: break-all; }
`;

/** The whole page as a string. */
export async function renderReportHtml(input: ReportInput): Promise<string> {
  const roc = await renderSvg(rocSpec(input.roc, { eer: input.eer, operatingPoint: input.operatingPoint }));
  const hist = await renderSvg(scoreHistogramSpec(input.genuineScores, input.impostorScores, {
    scoreLabel: input.scoreLabel, threshold: input.threshold, thresholdLabel: input.thresholdLabel,
    ...(input.genuineName ? { genuineName: input.genuineName } : {}),
    ...(input.impostorName ? { impostorName: input.impostorName } : {}),
  }));
  const curvesSpec = input.trainingLog ? trainingCurvesSpec(input.trainingLog) : null;
  const curves = curvesSpec ? await renderSvg(curvesSpec) : null;
  const rows = input.summary.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td><b>${escapeHtml(v)}</b></td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(input.title)}</h1>
${input.subtitle.map((s) => `<p class="sub">${escapeHtml(s)}</p>`).join('\n')}
<table class="summary">
${rows}
</table>
${(input.notes ?? []).map((n) => `<p class="muted">${escapeHtml(n)}</p>`).join('\n')}
<h2>ROC curve and score distributions</h2>
<div class="plots">
<div class="plot" id="roc">${roc}</div>
<div class="plot" id="histogram">${hist}</div>
</div>
<h2>Training curves</h2>
${curves ? `<div class="plot" id="training">${curves}</div><p class="muted">from ${escapeHtml(input.trainingLogSource ?? 'the training log')}</p>` : '<p class="muted">No training log (JSONL) found next to the model.</p>'}
<h2>Worst false rejects (genuine pairs scored as different)</h2>
${pairGrid(input.falseRejects, 'No genuine pair was rejected.')}
<h2>Worst false accepts (impostor pairs scored as same)</h2>
${pairGrid(input.falseAccepts, 'No impostor pair was accepted.')}
<p class="muted">Images are shown as the model sees them (after its preprocessing).</p>
</body>
</html>
`;
}

/** Writes `index.html` into `outDir` (created if needed); returns its absolute path. */
export async function writeReport(input: ReportInput, outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const path = resolve(join(outDir, 'index.html'));
  writeFileSync(path, await renderReportHtml(input));
  return path;
}
