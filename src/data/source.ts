/**
 * Where dataset files come from: a directory, a .zip file, or an http(s) URL of a zip.
 *
 * Zips are read lazily: the central directory is parsed once (that is where the zip format lists
 * every entry with its offset), and an entry is inflated only when read() asks for it, with
 * fflate's inflateSync. fflate's own unzipSync would inflate the whole archive up front (an 80 MB
 * tracking zip for one frame), and calling it with a filter per file rescans the directory each
 * time, which is quadratic for Omniglot's 20,000 entries.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as zlib from 'node:zlib';
import { inflateSync } from 'fflate';

export interface FileSource {
  /** Where the files come from (a path or URL), for messages. */
  readonly location: string;
  /** Relative paths, '/' separated, files only, sorted, junk (`__MACOSX/`, `.DS_Store`) left out. */
  list(): string[];
  /** Bytes of one listed file; throws an Error naming the file when it is missing or corrupt. */
  read(path: string): Uint8Array;
  /** Relative paths of the directories (also empty ones), '/' separated, no trailing slash. */
  listDirectories?(): string[];
}

/** Files that operating systems and archivers leave behind: never data. */
export function isJunkPath(path: string): boolean {
  const parts = path.split('/');
  return parts.some((p) => p === '__MACOSX' || p === '.DS_Store' || p === 'Thumbs.db' || p === 'desktop.ini' || p.startsWith('._') || p === '.git');
}

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

function isZip(b: Uint8Array): boolean {
  // Local file header, or the end record of an empty archive.
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
}

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

interface ZipEntry {
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localHeaderOffset: number;
}

const crc32: ((data: Uint8Array) => number) | undefined = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;

/** A zip archive held in memory; entries are inflated on demand. */
export class ZipSource implements FileSource {
  readonly location: string;
  private readonly bytes: Uint8Array;
  private readonly entries = new Map<string, ZipEntry>();
  private readonly files: string[];
  private readonly dirs: string[];

  constructor(bytes: Uint8Array, location: string) {
    this.bytes = bytes;
    this.location = location;
    const dirs = new Set<string>();
    this.readCentralDirectory(dirs);
    this.files = [...this.entries.keys()].sort();
    // Parents of files count as directories even when the zip has no entry for them.
    for (const f of this.files) {
      const parts = f.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    this.dirs = [...dirs].sort();
  }

  private fail(why: string): never {
    throw new Error(`${this.location}: corrupt zip archive: ${why}`);
  }

  private readCentralDirectory(dirs: Set<string>): void {
    const b = this.bytes;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    // The end-of-central-directory record sits in the last 22 + up to 65535 (comment) bytes.
    let eocd = -1;
    for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
      if (view.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
    }
    if (eocd < 0) this.fail('no end-of-central-directory record (truncated download?)');
    const count = view.getUint16(eocd + 10, true);
    const cdSize = view.getUint32(eocd + 12, true);
    const cdOffset = view.getUint32(eocd + 16, true);
    if (count === 0xffff || cdOffset === 0xffffffff) this.fail('ZIP64 archives are not supported');
    if (cdOffset + cdSize > eocd) this.fail('central directory lies outside the file');
    const decoder = new TextDecoder('utf-8');
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > b.length || view.getUint32(p, true) !== 0x02014b50) this.fail(`bad central directory entry ${i}`);
      const method = view.getUint16(p + 10, true);
      const crc = view.getUint32(p + 16, true);
      const compressedSize = view.getUint32(p + 20, true);
      const size = view.getUint32(p + 24, true);
      const nameLen = view.getUint16(p + 28, true);
      const extraLen = view.getUint16(p + 30, true);
      const commentLen = view.getUint16(p + 32, true);
      const localHeaderOffset = view.getUint32(p + 42, true);
      const name = decoder.decode(b.subarray(p + 46, p + 46 + nameLen)).replace(/\\/g, '/');
      p += 46 + nameLen + extraLen + commentLen;
      if (isJunkPath(name)) continue;
      if (name.endsWith('/')) {
        dirs.add(name.slice(0, -1));
        continue;
      }
      if (name.split('/').some((part) => part === '..')) this.fail(`unsafe entry name ${name}`);
      this.entries.set(name, { method, compressedSize, size, crc, localHeaderOffset });
    }
  }

  list(): string[] {
    return this.files.slice();
  }

  listDirectories(): string[] {
    return this.dirs.slice();
  }

  read(path: string): Uint8Array {
    const e = this.entries.get(path);
    if (!e) throw new Error(`${this.location}: no file ${path} in the archive`);
    const b = this.bytes;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const where = `${this.location}: ${path}`;
    const h = e.localHeaderOffset;
    if (h + 30 > b.length || view.getUint32(h, true) !== 0x04034b50) throw new Error(`${where}: corrupt zip entry (bad local header)`);
    const start = h + 30 + view.getUint16(h + 26, true) + view.getUint16(h + 28, true);
    const end = start + e.compressedSize;
    if (end > b.length) throw new Error(`${where}: corrupt zip entry (data runs past the end of the archive)`);
    const raw = b.subarray(start, end);
    let out: Uint8Array;
    if (e.method === 0) {
      out = raw.slice();
    } else if (e.method === 8) {
      try {
        out = inflateSync(raw, { out: new Uint8Array(e.size) });
      } catch (err) {
        throw new Error(`${where}: corrupt zip entry (${err instanceof Error ? err.message : String(err)})`, { cause: err });
      }
    } else {
      throw new Error(`${where}: unsupported zip compression method ${e.method}`);
    }
    if (out.length !== e.size) throw new Error(`${where}: corrupt zip entry (${out.length} bytes, expected ${e.size})`);
    if (crc32 && crc32(out) >>> 0 !== e.crc) throw new Error(`${where}: corrupt zip entry (CRC mismatch)`);
    return out;
  }
}
