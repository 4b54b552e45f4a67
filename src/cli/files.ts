/** Reading the files a user names on the command line, with errors in words rather than errno codes. */
import { readFileSync } from 'node:fs';
import { decodeImage, type Image } from '../data/image.js';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not an image file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is not a directory',
};

/** "no such file" for ENOENT and so on; the message itself for anything else. */
export function explainFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && REASONS[code]) return REASONS[code]!;
  return err instanceof Error ? err.message : String(err);
}

/** Reads and decodes an image file (PNG, JPEG, PGM/PPM); `what` names it in errors ("query image"). */
export function readImageFile(file: string, what = 'image'): Image {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${explainFsError(err)}`, { cause: err });
  }
  return decodeImage(bytes, file);
}
