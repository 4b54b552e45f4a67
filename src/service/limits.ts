/**
 * Input limits of the HTTP service and the errors it answers with. Every limit has a default that
 * suits drawings and photos; each can be lowered (or raised) per server.
 */

export interface ServiceLimits {
  /** Largest request body / uploaded file, bytes (default 5 MiB). */
  maxUploadBytes: number;
  /** Largest image width or height, pixels (default 4096), checked from the header before decoding. */
  maxImageSide: number;
  /** Most pixels in one image (default 16,777,216 = 4096x4096), checked from the header. */
  maxImagePixels: number;
  /** Most pixels in all images of one request together (default 67,108,864). */
  maxRequestPixels: number;
  /** Image requests (enrol, predict, verify, embed) admitted at once; more answer 503 (default 16). */
  maxQueue: number;
  /** Most images in one request (default 16). */
  maxBatch: number;
  /** Largest gallery import body, bytes (default 256 MiB). */
  maxImportBytes: number;
  /** Most examples the browser app may download for in-page search (default 5000). */
  maxSnapshot: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  maxUploadBytes: 5 * 1024 * 1024,
  maxImageSide: 4096,
  maxImagePixels: 4096 * 4096,
  maxRequestPixels: 4 * 4096 * 4096,
  maxQueue: 16,
  maxBatch: 16,
  maxImportBytes: 256 * 1024 * 1024,
  maxSnapshot: 5000,
};

/** An error with the HTTP status it should be answered with. */
export class HttpError extends Error {
  constructor(readonly statusCode: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
  }
}

const CLASS_NAME = /^[\p{L}\p{N}][\p{L}\p{N}\p{M} _.'()-]{0,63}$/u;

/** Class names are shown in the app and used in URLs: letters, digits and a little punctuation. */
export function validateClassName(name: string): void {
  if (typeof name !== 'string' || !CLASS_NAME.test(name) || name !== name.trim()) {
    throw new HttpError(
      400,
      `invalid class name '${String(name).slice(0, 80)}': use 1-64 letters, digits, spaces or _ . ' ( ) -, starting with a letter or digit`,
    );
  }
}

/** Parses a positive integer path/query parameter, or answers 400 naming it. */
export function positiveInt(value: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new HttpError(400, `${what} must be an integer in 1..${max}, got '${String(value)}'`);
  return n;
}
