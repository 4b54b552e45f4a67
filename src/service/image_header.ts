/**
 * Image dimensions read from the header alone (PNG IHDR, JPEG SOF, PNM header), so that an upload
 * declaring 60000x60000 pixels is refused before a single byte is inflated or decoded.
 */

export interface ImageHeader {
  format: 'png' | 'jpeg' | 'pnm';
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Dimensions from the header; throws a message naming what is wrong. */
export function readImageHeader(b: Uint8Array): ImageHeader {
  if (b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v)) return pngHeader(b);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpegHeader(b);
  if (b.length >= 2 && b[0] === 0x50 && b[1]! >= 0x31 && b[1]! <= 0x36) return pnmHeader(b);
  throw new Error(`not a PNG, JPEG or PGM image (unrecognised magic bytes, ${b.length} bytes)`);
}

function pngHeader(b: Uint8Array): ImageHeader {
  // Signature (8), then the first chunk must be IHDR: length 13, type, width, height.
  if (b.length < 24) throw new Error('PNG truncated before the IHDR chunk');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(8) !== 13 || String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== 'IHDR') throw new Error('PNG does not start with an IHDR chunk');
  return { format: 'png', width: v.getUint32(16), height: v.getUint32(20) };
}

/** Start-of-frame markers: C0-CF except C4 (DHT), C8 (JPG extension) and CC (DAC). */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegHeader(b: Uint8Array): ImageHeader {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) throw new Error(`JPEG marker expected at byte ${i}`);
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image, or scan data before any frame header
    const length = (b[i + 2]! << 8) | b[i + 3]!;
    if (length < 2) throw new Error(`JPEG segment at byte ${i} has length ${length}`);
    if (isSof(marker)) {
      if (i + 9 > b.length) break;
      return { format: 'jpeg', height: (b[i + 5]! << 8) | b[i + 6]!, width: (b[i + 7]! << 8) | b[i + 8]! };
    }
    i += 2 + length;
  }
  throw new Error('JPEG has no frame header (SOF) before its image data');
}

function pnmHeader(b: Uint8Array): ImageHeader {
  // "P5 <ws> width <ws> height <ws> maxval": tokens may be separated by comments (# ... newline).
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 512)).toString('latin1').replace(/#[^\n]*\n?/g, ' ');
  const m = /^P[1-6]\s+(\d+)\s+(\d+)/.exec(head);
  if (!m) throw new Error('PNM header has no width and height');
  return { format: 'pnm', width: Number(m[1]), height: Number(m[2]) };
}

export interface PixelLimits {
  maxImageSide: number;
  maxImagePixels: number;
}

/** Throws unless the declared size is positive and within the limits. */
export function checkDeclaredSize(h: ImageHeader, limits: PixelLimits): void {
  if (!(h.width > 0 && h.height > 0)) throw Object.assign(new Error(`declares an invalid size ${h.width}x${h.height}`), { tooLarge: false });
  if (h.width > limits.maxImageSide || h.height > limits.maxImageSide) {
    throw Object.assign(new Error(`is ${h.width}x${h.height}; the limit is ${limits.maxImageSide} pixels per side`), { tooLarge: true });
  }
  if (h.width * h.height > limits.maxImagePixels) {
    throw Object.assign(new Error(`is ${h.width}x${h.height} = ${h.width * h.height} pixels; the limit is ${limits.maxImagePixels} pixels per image`), { tooLarge: true });
  }
}
