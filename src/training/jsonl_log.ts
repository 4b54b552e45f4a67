/**
 * The training log: one JSON object per line (step, loss, lr, validation accuracy, elapsed).
 * Appended synchronously so that a killed run keeps every line written before the kill; on
 * resume, lines past the checkpoint's step are dropped so the log never shows a step twice.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LogRecord {
  step: number;
  elapsed: number;
  [key: string]: unknown;
}

export class JsonlLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Starts a fresh log (new run) or truncates it to `step` (resumed run). */
  startAt(step: number): void {
    if (step === 0 || !existsSync(this.path)) {
      writeFileSync(this.path, '');
      return;
    }
    const kept = readJsonl(this.path).filter((r) => r.step <= step);
    writeFileSync(this.path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  append(record: LogRecord): void {
    appendFileSync(this.path, JSON.stringify(record) + '\n');
  }
}

export function readJsonl(path: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // A kill in the middle of an append leaves a partial last line: skip it.
    }
  }
  return out;
}
