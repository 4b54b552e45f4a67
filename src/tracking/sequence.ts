/**
 * A tracking sequence in the OTB layout: `<seq>/img/0001.jpg, 0002.jpg, ...` and
 * `<seq>/groundtruth_rect.txt`. Frames are decoded lazily (a 1280x720 sequence of 300 frames
 * would not fit in memory decoded). `findSequences` lists every such folder inside a source
 * (a directory or a zip), so a whole benchmark can be evaluated in one call.
 */
import { decodeImage, openSource, type FileSource, type Image } from './data_access.js';
import { parseGroundTruth } from './ground_truth.js';
import { toOtb, type Box } from './boxes.js';

export const GROUND_TRUTH_FILE = 'groundtruth_rect.txt';
const FRAME_PATTERN = /^(\d+)\.(jpe?g|png)$/i;

export interface TrackingSequence {
  name: string;
  /** Where it came from, for messages. */
  location: string;
  /** Ground truth per frame (null: target absent); the tracker only ever sees `groundTruth[0]`. */
  groundTruth: (Box | null)[];
  framePaths: string[];
  length: number;
  readFrame(index: number): Image;
}

/** Folders (relative, '' for the root itself) holding a ground-truth file and an img/ folder. */
export function findSequenceFolders(source: FileSource): string[] {
  const files = source.list();
  const withImages = new Set<string>();
  for (const f of files) {
    const m = /^(.*?)(?:^|\/)img\/[^/]+$/.exec(f);
    if (m) withImages.add(m[1]!);
  }
  const folders: string[] = [];
  for (const f of files) {
    if (!f.endsWith(GROUND_TRUTH_FILE)) continue;
    const dir = f === GROUND_TRUTH_FILE ? '' : f.slice(0, -GROUND_TRUTH_FILE.length - 1);
    if (f !== GROUND_TRUTH_FILE && !f.endsWith('/' + GROUND_TRUTH_FILE)) continue;
    if (withImages.has(dir)) folders.push(dir);
  }
  return folders.sort();
}

/** Loads the sequence in folder `dir` ('' = the source root) of `source`. */
export function sequenceFromSource(source: FileSource, dir: string): TrackingSequence {
  const prefix = dir === '' ? '' : dir + '/';
  const name = dir === '' ? source.location.replace(/\/+$/, '').split('/').pop()! : dir.split('/').pop()!;
  const where = (p: string) => `${source.location.replace(/\/+$/, '')}/${p}`;
  const files = source.list();
  const gtPath = prefix + GROUND_TRUTH_FILE;
  if (!files.includes(gtPath)) throw new Error(`${where(gtPath)}: missing ground-truth file`);
  const groundTruth = parseGroundTruth(new TextDecoder().decode(source.read(gtPath)), where(gtPath));
  if (!groundTruth[0]) {
    throw new Error(`${where(gtPath)}:1: the first box must be present and have a positive size (it initialises the tracker); NaN or a zero width/height is only allowed on later lines`);
  }

  const frames = files
    .filter((f) => f.startsWith(prefix + 'img/') && !f.slice(prefix.length + 4).includes('/'))
    .map((f) => ({ path: f, m: FRAME_PATTERN.exec(f.slice(prefix.length + 4)) }))
    .filter((f) => f.m !== null)
    .map((f) => ({ path: f.path, index: Number(f.m![1]) }))
    .sort((a, b) => a.index - b.index);
  if (frames.length === 0) throw new Error(`${where(prefix + 'img/')}: no frames (expected 0001.jpg, 0002.jpg, ...)`);
  // Frames must be consecutive: a gap would pair every later box with the wrong image.
  const ext = frames[0]!.path.split('.').pop()!;
  const digits = frames[0]!.path.split('/').pop()!.split('.')[0]!.length;
  const frameName = (index: number) => `${String(index).padStart(digits, '0')}.${ext}`;
  for (let i = 1; i < frames.length; i++) {
    if (frames[i]!.index !== frames[i - 1]!.index + 1) {
      throw new Error(
        `${where(prefix + 'img/' + frameName(frames[i - 1]!.index + 1))}: frame is missing ` +
          `(img/ jumps from ${frames[i - 1]!.path.split('/').pop()} to ${frames[i]!.path.split('/').pop()})`,
      );
    }
  }
  if (frames.length < groundTruth.length) {
    throw new Error(
      `${where(prefix + 'img/' + frameName(frames[0]!.index + frames.length))}: frame is missing: ` +
        `${GROUND_TRUTH_FILE} has ${groundTruth.length} boxes but img/ holds ${frames.length} frames`,
    );
  }
  // More frames than boxes (a truncated annotation): track the annotated part only.
  const framePaths = frames.slice(0, groundTruth.length).map((f) => f.path);
  let frameSize: { width: number; height: number; path: string } | null = null;
  return {
    name,
    location: where(dir),
    groundTruth,
    framePaths,
    length: framePaths.length,
    readFrame(index: number): Image {
      const p = framePaths[index];
      if (p === undefined) throw new Error(`${name}: frame index ${index} out of range 0..${framePaths.length - 1}`);
      const image = decodeImage(source.read(p), where(p));
      // A frame of another size, or a box that misses the frame entirely, means the annotation
      // and the images do not belong together: scoring them would give a silently wrong number.
      frameSize ??= { width: image.width, height: image.height, path: p };
      if (image.width !== frameSize.width || image.height !== frameSize.height) {
        throw new Error(`${where(p)}: frame is ${image.width}x${image.height} but ${frameSize.path.split('/').pop()} is ${frameSize.width}x${frameSize.height}`);
      }
      const box = groundTruth[index];
      if (box && (box.x >= image.width || box.y >= image.height || box.x + box.w <= 0 || box.y + box.h <= 0)) {
        throw new Error(
          `${where(gtPath)}:${index + 1}: box ${toOtb(box)} lies entirely outside the ${image.width}x${image.height} frame ${p.split('/').pop()} ` +
            '(a target out of view is written NaN,NaN,NaN,NaN)',
        );
      }
      return image;
    },
  };
}

/** One sequence folder (or a zip holding exactly one). */
export async function loadSequence(path: string): Promise<TrackingSequence> {
  const source = await openSource(path);
  const folders = findSequenceFolders(source);
  if (folders.length === 0) {
    throw new Error(`${path}: not a tracking sequence (expected img/0001.jpg ... and ${GROUND_TRUTH_FILE})`);
  }
  if (folders.length > 1) throw new Error(`${path}: holds ${folders.length} sequences (${folders.join(', ')}); give one`);
  return sequenceFromSource(source, folders[0]!);
}

/** Every sequence under a directory or zip. */
export async function loadSequences(path: string): Promise<TrackingSequence[]> {
  const source = await openSource(path);
  const folders = findSequenceFolders(source);
  if (folders.length === 0) throw new Error(`${path}: no tracking sequences found (folders with img/ and ${GROUND_TRUTH_FILE})`);
  return folders.map((d) => sequenceFromSource(source, d));
}
