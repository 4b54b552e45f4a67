/**
 * Optimizer state for `--resume`: the slots an optimizer keeps per trainable variable (Adam's
 * first / second moments and its iteration count) saved with optimizer.getWeights() and restored
 * with setWeights(). One file (magic, JSON header, tf.io-encoded tensors) written through a
 * temporary name and a rename, so a kill never leaves half of it.
 *
 * TF.js optimizers match restored slots to variables by POSITION in the variable list of the
 * next minimize() call, so training must pass an explicit, stable varList (e.g. the model's
 * trainable weights in order); give the same list to loadOptimizerState to have shapes checked.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

const MAGIC = 'FSOPT001';

interface Header {
  optimizer: string;
  specs: tf.io.WeightsManifestEntry[];
}

export async function saveOptimizerState(file: string, optimizer: tf.Optimizer): Promise<void> {
  const named = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(named);
  const header = Buffer.from(JSON.stringify({ optimizer: optimizer.getClassName(), specs } satisfies Header), 'utf8');
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(header.length, 8);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, Buffer.concat([prefix, header, Buffer.from(data)]));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * Restores state saved by saveOptimizerState into an optimizer of the same kind.
 * @param variables the varList training will use; when given, slot count and shapes are checked.
 */
export async function loadOptimizerState(file: string, optimizer: tf.Optimizer, variables?: readonly tf.Variable[]): Promise<void> {
  if (!fs.existsSync(file)) throw new Error(`optimizer state file missing: ${file}`);
  const buf = fs.readFileSync(file);
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== MAGIC) throw new Error(`${file} is not a fewshot optimizer state file`);
  const headerLen = buf.readUInt32LE(8);
  if (12 + headerLen > buf.length) throw new Error(`optimizer state ${file} is truncated`);
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerLen)) as Header;
  } catch (e) {
    throw new Error(`optimizer state ${file} has a corrupt header: ${(e as Error).message}`);
  }
  if (header.optimizer !== optimizer.getClassName()) {
    throw new Error(`optimizer state ${file} is for ${header.optimizer}, not ${optimizer.getClassName()}`);
  }
  const expected = header.specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  const body = buf.subarray(12 + headerLen);
  if (body.length !== expected) throw new Error(`optimizer state ${file} is truncated (${body.length} of ${expected} bytes)`);
  const map = tf.io.decodeWeights(new Uint8Array(body).buffer, header.specs);
  const named = header.specs.map((s) => ({ name: s.name, tensor: map[s.name]! }));
  if (variables) {
    // Slots other than the 'iter' count come in groups (one per variable per slot kind).
    const slots = named.filter((n) => n.name !== 'iter');
    if (slots.length % Math.max(variables.length, 1) !== 0 || slots.length === 0 && variables.length > 0) {
      tf.dispose(Object.values(map));
      throw new Error(`optimizer state ${file} has ${slots.length} slots, which does not fit ${variables.length} variables`);
    }
    const kinds = slots.length / variables.length;
    for (let k = 0; k < kinds; k++) {
      variables.forEach((v, i) => {
        const slot = slots[k * variables.length + i]!;
        if (slot.tensor.shape.join(',') !== v.shape.join(',')) {
          tf.dispose(Object.values(map));
          throw new Error(`optimizer state ${file}: slot ${slot.name} has shape [${slot.tensor.shape}] but variable ${i} (${v.name}) has [${v.shape}]`);
        }
      });
    }
  }
  await optimizer.setWeights(named);
  // setWeights copies into new variables (Adam: tensor.variable()); the decoded tensors are ours.
  tf.dispose(Object.values(map));
}
