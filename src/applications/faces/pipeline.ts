/**
 * The face pipeline: decoded image -> detect (SSD-MobileNet v1) -> 68 landmarks -> align (crop by
 * the landmarks to the descriptor's 150x150 input) -> 128-d descriptor, L2-normalised.
 *
 * Every network and geometric step is @vladmandic/face-api's own API (nets.*, landmarks.align,
 * extractFaceTensors, NetInput), run on our TF.js backend; this module only feeds it our decoded
 * images, orders the faces, and splits the work in two halves so that the rest of fewshot can use
 * it like any model: `alignFaces` (async: detection reads boxes back) returns uint8 150x150x3 crops,
 * `describe` (sync) turns crops into descriptors, the way an encoder turns preprocessed pixels into
 * embeddings.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Image, assertImage, toRgb } from '../../data/image.js';
import { validateFaceDetection, type FaceDetectionConfig, type FaceDetectorName } from '../../data/preprocess.js';
import { NoFaceFoundError } from '../../inference/embedder.js';
import { loadFaceApi, readFaceApiWeights, type FaceApi } from './face_api.js';

/** The descriptor network's input side (face-api's FaceRecognitionNet takes 150x150 RGB). */
export const ALIGNED_FACE_SIZE = 150;
export const DESCRIPTOR_DIM = 128;
/** Detector score below which a box is not a face (face-api's default is 0.5). */
export const DEFAULT_MIN_CONFIDENCE = 0.5;
/** Faces smaller than this (pixels, shorter side of the box) are ignored: too small to recognise. */
export const MIN_FACE_SIZE = 16;

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One face found in an image: where, how sure, and its aligned crop. */
export interface AlignedFace {
  box: FaceBox;
  score: number;
  /** 68 landmark points, in image pixels. */
  landmarks: { x: number; y: number }[];
  /** ALIGNED_FACE_SIZE^2 x 3 uint8 RGB, HWC: the descriptor's input. */
  pixels: Uint8Array;
}

/** The tiny face detector's default input side (face-api's own default). */
export const DEFAULT_TINY_INPUT_SIZE = 416;

export interface DetectOptions extends Partial<FaceDetectionConfig> {
  /** With the tiny detector: also try the SSD detector when it finds no face (default true; a live preview turns it off). */
  fallback?: boolean;
  /** At most this many faces, largest first (default: all). */
  maxFaces?: number;
}


export class FacePipeline {
  private constructor(private readonly api: FaceApi) {}

  private static loading: Promise<FacePipeline> | null = null;

  /** The pipeline with its three networks' weights read from node_modules (once per process). */
  static load(): Promise<FacePipeline> {
    FacePipeline.loading ??= (async () => {
      const api = await loadFaceApi();
      // face-api's .d.ts bundles its own copy of the tfjs types: tensors cross that boundary `as never`.
      // Weight tensors live for the process: created outside any tidy scope, never disposed.
      api.nets.ssdMobilenetv1.loadFromWeightMap(await readFaceApiWeights('ssd_mobilenetv1_model') as never);
      api.nets.tinyFaceDetector.loadFromWeightMap(await readFaceApiWeights('tiny_face_detector_model') as never);
      api.nets.faceLandmark68Net.loadFromWeightMap(await readFaceApiWeights('face_landmark_68_model') as never);
      api.nets.faceRecognitionNet.loadFromWeightMap(await readFaceApiWeights('face_recognition_model') as never);
      return new FacePipeline(api);
    })().catch((e) => {
      FacePipeline.loading = null;
      throw e;
    });
    return FacePipeline.loading;
  }

  /**
   * Every face in the image, largest box first, each with its aligned crop. Tight crops (a face
   * that fills the frame, like AT&T's 92x112 portraits) give the detector no context: when nothing
   * is found, the image is searched again framed in a border of its own mean colour. With the
   * tiny detector, a photo it finds no face in goes to the SSD detector (both framings) as well.
   */
  async alignFaces(img: Image, opts: DetectOptions = {}): Promise<AlignedFace[]> {
    assertImage(img);
    validateFaceDetection({ ...opts, minConfidence: opts.minConfidence ?? DEFAULT_MIN_CONFIDENCE });
    const rgb = toRgb(img);
    let framed: Image | null = null;
    let faces: AlignedFace[] = [];
    // The tiny detector misses what the SSD finds on ~1 in 10 tight crops: it goes first (5x cheaper), the SSD second.
    const detectors: FaceDetectorName[] = opts.detector !== 'tiny-face-detector' ? ['ssd-mobilenet-v1']
      : opts.fallback === false ? ['tiny-face-detector'] : ['tiny-face-detector', 'ssd-mobilenet-v1'];
    for (const detector of detectors) {
      const o = { ...opts, detector };
      faces = await this.alignIn(rgb, 0, o);
      if (faces.length === 0) {
        const border = Math.round(Math.max(rgb.width, rgb.height) / 2);
        framed ??= frame(rgb, border);
        faces = await this.alignIn(framed, border, o);
      }
      if (faces.length > 0) break;
    }
    faces.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    return faces;
  }

  /** The largest face's crop; throws NoFaceFoundError ("<name>: no face found") when there is none. */
  async alignLargest(img: Image, name: string, opts: Omit<DetectOptions, 'maxFaces'> = {}): Promise<AlignedFace> {
    const [face] = await this.alignFaces(img, { ...opts, maxFaces: 1 });
    if (!face) throw new NoFaceFoundError(name);
    return face;
  }

  /** Descriptors of aligned crops (as alignFaces returns them, values 0..255), L2-normalised. */
  describeTensor(crops: tf.Tensor4D): tf.Tensor2D {
    const { api } = this;
    return tf.tidy(() => {
      const list = tf.unstack(crops) as tf.Tensor3D[];
      const raw = api.nets.faceRecognitionNet.forwardInput(new api.NetInput(list as never, true)) as unknown as tf.Tensor2D;
      // face-api's descriptors are compared by plain euclidean distance; unit length makes the
      // euclidean and cosine distances monotone in each other and keeps a trained adapter's input scale fixed.
      return tf.div(raw, tf.maximum(tf.norm(raw, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D;
    });
  }

  private async alignIn(rgb: Image, border: number, opts: DetectOptions): Promise<AlignedFace[]> {
    const { api } = this;
    const input = tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3], 'int32');
    try {
      const minConfidence = opts.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
      const options = opts.detector === 'tiny-face-detector'
        ? new api.TinyFaceDetectorOptions({ inputSize: opts.inputSize ?? DEFAULT_TINY_INPUT_SIZE, scoreThreshold: minConfidence })
        : new api.SsdMobilenetv1Options({ minConfidence });
      // Detection first; landmarks only for the faces wanted (largest first): a caller that needs
      // the largest face does not pay the landmark network for every face in a group photo.
      const detections = (await api.detectAllFaces(input as never, options))
        .filter((d) => Math.min(d.box.width, d.box.height) >= MIN_FACE_SIZE)
        .sort((a, b) => b.box.area - a.box.area)
        .slice(0, opts.maxFaces ?? Infinity);
      const kept = await new api.DetectAllFaceLandmarksTask(Promise.resolve(detections.map((d) => api.extendWithFaceDetection({}, d))), input as never, false);
      // The descriptor's crop: face-api's own choice for withFaceDescriptors (dlib-style box from eyes and mouth).
      const boxes = kept.map((f) => f.landmarks.align(null, { useDlibAlignment: true }));
      const crops = (await api.extractFaceTensors(input as never, boxes)) as unknown as tf.Tensor3D[];
      try {
        return kept.map((f, i) => {
          const crop = crops[i]!;
          const pixels = tf.tidy(() => {
            const square = new api.NetInput([crop as never]).toBatchTensor(ALIGNED_FACE_SIZE, true) as unknown as tf.Tensor4D;
            return tf.cast(tf.clipByValue(tf.round(square), 0, 255), 'int32');
          });
          const data = Uint8Array.from(pixels.dataSync());
          pixels.dispose();
          const b = f.detection.box;
          return {
            box: clipBox({ x: b.x - border, y: b.y - border, width: b.width, height: b.height }, rgb.width - 2 * border, rgb.height - 2 * border),
            score: f.detection.score,
            landmarks: f.landmarks.positions.map((p) => ({ x: p.x - border, y: p.y - border })),
            pixels: data,
          };
        });
      } finally {
        crops.forEach((c) => c.dispose());
      }
    } finally {
      input.dispose();
    }
  }
}

/** The image centred in a border of its mean colour. */
function frame(img: Image, border: number): Image {
  const width = img.width + 2 * border;
  const height = img.height + 2 * border;
  const mean = [0, 0, 0];
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) mean[c]! += img.data[i * 3 + c]!;
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(mean[c]! / n);
  for (let y = 0; y < img.height; y++) {
    out.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + border) * width + border) * 3);
  }
  return { width, height, channels: 3, data: out };
}

function clipBox(b: FaceBox, width: number, height: number): FaceBox {
  const x0 = Math.max(0, Math.min(width, b.x));
  const y0 = Math.max(0, Math.min(height, b.y));
  const x1 = Math.max(0, Math.min(width, b.x + b.width));
  const y1 = Math.max(0, Math.min(height, b.y + b.height));
  const r = (v: number) => Math.round(v * 10) / 10;
  return { x: r(x0), y: r(y0), width: r(x1 - x0), height: r(y1 - y0) };
}
