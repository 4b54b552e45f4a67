/**
 * Where dataset files come from in Node: a directory, a .zip file, or an http(s) URL of a zip.
 * The in-memory zip reader and the FileSource interface are in zip_source.ts (browser-safe).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isJunkPath, isZip, ZipSource, type FileSource } from './zip_source.js';

export { isJunkPath, isZip, ZipSource, type FileSource } from './zip_source.js';

export interface OpenSourceOptions {
  /** Largest download accepted for a URL, in bytes (default 2 GiB). */
  maxDownloadBytes?: number;
}

/** Opens a directory, a .zip file or an http(s) URL of a zip. */
export async function openSource(pathOrUrl: string, opts: OpenSourceOptions = {}): Promise<FileSource> {
  if (/^https?:\/\//i.test(pathOrUrl)) return openUrlZip(pathOrUrl, opts.maxDownloadBytes ?? 2 ** 31);
  let st;
  try {
    st = statSync(pathOrUrl);
  } catch {
    throw new Error(`${pathOrUrl}: no such file or directory`);
  }
  if (st.isDirectory()) return new DirectorySource(pathOrUrl);
  const bytes = readFileSync(pathOrUrl);
  if (!isZip(bytes)) throw new Error(`${pathOrUrl}: not a directory or a .zip archive`);
  return new ZipSource(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), pathOrUrl);
}

async function openUrlZip(url: string, maxBytes: number): Promise<FileSource> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new Error(`${url}: download failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!res.ok) throw new Error(`${url}: download failed: HTTP ${res.status} ${res.statusText}`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw new Error(`${url}: ${declared} bytes is more than the limit of ${maxBytes}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length > maxBytes) throw new Error(`${url}: ${bytes.length} bytes is more than the limit of ${maxBytes}`);
  if (!isZip(bytes)) throw new Error(`${url}: the download is not a .zip archive`);
  return new ZipSource(bytes, url);
}

/** The files under a directory (symbolic links followed, system junk like .DS_Store left out). */
export class DirectorySource implements FileSource {
  readonly location: string;
  private files: string[] | null = null;
  private dirs: string[] = [];

  constructor(dir: string) {
    this.location = resolve(dir);
  }

  list(): string[] {
    if (this.files === null) {
      const files: string[] = [];
      const walk = (rel: string) => {
        const abs = rel ? join(this.location, rel) : this.location;
        for (const ent of readdirSync(abs, { withFileTypes: true })) {
          const r = rel ? `${rel}/${ent.name}` : ent.name;
          if (isJunkPath(r)) continue;
          let isDir = ent.isDirectory();
          let isFile = ent.isFile();
          if (ent.isSymbolicLink()) {
            const st = statSync(join(abs, ent.name));
            isDir = st.isDirectory();
            isFile = st.isFile();
          }
          if (isDir) {
            this.dirs.push(r);
            walk(r);
          } else if (isFile) {
            files.push(r);
          }
        }
      };
      walk('');
      this.files = files.sort();
      this.dirs.sort();
    }
    return this.files.slice();
  }

  listDirectories(): string[] {
    this.list();
    return this.dirs.slice();
  }

  read(path: string): Uint8Array {
    try {
      const b = readFileSync(join(this.location, path));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err);
      throw new Error(`${join(this.location, path)}: ${why}`, { cause: err });
    }
  }
}

