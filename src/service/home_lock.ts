/**
 * An exclusive lock on a gallery folder: two servers on one home would each keep their own index
 * and both write hnsw.bin, so the second one must refuse to start. The lock is a file created
 * atomically (link() fails when it exists) holding the owner's pid, host and process start time;
 * a lock whose process is gone (or whose pid now belongs to another process) is stale and taken over.
 */
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

interface LockOwner {
  pid: number;
  host: string;
  /** /proc/PID/stat start time (clock ticks since boot), when the system has /proc. */
  started: string | null;
  since: string;
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the parenthesised command name (which may contain spaces).
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true; // cannot check another machine's processes: assume it runs
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = processStart(owner.pid);
  return owner.started === null || started === null || started === owner.started;
}

export class LockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockedError';
  }
}

export interface FolderLock {
  readonly file: string;
  release(): void;
}

/** Takes the lock on `dir` (which must exist) or throws LockedError naming the owner. */
export function lockFolder(dir: string, what = 'this gallery'): FolderLock {
  const file = join(dir, 'lock');
  const me: LockOwner = { pid: process.pid, host: hostname(), started: processStart(process.pid), since: new Date().toISOString() };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(me));
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, file);
        let released = false;
        return {
          file,
          release() {
            if (released) return;
            released = true;
            try {
              const owner = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
              if (owner.pid === me.pid && owner.host === me.host) rmSync(file, { force: true });
            } catch {
              // already gone
            }
          },
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let owner: LockOwner | null = null;
      try {
        owner = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
      } catch {
        owner = null; // unreadable: a crash while writing it; treat as stale
      }
      if (owner && alive(owner)) {
        throw new LockedError(
          `${what} (${dir}) is in use by another fewshot process (pid ${owner.pid} on ${owner.host}, since ${owner.since}); ` +
            'stop it first, or give this server another --home. Two servers on one gallery folder would each keep their own index.',
        );
      }
      rmSync(file, { force: true }); // stale: its process is gone
    }
    throw new LockedError(`cannot take the lock ${file}: another process keeps taking it`);
  } finally {
    rmSync(tmp, { force: true });
  }
}
