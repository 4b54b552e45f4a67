/**
 * Images out of a request: either the raw body (Content-Type image/png or image/jpeg) or the
 * files of a multipart form. Everything is read and decoded before anything is written, so a bad
 * file in a batch rejects the whole request and changes nothing.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { decodeImage, type Image } from '../data/image.js';
import { checkDeclaredSize, readImageHeader } from './image_header.js';
import { HttpError, type ServiceLimits } from './limits.js';

export const IMAGE_TYPES = ['image/png', 'image/jpeg'];

export interface Upload {
  /** Multipart field name, or 'body' for a raw upload. */
  field: string;
  /** File name for messages (multipart filename, else the field). */
  name: string;
  bytes: Buffer;
}

export interface DecodedUpload extends Upload {
  image: Image;
  sha256: string;
}

/** Files of the request; `fields` restricts (and orders) the multipart fields accepted. */
export async function readUploads(req: FastifyRequest, limits: ServiceLimits): Promise<Upload[]> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (IMAGE_TYPES.includes(type)) {
    const body = req.body as Buffer | undefined;
    if (!body || body.length === 0) throw new HttpError(400, `empty ${type} body: send the image bytes`);
    return [{ field: 'body', name: 'body', bytes: body }];
  }
  if (type === 'multipart/form-data') {
    const out: Upload[] = [];
    try {
      for await (const part of req.parts()) {
        if (part.type !== 'file') continue;
        if (out.length >= limits.maxBatch) throw new HttpError(413, `too many images: at most ${limits.maxBatch} per request`);
        const bytes = await part.toBuffer();
        const name = part.filename || part.fieldname;
        if (bytes.length === 0) throw new HttpError(400, `file '${name}' (field '${part.fieldname}') is empty`);
        out.push({ field: part.fieldname, name, bytes });
      }
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (e instanceof HttpError || (status !== undefined && status < 500)) throw e;
      // busboy's parse errors (no boundary, truncated parts) carry no status: the client's fault.
      throw new HttpError(400, `malformed multipart/form-data body: ${(e as Error).message}`);
    }
    if (out.length === 0) throw new HttpError(400, 'the multipart form holds no image file');
    return out;
  }
  throw new HttpError(415, `unsupported Content-Type '${type || '(none)'}': send image/png, image/jpeg or multipart/form-data`);
}

/**
 * Checks every upload's declared size from its header (400 for unreadable headers, 413 over the
 * per-image or per-request pixel limit) before decoding any of them, then decodes them.
 */
export function decodeUploads(uploads: Upload[], limits: ServiceLimits): DecodedUpload[] {
  let pixels = 0;
  for (const u of uploads) {
    let header;
    try {
      header = readImageHeader(u.bytes);
      checkDeclaredSize(header, limits);
    } catch (e) {
      throw new HttpError((e as { tooLarge?: boolean }).tooLarge ? 413 : 400, `cannot use image '${u.name}': ${(e as Error).message}`);
    }
    pixels += header.width * header.height;
    if (pixels > limits.maxRequestPixels) {
      throw new HttpError(413, `the images of this request hold more than ${limits.maxRequestPixels} pixels together; send fewer or smaller ones`);
    }
  }
  return uploads.map((u) => {
    let image: Image;
    try {
      image = decodeImage(u.bytes, u.name, { maxPixels: limits.maxImagePixels, maxJpegMemoryMB: 512 });
    } catch (e) {
      const message = (e as Error).message;
      throw new HttpError(/megapixel|pixels|too large|exceeds|limit/i.test(message) ? 413 : 400, `cannot use image '${u.name}': ${message}`);
    }
    // The decoder's own size is authoritative (a header could lie about a later frame).
    if (image.width > limits.maxImageSide || image.height > limits.maxImageSide) {
      throw new HttpError(413, `image '${u.name}' is ${image.width}x${image.height}; the limit is ${limits.maxImageSide} pixels per side`);
    }
    return { ...u, image, sha256: createHash('sha256').update(u.bytes).digest('hex') };
  });
}
