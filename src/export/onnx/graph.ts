/**
 * An ONNX graph under construction: nodes, initializers (weights), inputs and outputs, plus the
 * memory layout of every value. TF.js keeps images NHWC while ONNX convolutions and pooling are
 * NCHW, so each value records its layout and `as(value, layout)` inserts a Transpose only where
 * an operator needs the other one (ONNX Runtime then folds or fuses the transposes).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

/** 'nhwc' / 'nchw' for rank-4 image tensors; 'plain' for everything else. */
export type Layout = 'nhwc' | 'nchw' | 'plain';

export interface Value {
  name: string;
  layout: Layout;
  /** Shape in TF.js's (NHWC) convention; null for unknown dimensions. */
  shape: Array<number | null>;
}

type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

export class OnnxGraph {
  readonly nodes: NodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly transposed = new Map<string, Value>();

  /** A name not used yet in this graph, derived from `base`. */
  fresh(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a float32 weight; `shape` is ONNX's (already NCHW / OIHW where that matters). */
  constant(base: string, data: Float32Array, shape: number[]): string {
    const name = this.fresh(base);
    const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    this.initializers.push({ name, dims: shape, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
    return name;
  }

  /** Adds an int64 constant (shapes, axes). */
  int64s(base: string, values: number[]): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values });
    return name;
  }

  /** Appends one node; returns its (single) output name. */
  node(opType: string, inputs: string[], base: string, attrs: Record<string, AttrValue> = {}): string {
    const output = this.fresh(base);
    this.nodes.push({ opType, input: inputs, output: [output], name: this.fresh(`${base}/${opType}`), attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return output;
  }

  /** `value` in `layout`, transposing (once per value) when it is in the other image layout. */
  as(value: Value, layout: Exclude<Layout, 'plain'>): Value {
    if (value.layout === layout) return value;
    if (value.layout === 'plain') {
      if (value.shape.length !== 4) throw new Error(`ONNX export: '${value.name}' (rank ${value.shape.length}) is not an image tensor`);
      value = { ...value, layout: 'nhwc' };
      if (layout === 'nhwc') return value;
    }
    const key = `${value.name}->${layout}`;
    const cached = this.transposed.get(key);
    if (cached) return cached;
    const perm = layout === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1];
    const out: Value = { name: this.node('Transpose', [value.name], `${value.name}_${layout}`, { perm }), layout, shape: value.shape };
    this.transposed.set(key, out);
    return out;
  }

  addInput(name: string, shape: Array<number | null>): Value {
    this.used.add(name);
    this.inputs.push(valueInfo(name, shape));
    return { name, layout: shape.length === 4 ? 'nhwc' : 'plain', shape };
  }

  /** Marks `value` (made NHWC / plain, as TF.js returns it) as the graph output `name` (from fresh()). */
  addOutput(value: Value, name: string): void {
    const v = value.layout === 'nchw' ? this.as(value, 'nhwc') : value;
    this.nodes.push({ opType: 'Identity', input: [v.name], output: [name], name: this.fresh(`${name}/Identity`) });
    this.outputs.push(valueInfo(name, value.shape));
  }

  /** The serialized ModelProto. Opset 17 (LayerNormalization); IR version 8. */
  encode(graphName: string, docString: string, metadata: Record<string, string> = {}): Uint8Array {
    const model = onnx.ModelProto.create({
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      irVersion: 8,
      producerName: 'fewshot',
      producerVersion: '0.1.0',
      docString,
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function attribute(name: string, v: AttrValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.FLOATS, floats: v.floats };
}

function valueInfo(name: string, shape: Array<number | null>): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: shape.map((d, i) => (d == null ? { dimParam: i === 0 ? 'batch' : `d${i}` } : { dimValue: d })) },
      },
    },
  };
}
