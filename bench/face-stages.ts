/**
 * `npx tsx bench/face-stages.ts [--backend native] [--photo 2] [--rounds 4]`: where a face photo's
 * time goes. Each stage of the face pipeline (decode, each detector, landmarks, crop + resize, the
 * descriptor for 1 and 4 faces) run on its own with face-api's networks, as CPU ms per call (user
 * + system, all threads: steady on a loaded machine) and the op kernels that dominate it
 * (tf.profile; those are wall ms, so they move with the load). The photo is one of face-api's demo
 * pictures cropped to 4:3 at 640x480 and JPEG-encoded, as in bench/faces.ts.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendName } from '../src/backend/select.js';
import { decodeImage } from '../src/data/image.js';
import '../src/data/jpeg_turbo.js';
import { loadFaceApi, readFaceApiWeights } from '../src/applications/faces/face_api.js';
import { benchPhoto } from './face_photos.js';

const { values: args } = parseArgs({ options: { backend: { type: 'string', default: 'native' }, photo: { type: 'string', default: '2' }, rounds: { type: 'string', default: '4' } } });
const rounds = Number(args.rounds);
await selectBackend(args.backend as BackendName, { quiet: true });
const api = await loadFaceApi();
const nets = { ssd_mobilenetv1_model: api.nets.ssdMobilenetv1, tiny_face_detector_model: api.nets.tinyFaceDetector, face_landmark_68_model: api.nets.faceLandmark68Net, face_recognition_model: api.nets.faceRecognitionNet };
for (const [name, net] of Object.entries(nets)) net.loadFromWeightMap((await readFaceApiWeights(name)) as never);

async function stage(name: string, f: () => Promise<unknown>): Promise<void> {
  await f(); // warm-up: oneDNN primitives, wasm compile
  const prof = await tf.profile(f as () => Promise<tf.TensorContainer>);
  const byOp = new Map<string, number>();
  for (const k of prof.kernels) byOp.set(k.name, (byOp.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  const c0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) await f();
  const c = process.cpuUsage(c0);
  const top = [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
  console.log(`${name.padEnd(24)} ${((c.user + c.system) / 1000 / rounds).toFixed(1).padStart(7)} CPU ms | ${top}`);
}

const bytes = benchPhoto(Number(args.photo));
console.log(`backend ${tf.getBackend()}, demo photo ${args.photo} at 640x480; CPU ms per call (mean of ${rounds}) | top kernels, wall ms`);
await stage('decode JPEG', async () => decodeImage(bytes, 'photo'));
const img = decodeImage(bytes, 'photo');
const input = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
const ssd = new api.SsdMobilenetv1Options({ minConfidence: 0.5 });
await stage('detect: SSD (512)', async () => api.detectAllFaces(input as never, ssd));
for (const inputSize of [416, 320]) {
  const tiny = new api.TinyFaceDetectorOptions({ inputSize, scoreThreshold: 0.5 });
  await stage(`detect: tiny (${inputSize})`, async () => api.detectAllFaces(input as never, tiny));
}
const [largest] = (await api.detectAllFaces(input as never, ssd)).sort((a, b) => b.box.area - a.box.area);
if (!largest) throw new Error('no face in the bench photo');
const withLandmarks = () => new api.DetectAllFaceLandmarksTask(Promise.resolve([api.extendWithFaceDetection({}, largest)]), input as never, false);
await stage('68 landmarks (1 face)', async () => withLandmarks());
const [face] = await withLandmarks();
const box = face!.landmarks.align(null, { useDlibAlignment: true });
await stage('crop + resize to 150', async () => {
  const [crop] = (await api.extractFaceTensors(input as never, [box])) as unknown as tf.Tensor3D[];
  tf.tidy(() => (new api.NetInput([crop as never]).toBatchTensor(150, true) as unknown as tf.Tensor).dataSync());
  crop!.dispose();
});
for (const n of [1, 4]) {
  const x = tf.zeros([n, 150, 150, 3]) as tf.Tensor4D;
  await stage(`descriptor (${n} face${n > 1 ? 's' : ''})`, async () => tf.tidy(() => (api.nets.faceRecognitionNet.forwardInput(new api.NetInput(tf.unstack(x) as never, true)) as unknown as tf.Tensor).dataSync()));
  x.dispose();
}
input.dispose();
