/**
 * Follow an object through a sequence given only its box in the first frame, with the shipped
 * Siamese tracker. The sequence folder holds img/0001.jpg... and groundtruth_rect.txt (x,y,w,h
 * per line; only the first line is used to start, the rest to score).
 *
 *   npx tsx examples/track.ts <sequence-dir>
 */
import { loadSequence, loadTrackerModel, selectBackend, SiamTracker, iou } from 'fewshot/node';

const [sequenceDir] = process.argv.slice(2);
if (!sequenceDir) throw new Error('usage: track.ts <sequence-dir>');

await selectBackend('auto');
const seq = await loadSequence(sequenceDir);
const model = await loadTrackerModel(); // models/tracking/
const tracker = new SiamTracker(model.scorer(), model.meta.params);
tracker.init(seq.readFrame(0), seq.groundTruth[0]!);
let overlap = 0;
for (let i = 1; i < seq.length; i++) {
  const box = tracker.update(seq.readFrame(i));
  overlap += seq.groundTruth[i] ? iou(box, seq.groundTruth[i]!) : 0;
  if (i % 10 === 0 || i === seq.length - 1) console.log(`frame ${i + 1}: x ${box.x.toFixed(0)} y ${box.y.toFixed(0)} w ${box.w.toFixed(0)} h ${box.h.toFixed(0)}`);
}
console.log(`${seq.name}: mean overlap with the ground truth ${(overlap / Math.max(1, seq.length - 1)).toFixed(3)}`);
