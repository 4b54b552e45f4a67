/**
 * Training progress on stderr: a redrawn one-line bar on a terminal, plain lines (every
 * `every` steps) otherwise, so that logs piped to a file stay readable.
 */
export interface ProgressInfo {
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  /** Best validation accuracy so far. */
  valAccuracy?: number;
  elapsedSeconds: number;
}

export class ProgressReporter {
  private readonly tty: boolean;
  private lastLineLength = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly every = 50,
    private readonly quiet = false,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(p: ProgressInfo): void {
    if (this.quiet) return;
    const text = formatProgress(p);
    if (this.tty) {
      const width = 24;
      const filled = Math.round((width * p.step) / Math.max(1, p.totalSteps));
      const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
      const line = `[${bar}] ${text}`;
      this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLineLength - line.length))}`);
      this.lastLineLength = line.length;
    } else if (p.step % this.every === 0 || p.step === p.totalSteps) {
      this.stream.write(`${text}\n`);
    }
  }

  /** A message that must not be overwritten by the bar (validation results, checkpoints). */
  message(text: string): void {
    if (this.quiet) return;
    if (this.tty && this.lastLineLength > 0) {
      this.stream.write('\n');
      this.lastLineLength = 0;
    }
    this.stream.write(`${text}\n`);
  }

  finish(): void {
    if (this.tty && this.lastLineLength > 0 && !this.quiet) this.stream.write('\n');
    this.lastLineLength = 0;
  }
}

export function formatProgress(p: ProgressInfo): string {
  const rate = p.elapsedSeconds > 0 ? p.step / p.elapsedSeconds : 0;
  const eta = rate > 0 ? (p.totalSteps - p.step) / rate : 0;
  const val = p.valAccuracy === undefined ? '' : ` best val ${(100 * p.valAccuracy).toFixed(1)}%`;
  return `step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)}${val} ${rate.toFixed(2)} step/s eta ${formatSeconds(eta)}`;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  // Round once, then split: rounding the seconds alone turned 179.6 s into "2m60s".
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  return m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
