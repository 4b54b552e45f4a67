/** `fewshot export`: a trained model folder as a portable ONNX file (for ONNX Runtime & co). */
import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { exportModelDirToOnnx } from '../../export/onnx/model_dir.js';
import { printJson, resolveModelDir } from '../options.js';
import { selectBackend } from '../../backend/select.js';

interface ExportOptions {
  model?: string;
  format: 'onnx';
  out: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write a model folder (embedding, pair or tracking model) as an ONNX file (opset 17, NHWC inputs as in fewshot)')
    .option('--model <dir>', 'model directory (default: the shipped Omniglot model)')
    .addOption(new Option('--format <format>', 'output format').choices(['onnx']).default('onnx'))
    .requiredOption('--out <file>', 'output file, e.g. model.onnx')
    .option('--json', 'print one JSON object on stdout')
    .action(async (opts: ExportOptions) => {
      // Reading the weights needs a TF.js backend (any will do).
      await selectBackend('auto', { quiet: true });
      const dir = opts.model ? resolve(opts.model) : resolveModelDir(undefined);
      const { kind, model, onnx } = await exportModelDirToOnnx(dir);
      const out = resolve(opts.out);
      const tmp = `${out}.tmp-${process.pid}`;
      writeFileSync(tmp, onnx);
      renameSync(tmp, out);
      const summary = { model: dir, kind, format: opts.format, out, bytes: onnx.length, inputs: model.inputs.map((t) => ({ name: t.name, shape: t.shape })) };
      if (opts.json) printJson(summary);
      else console.log(`wrote ${out} (${(onnx.length / 1024).toFixed(0)} KiB, ONNX opset 17, inputs ${summary.inputs.map((i) => `${i.name} [${i.shape.map((d) => d ?? 'N').join(',')}]`).join(', ')})`);
    });
}
