/**
 * Dataset files held in memory: the FileSource interface and zip archives from bytes. No Node
 * built-ins here, so that browsers can read a zip the user dropped (the directory, file and URL
 * sources are in source.ts).
 *
 * Zips are read lazily: the central directory is parsed once (that is where the zip format lists
 * every entry with its offset), and an entry is inflated only when read() asks for it, with
 * fflate's inflateSync. fflate's own unzipSync would inflate the whole archive up front (an 80 MB
 * tracking zip for one frame), and calling it with a filter per file rescans the directory each
 * time, which is quadratic for Omniglot's 20,000 entries.
 */
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

/** True when the bytes start like a zip archive (a local file header, or the end record of an empty one). */
export function isZip(b: Uint8Array): boolean {
  // Local file header, or the end record of an empty archive.
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
}


/** CRC-32 (IEEE), table-driven: the check every zip entry carries (node:zlib's is Node-only). */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface ZipEntry {
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localHeaderOffset: number;
}

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
    if (crc32(out) !== e.crc) throw new Error(`${where}: corrupt zip entry (CRC mismatch)`);
    return out;
  }
}
