/**
 * What face-api's `import * as tf from '@tensorflow/tfjs'` gets instead (see face_api.ts): our
 * tfjs-core instance, plus the chained tensor methods (`t.as3D()`, `t.div(x)`...) that the full
 * tfjs bundle installs on Tensor.prototype and that face-api's network code calls. tfjs-core's
 * own chained_ops modules are extensionless ESM that Node cannot load, so the few methods face-api
 * uses are installed here, each a one-line forward to the op of the same name.
 */
import * as tf from '@tensorflow/tfjs-core';

export * from '@tensorflow/tfjs-core';

type Method = (this: tf.Tensor, ...args: never[]) => tf.Tensor | tf.Tensor[];

const ops = tf as unknown as Record<string, (...args: unknown[]) => tf.Tensor>;
const methods: Record<string, Method> = {
  as1D(this: tf.Tensor) { return tf.reshape(this, [this.size]); },
  as2D(this: tf.Tensor, rows: number, columns: number) { return tf.reshape(this, [rows, columns]); },
  as3D(this: tf.Tensor, a: number, b: number, c: number) { return tf.reshape(this, [a, b, c]); },
  as4D(this: tf.Tensor, a: number, b: number, c: number, d: number) { return tf.reshape(this, [a, b, c, d]); },
  asScalar(this: tf.Tensor) { return tf.reshape(this, []); },
  toInt(this: tf.Tensor) { return tf.cast(this, 'int32'); },
  toFloat(this: tf.Tensor) { return tf.cast(this, 'float32'); },
  flatten(this: tf.Tensor) { return tf.reshape(this, [this.size]); },
  concat(this: tf.Tensor, x: tf.Tensor | tf.Tensor[], axis?: number) { return tf.concat([this, ...(Array.isArray(x) ? x : [x])], axis); },
  unstack(this: tf.Tensor, axis?: number) { return tf.unstack(this, axis); },
};
for (const name of ['abs', 'add', 'cast', 'clipByValue', 'div', 'exp', 'expandDims', 'matMul', 'max', 'mean', 'min', 'mul', 'neg',
  'pad', 'relu', 'reshape', 'sigmoid', 'slice', 'softmax', 'sqrt', 'square', 'squeeze', 'sub', 'sum', 'tile', 'transpose']) {
  methods[name] = function (this: tf.Tensor, ...args: unknown[]) { return ops[name]!(this, ...args); };
}
const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
for (const [name, fn] of Object.entries(methods)) if (typeof proto[name] !== 'function') proto[name] = fn;
