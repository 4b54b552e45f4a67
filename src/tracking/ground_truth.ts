/**
 * OTB / UAV123 ground truth: one `x,y,w,h` box per frame, top-left corner, 1-based. Separators
 * vary between the benchmarks (comma, tab, spaces), so all are accepted. UAV123 marks frames where
 * the target is out of view with `NaN,NaN,NaN,NaN`; those become `null` (not scored). Anything else
 * that is not four finite numbers is an error naming the file and the line, because a silently
 * skipped line would shift every later box onto the wrong frame.
 */
import { fromOtb, type Box } from './boxes.js';

export function parseGroundTruth(text: string, fileName: string): (Box | null)[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  // Trailing blank lines are common (final newline, editors); blank lines inside are not allowed.
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) throw new Error(`${fileName}: no boxes (the file is empty)`);
  return lines.map((raw, i) => {
    const where = `${fileName}:${i + 1}`;
    const line = raw.trim();
    if (line === '') throw new Error(`${where}: empty line; expected "x,y,w,h"`);
    const parts = line.split(/[\s,;]+/).filter((p) => p !== '');
    if (parts.length !== 4) {
      throw new Error(`${where}: expected 4 numbers "x,y,w,h", got ${parts.length} in "${line}"`);
    }
    if (parts.every((p) => /^nan$/i.test(p))) return null;
    const values = parts.map((p) => (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(p) ? Number(p) : NaN));
    if (values.some((v) => !Number.isFinite(v))) {
      throw new Error(`${where}: not a number in "${line}" (expected "x,y,w,h")`);
    }
    const [x, y, w, h] = values as [number, number, number, number];
    if (w < 0 || h < 0) throw new Error(`${where}: negative width or height in "${line}"`);
    // OTB writes 0,0,0,0 for a few frames where the target is fully occluded: absent, not a box.
    if (w === 0 || h === 0) return null;
    return fromOtb(x, y, w, h);
  });
}
