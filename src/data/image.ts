/**
 * Decoded images and the decoders behind them.
 *
 * PNG goes through fast-png and JPEG through jpeg-js (both well kept). fast-png rather than pngjs
 * because it is ~3x faster on Omniglot's 1-bit PNGs (pngjs unpacks sub-byte pixels one closure call
 * at a time: 1 ms vs 0.3 ms per image, i.e. 19 s vs 6 s for the background set). Binary and ASCII PGM (P5/P2,
 * plus colour PPM P6) use the small strict parser below: npm has no maintained PGM decoder, and
 * the format is a text header followed by raw samples, so a parser that checks every field is
 * shorter and safer than a dependency. The format is chosen by magic bytes, never by extension.
 */
import { decode as decodePngRaw, encode as encodePngRaw, convertIndexedToRgb } from 'fast-png';
import jpeg from 'jpeg-js';
import { applyOrientation, jpegOrientation } from './exif.js';

/** An 8-bit image in HWC order (row-major, channels interleaved), values 0..255. */
export interface Image {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** Limits that protect against decompression bombs (a tiny file that claims a huge image). */
export interface DecodeLimits {
  /** Largest width * height accepted (default 50 megapixels). */
  maxPixels?: number;
  /** Memory cap handed to jpeg-js, in MB (default 1024). */
  maxJpegMemoryMB?: number;
}

export const DEFAULT_MAX_PIXELS = 50_000_000;

export type ImageFormat = 'png' | 'jpeg' | 'pnm';

/** Which decoder understands these bytes, from their magic numbers; null when none does. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47 &&
      bytes[4] === 0x0d && bytes[5] === 0x0a && bytes[6] === 0x1a && bytes[7] === 0x0a) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 2 && bytes[0] === 0x50 /* P */ && (bytes[1] === 0x32 || bytes[1] === 0x35 || bytes[1] === 0x36)) return 'pnm';
  return null;
}

/**
 * Decodes a PNG, JPEG or PGM/PPM file. Grayscale sources give channels = 1, colour ones 3;
 * transparency is composited onto white (paper), 16-bit samples are scaled to 8 bits.
 * Throws an Error whose message starts with `name` when the bytes are corrupt, truncated,
 * of an unknown format, or larger than the limits.
 */
export function decodeImage(bytes: Uint8Array, name: string, limits: DecodeLimits = {}): Image {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  const format = detectImageFormat(bytes);
  if (format === null) {
    throw new Error(`${name}: not a PNG, JPEG or PGM image (unrecognised magic bytes, ${bytes.length} bytes)`);
  }
  try {
    switch (format) {
      case 'png':
        return decodePng(bytes, maxPixels);
      case 'jpeg':
        return decodeJpeg(bytes, maxPixels, limits.maxJpegMemoryMB ?? 1024);
      case 'pnm':
        return decodePnm(bytes, maxPixels);
    }
  } catch (err) {
    let msg = err instanceof Error ? err.message : String(err);
    // Decoders reading past the end of the bytes report it as a bounds error: say what it means.
    if (err instanceof RangeError || /out of bounds|outside the bounds|end of (data|buffer)/i.test(msg)) msg = `file is truncated or corrupt (${msg})`;
    throw new Error(`${name}: cannot decode ${format.toUpperCase()} image: ${msg}`, { cause: err });
  }
}

function checkSize(width: number, height: number, maxPixels: number): void {
  if (!(width > 0 && height > 0)) throw new Error(`invalid size ${width}x${height}`);
  if (width * height > maxPixels) {
    throw new Error(`${width}x${height} exceeds the limit of ${maxPixels} pixels`);
  }
}

function decodePng(bytes: Uint8Array, maxPixels: number): Image {
  // IHDR is always the first chunk: check the claimed size before inflating anything.
  if (bytes.length < 33) throw new Error('truncated before the IHDR chunk');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkSize(view.getUint32(16), view.getUint32(20), maxPixels);
  // CRCs catch corruption that would otherwise inflate to plausible-looking garbage.
  const png = decodePngRaw(bytes, { checkCrc: true });
  const { width, height, depth } = png;
  const n = width * height;
  if (png.palette) {
    const paletteChannels = png.palette[0]?.length ?? 3;
    const rgbx = convertIndexedToRgb(png);
    return paletteChannels === 4 ? fromInterleaved(rgbx, width, height, 3, true) : fromInterleaved(rgbx, width, height, 3, false);
  }
  // Samples to 8 bits: fast-png keeps sub-byte depths packed and 16-bit as Uint16Array.
  const samples = to8Bit(png.data, n * png.channels, width * png.channels, height, depth);
  if (png.transparency && (png.channels === 1 || png.channels === 3)) {
    applyColorKey(samples, png.data, png.transparency, n, png.channels, depth);
  }
  switch (png.channels) {
    case 1: return { width, height, channels: 1, data: samples };
    case 2: return fromInterleaved(samples, width, height, 1, true);
    case 3: return { width, height, channels: 3, data: samples };
    case 4: return fromInterleaved(samples, width, height, 3, true);
    default: throw new Error(`unsupported channel count ${png.channels}`);
  }
}

/** Unpacks 1/2/4-bit rows, scales 16-bit, and copies 8-bit samples into a fresh Uint8Array. */
function to8Bit(data: ArrayLike<number>, count: number, samplesPerRow: number, rows: number, depth: number): Uint8Array {
  const out = new Uint8Array(count);
  if (depth === 8) {
    if (data.length < count) throw new Error('truncated pixel data');
    for (let i = 0; i < count; i++) out[i] = data[i]!;
  } else if (depth === 16) {
    for (let i = 0; i < count; i++) out[i] = (data[i]! + 128) / 257; // 65535 -> 255, rounded
  } else {
    const rowBytes = Math.ceil((samplesPerRow * depth) / 8);
    const maxValue = (1 << depth) - 1;
    const scale = 255 / maxValue;
    if (data.length < rowBytes * rows) throw new Error('truncated pixel data');
    for (let y = 0, o = 0; y < rows; y++) {
      const rowStart = y * rowBytes;
      for (let x = 0; x < samplesPerRow; x++) {
        const bit = x * depth;
        const byte = data[rowStart + (bit >> 3)]!;
        out[o++] = ((byte >> (8 - depth - (bit & 7))) & maxValue) * scale;
      }
    }
  }
  return out;
}

/** tRNS for gray/RGB PNGs names one colour that is fully transparent: paint it white (paper). */
function applyColorKey(samples: Uint8Array, raw: ArrayLike<number>, key: Uint16Array, n: number, channels: number, depth: number): void {
  if (depth < 8) {
    // Compare at the 8-bit scale: sub-byte gray keys map exactly.
    const k = Math.round((key[0]! * 255) / ((1 << depth) - 1));
    for (let i = 0; i < n; i++) if (samples[i] === k) samples[i] = 255;
    return;
  }
  for (let i = 0; i < n; i++) {
    let match = true;
    for (let c = 0; c < channels; c++) if (raw[i * channels + c] !== key[c]) { match = false; break; }
    if (match) for (let c = 0; c < channels; c++) samples[i * channels + c] = 255;
  }
}

/** Drops an alpha channel (compositing onto white) or just repacks interleaved samples. */
function fromInterleaved(src: Uint8Array, width: number, height: number, colour: 1 | 3, hasAlpha: boolean): Image {
  const n = width * height;
  if (!hasAlpha) return { width, height, channels: colour, data: src.length === n * colour ? src : src.slice(0, n * colour) };
  const out = new Uint8Array(n * colour);
  const stride = colour + 1;
  for (let i = 0; i < n; i++) {
    const a = src[i * stride + colour]!;
    for (let c = 0; c < colour; c++) out[i * colour + c] = composite(src[i * stride + c]!, a);
  }
  return { width, height, channels: colour, data: out };
}

/** Value over a white background with alpha a (0..255). */
function composite(v: number, a: number): number {
  return a === 255 ? v : Math.round((v * a + 255 * (255 - a)) / 255);
}

/**
 * A faster JPEG decoder for 1- and 3-component JPEGs (Node registers libjpeg-turbo: src/data/jpeg_turbo.ts):
 * pixels of the header's size, or null to leave the file to jpeg-js.
 */
export type JpegDecoder = (bytes: Uint8Array, width: number, height: number, channels: 1 | 3) => Uint8Array | null;
let fastJpeg: JpegDecoder | null = null;
export function registerJpegDecoder(decoder: JpegDecoder | null): void {
  fastJpeg = decoder;
}

function decodeJpeg(bytes: Uint8Array, maxPixels: number, maxMemoryMB: number): Image {
  const frame = jpegFrame(bytes);
  // The frame header's claimed size is checked before anything is allocated.
  if (frame.width > 0 && frame.height > 0) checkSize(frame.width, frame.height, maxPixels);
  const components = frame.components;
  if (fastJpeg && frame.width > 0 && frame.height > 0 && (components === 1 || components === 3) && !isTruncatedJpeg(bytes)) {
    const data = fastJpeg(bytes, frame.width, frame.height, components);
    if (data) return applyOrientation({ width: frame.width, height: frame.height, channels: components, data }, jpegOrientation(bytes));
  }
  const decoded = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    // Tolerant decoding silently returns half-gray images for truncated files; we want an error.
    tolerantDecoding: false,
    maxResolutionInMP: maxPixels / 1e6,
    maxMemoryUsageInMB: maxMemoryMB,
  });
  checkSize(decoded.width, decoded.height, maxPixels);
  const rgb = decoded.data as Uint8Array;
  // CMYK / YCCK (Adobe) JPEGs come back from jpeg-js already converted to RGB.
  let img: Image;
  if (components === 1) {
    const n = decoded.width * decoded.height;
    const out = new Uint8Array(n);
    for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = rgb[j]!;
    img = { width: decoded.width, height: decoded.height, channels: 1, data: out };
  } else {
    img = { width: decoded.width, height: decoded.height, channels: 3, data: rgb };
  }
  // Phone photos: turned upright as their EXIF orientation says.
  return applyOrientation(img, jpegOrientation(bytes));
}

/**
 * A JPEG that does not end with its EOI marker (FFD9, possibly followed by padding) was cut off:
 * libjpeg would fill the missing rows with grey and only warn, so it goes to jpeg-js, which refuses it.
 */
function isTruncatedJpeg(bytes: Uint8Array): boolean {
  let end = bytes.length;
  while (end > 2 && bytes[end - 1] === 0x00) end--; // zero padding some writers append
  return !(bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9);
}

/** Colour components and size from the JPEG frame header (SOFn); 3 components and 0x0 when not found. */
function jpegFrame(bytes: Uint8Array): { components: number; width: number; height: number } {
  const none = { components: 3, width: 0, height: 0 };
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return none;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) { i++; continue; } // fill byte
    const len = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { components: bytes[i + 9]!, height: (bytes[i + 5]! << 8) | bytes[i + 6]!, width: (bytes[i + 7]! << 8) | bytes[i + 8]! };
    if (marker === 0xda) return none; // start of scan without a frame header: let jpeg-js complain
    i += 2 + len;
  }
  return none;
}

/** Strict Netpbm parser: P2 (ASCII gray), P5 (binary gray), P6 (binary RGB); maxval up to 65535. */
function decodePnm(bytes: Uint8Array, maxPixels: number): Image {
  const kind = String.fromCharCode(bytes[1]!);
  let pos = 2;
  const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
  const readHeaderInt = (what: string): number => {
    // Skip whitespace and '#' comments (which run to the end of the line).
    for (;;) {
      if (pos >= bytes.length) throw new Error(`truncated header (missing ${what})`);
      const c = bytes[pos]!;
      if (isSpace(c)) pos++;
      else if (c === 0x23) { while (pos < bytes.length && bytes[pos] !== 0x0a && bytes[pos] !== 0x0d) pos++; }
      else break;
    }
    let v = 0;
    let digits = 0;
    while (pos < bytes.length && bytes[pos]! >= 0x30 && bytes[pos]! <= 0x39) {
      v = v * 10 + (bytes[pos]! - 0x30);
      pos++;
      digits++;
      if (digits > 9) throw new Error(`${what} is too large`);
    }
    if (digits === 0) throw new Error(`expected a number for ${what}`);
    return v;
  };
  if (pos < bytes.length && !isSpace(bytes[pos]!)) throw new Error('bad magic number');
  const width = readHeaderInt('width');
  const height = readHeaderInt('height');
  const maxval = readHeaderInt('maxval');
  if (maxval < 1 || maxval > 65535) throw new Error(`maxval ${maxval} is outside 1..65535`);
  checkSize(width, height, maxPixels);
  const channels: 1 | 3 = kind === '6' ? 3 : 1;
  const count = width * height * channels;
  const out = new Uint8Array(count);
  const scale = (v: number) => (maxval === 255 ? v : Math.round((Math.min(v, maxval) * 255) / maxval));

  if (kind === '2') {
    for (let i = 0; i < count; i++) {
      const v = readHeaderInt(`sample ${i} of ${count}`);
      if (v > maxval) throw new Error(`sample ${i} = ${v} exceeds maxval ${maxval}`);
      out[i] = scale(v);
    }
    return { width, height, channels, data: out };
  }

  // Exactly one whitespace byte separates the header from binary samples.
  if (pos >= bytes.length || !isSpace(bytes[pos]!)) throw new Error('missing whitespace after maxval');
  pos++;
  const bytesPerSample = maxval < 256 ? 1 : 2;
  const needed = count * bytesPerSample;
  if (bytes.length - pos < needed) {
    throw new Error(`truncated: ${bytes.length - pos} bytes of pixel data, expected ${needed}`);
  }
  if (bytesPerSample === 1) {
    if (maxval === 255) out.set(bytes.subarray(pos, pos + count));
    else for (let i = 0; i < count; i++) out[i] = scale(bytes[pos + i]!);
  } else {
    for (let i = 0; i < count; i++) out[i] = scale((bytes[pos + 2 * i]! << 8) | bytes[pos + 2 * i + 1]!);
  }
  return { width, height, channels, data: out };
}

/** Luma (ITU-R BT.601 weights), the usual definition of "grayscale" for photographs. */
export function toGrayscale(img: Image): Image {
  if (img.channels === 1) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    // Integer weights summing to 1024 keep this exact and fast.
    out[i] = (306 * d[j]! + 601 * d[j + 1]! + 117 * d[j + 2]! + 512) >> 10;
  }
  return { width: img.width, height: img.height, channels: 1, data: out };
}

/** Gray -> RGB by replicating the channel. */
export function toRgb(img: Image): Image {
  if (img.channels === 3) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) out[j] = out[j + 1] = out[j + 2] = d[i]!;
  return { width: img.width, height: img.height, channels: 3, data: out };
}

/** Checks that data has width * height * channels bytes; throws naming `what` otherwise. */
export function assertImage(img: Image, what = 'image'): void {
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width <= 0 || img.height <= 0) {
    throw new Error(`${what}: invalid size ${img.width}x${img.height}`);
  }
  if (img.channels !== 1 && img.channels !== 3) throw new Error(`${what}: channels must be 1 or 3, got ${img.channels}`);
  const expected = img.width * img.height * img.channels;
  if (img.data.length !== expected) {
    throw new Error(`${what}: ${img.data.length} bytes of data, expected ${expected} for ${img.width}x${img.height}x${img.channels}`);
  }
}

/** Lossless PNG (8-bit gray or RGB), e.g. for saving preprocessed or augmented samples. */
export function encodePng(img: Image): Uint8Array {
  assertImage(img, 'encodePng');
  return encodePngRaw({ width: img.width, height: img.height, channels: img.channels, depth: 8, data: img.data });
}
