/**
 * EXIF orientation of JPEG photos: phones store the sensor's pixels as shot and record in the
 * EXIF "Orientation" tag (0x0112) how to turn them upright. A decoder that ignores it hands a
 * face detector sideways faces. Only that one tag is read, so a 60-line reader is used here
 * instead of a full EXIF library.
 */
import type { Image } from './image.js';

/** The EXIF orientation (1..8) of a JPEG, or 1 when it has none or the EXIF block is malformed. */
export function jpegOrientation(bytes: Uint8Array): number {
  let i = 2;
  while (i + 4 <= bytes.length && bytes[i] === 0xff) {
    const marker = bytes[i + 1]!;
    if (marker === 0xff) { i++; continue; }
    if (marker === 0xda || marker === 0xd9) break; // start of scan / end: no EXIF before the pixels
    const len = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (marker === 0xe1 && len >= 8 && i + 2 + len <= bytes.length) {
      const o = orientationInExif(bytes.subarray(i + 4, i + 2 + len));
      if (o !== null) return o;
    }
    i += 2 + len;
  }
  return 1;
}

function orientationInExif(app1: Uint8Array): number | null {
  // "Exif\0\0" then a TIFF header: byte order, 42, offset of IFD0.
  if (app1.length < 14 || String.fromCharCode(...app1.subarray(0, 4)) !== 'Exif' || app1[4] !== 0 || app1[5] !== 0) return null;
  const tiff = new DataView(app1.buffer, app1.byteOffset + 6, app1.length - 6);
  const order = tiff.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return null;
  const le = order === 0x4949;
  if (tiff.getUint16(2, le) !== 42) return null;
  const ifd = tiff.getUint32(4, le);
  if (ifd + 2 > tiff.byteLength) return null;
  const count = tiff.getUint16(ifd, le);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > tiff.byteLength) return null;
    if (tiff.getUint16(e, le) === 0x0112) {
      const v = tiff.getUint16(e + 8, le);
      return v >= 1 && v <= 8 ? v : null;
    }
  }
  return null;
}

/** The image turned upright according to an EXIF orientation (1 = as stored). */
export function applyOrientation(img: Image, orientation: number): Image {
  if (orientation <= 1 || orientation > 8) return img;
  const { width: w, height: h, channels: c, data } = img;
  const transposed = orientation >= 5; // 5..8 swap the axes
  const W = transposed ? h : w;
  const H = transposed ? w : h;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // Source pixel (sx, sy) of output pixel (x, y), per the EXIF definitions.
      let sx: number, sy: number;
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break;          // mirrored
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;  // rotated 180
        case 4: sx = x; sy = h - 1 - y; break;          // flipped vertically
        case 5: sx = y; sy = x; break;                  // transposed
        case 6: sx = y; sy = h - 1 - x; break;          // rotate 90 clockwise to view
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;  // transverse
        default: sx = w - 1 - y; sy = x; break;         // 8: rotate 90 counter-clockwise to view
      }
      const s = (sy * w + sx) * c;
      const d = (y * W + x) * c;
      for (let k = 0; k < c; k++) out[d + k] = data[s + k]!;
    }
  }
  return { width: W, height: H, channels: c, data: out };
}
