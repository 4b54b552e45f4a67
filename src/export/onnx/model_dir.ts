/**
 * ONNX export of a model folder as fewshot writes them: an embedding / pair model (fewshot.json)
 * or a SiamFC tracker (tracker.json). The folder's metadata travels inside the ONNX file
 * (metadata_props), so the file alone says how to preprocess images and score embeddings.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadModel } from '../../models/io.js';
import { METADATA_FILE } from '../../models/metadata.js';
import { isFused, loadTrackingModel, readTrackerMetadata } from '../../tracking/model_io.js';
import { EncoderSiamNetwork } from '../../tracking/siam_network.js';
import { exportOnnx } from './export.js';

export interface ExportedModel {
  kind: 'fewshot' | 'tracker';
  model: tfl.LayersModel;
  onnx: Uint8Array;
}

export async function exportModelDirToOnnx(dir: string): Promise<ExportedModel> {
  if (existsSync(join(dir, 'tracker.json'))) {
    if (isFused(readTrackerMetadata(dir).network)) {
      throw new Error(`${dir}: ONNX export covers the layers-model tracker (e.g. models/tracking-small), not a fused tracker of pretrained graph-model backbones`);
    }
    const { network } = await loadTrackingModel(dir);
    // A pretrained-backbone tracker is a TF.js graph model plus a trained head: only the
    // all-layers SiamFC (models/tracking-small) is one exportable network.
    if (!(network instanceof EncoderSiamNetwork)) {
      network.dispose();
      throw new Error(`${dir}: ONNX export covers the layers-model tracker (e.g. models/tracking-small), not a tracker on a pretrained graph-model backbone`);
    }
    const model = network.model;
    // The tracker correlates one exemplar with a batch of search crops (the scale pyramid).
    const exemplar = model.inputs[0]!.name;
    const onnx = exportOnnx(model, { fixedBatch: { [exemplar]: 1 }, metadata: { 'fewshot-tracker': readFileSync(join(dir, 'tracker.json'), 'utf8') } });
    return { kind: 'tracker', model, onnx };
  }
  if (!existsSync(join(dir, METADATA_FILE))) throw new Error(`${dir}: neither ${METADATA_FILE} nor tracker.json: not a fewshot model folder`);
  const { model } = await loadModel(dir);
  return { kind: 'fewshot', model, onnx: exportOnnx(model, { metadata: { fewshot: readFileSync(join(dir, METADATA_FILE), 'utf8') } }) };
}
