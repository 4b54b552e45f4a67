/**
 * Writing a file so that a reader (or a rerun after a crash) sees the old content or the new one,
 * never half of it: the bytes go to a temporary file beside it, which then replaces it by rename
 * (atomic within one file system).
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';

export function writeFileAtomically(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
