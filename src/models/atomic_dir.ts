/**
 * Replaces a directory's content all at once: files are written and fsynced in a temporary
 * sibling directory, which then takes the target's place by rename. Linux cannot swap two
 * directories atomically, so for a moment the old directory lives under a backup name; a reader
 * in that instant would miss the model, but no reader ever sees a mix of old and new files, and
 * `recoverInterruptedWrite` brings the backup back if the process died exactly there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writeDirectoryAtomically(dir: string, files: Record<string, string | Uint8Array>): void {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  recoverInterruptedWrite(target);
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const tmp = path.join(parent, `.${path.basename(target)}.tmp-${tag}`);
  const backup = path.join(parent, `.${path.basename(target)}.old-${tag}`);
  fs.mkdirSync(tmp);
  try {
    for (const [name, content] of Object.entries(files)) writeFileSynced(path.join(tmp, name), content);
    fsyncDir(tmp);
    if (fs.existsSync(target)) fs.renameSync(target, backup);
    fs.renameSync(tmp, target);
    fsyncDir(parent);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(target) && fs.existsSync(backup)) fs.renameSync(backup, target);
    throw e;
  }
  fs.rmSync(backup, { recursive: true, force: true });
}

/** Puts back a backup left by a process killed between the two renames; drops stale temp dirs. */
export function recoverInterruptedWrite(dir: string): void {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  if (!fs.existsSync(parent)) return;
  const base = path.basename(target);
  const leftovers = fs.readdirSync(parent).filter((n) => n.startsWith(`.${base}.tmp-`) || n.startsWith(`.${base}.old-`));
  for (const name of leftovers.sort()) {
    const p = path.join(parent, name);
    if (name.startsWith(`.${base}.old-`) && !fs.existsSync(target)) fs.renameSync(p, target);
    else fs.rmSync(p, { recursive: true, force: true });
  }
}

function writeFileSynced(file: string, content: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
