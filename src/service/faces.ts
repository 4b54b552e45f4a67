/**
 * Faces in uploads, for face models: the largest face of each photo by default (422 "no face
 * found" when a photo has none, before anything is enrolled), or every face with `?faces=all`.
 * Answers carry the box used, in the uploaded image's pixels.
 */
import type { FoundFace } from '../inference/embedder.js';
export { faceJson, type FaceJson } from '../inference/embedder.js';
import { HttpError } from './limits.js';
import type { EmbeddingModel } from './model.js';
import type { DecodedUpload } from './uploads.js';

type FaceModel = NonNullable<EmbeddingModel['faces']>;

const what = (u: DecodedUpload) => (u.field === 'body' ? 'the uploaded image' : `'${u.name}'`);

/** The largest face of each upload; 422 naming the first upload without one. */
export async function largestFaces(faces: FaceModel, uploads: readonly DecodedUpload[]): Promise<FoundFace[]> {
  const out: FoundFace[] = [];
  for (const u of uploads) {
    const [face] = await faces.find(u.image, u.name);
    if (!face) throw new HttpError(422, `no face found in ${what(u)}`);
    out.push(face);
  }
  return out;
}

/** Every face of one upload, largest first; 422 when there is none. */
export async function allFaces(faces: FaceModel, upload: DecodedUpload): Promise<FoundFace[]> {
  const found = await faces.find(upload.image, upload.name);
  if (found.length === 0) throw new HttpError(422, `no face found in ${what(upload)}`);
  return found;
}

/** `?faces=` of predict: 'largest' (default) or 'all'. */
export function parseFacesParam(v: string | undefined): 'largest' | 'all' {
  if (v === undefined || v === 'largest') return 'largest';
  if (v === 'all') return 'all';
  throw new HttpError(400, `faces must be 'largest' or 'all', got '${v}'`);
}
