/** `fewshot verify A B`: are two images the same identity? Score, threshold and decision. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { decodeImage, type Image } from '../../data/image.js';
import { SiameseScorer } from '../../inference/embedder.js';
import { Verifier } from '../../verification/verifier.js';
import { addBackendOption, parseNumber, printJson, resolveModelDir, useBackend } from '../options.js';

interface VerifyOptions {
  model?: string;
  threshold?: number;
  json?: boolean;
  backend: string;
}

export function readImageFile(file: string): Image {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read image ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return decodeImage(bytes, file);
}

export function register(program: Command): void {
  const cmd = program
    .command('verify')
    .description('same or different: score two images with a model and decide at its calibrated threshold')
    .argument('<a>', 'first image (PNG, JPEG or PGM; any size, grayscale or colour)')
    .argument('<b>', 'second image')
    .option('--model <dir>', 'model directory, e.g. models/faces or models/signatures (default: the shipped Omniglot model)')
    .option('--threshold <t>', "decision threshold in the model's score units (probability, or distance); default: the model's calibrated one", parseNumber())
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(cmd).action(async (a: string, b: string, opts: VerifyOptions) => {
    await useBackend(opts.backend, true);
    const modelDir = resolveModelDir(opts.model);
    const scorer = await SiameseScorer.load(modelDir);
    const verifier = new Verifier(scorer, opts.threshold !== undefined ? { threshold: opts.threshold } : {});
    const [imgA, imgB] = [a, b].map((path) => {
      const img = readImageFile(path);
      try {
        scorer.preprocessImage(img); // refusals (e.g. a blank page for a signature model) name the file
      } catch (err) {
        throw new Error(`${path}: ${(err as Error).message}`, { cause: err });
      }
      return img;
    });
    const r = verifier.verifyImages(imgA!, imgB!);
    if (opts.json) {
      printJson({ a, b, model: modelDir, ...r });
      return;
    }
    const name = r.scoreKind === 'probability' ? 'probability' : 'distance';
    if (r.same === null) {
      console.log(`${name} ${r.score.toFixed(4)} (${r.meaning}); no decision: the model has no calibrated threshold ` +
        `(run 'fewshot eval-verify --data DIR --model ${opts.model ?? 'DIR'} --calibrate' or pass --threshold)`);
      return;
    }
    const cmp = r.direction === 'higher-is-same' ? (r.same ? '>=' : '<') : (r.same ? '<=' : '>');
    console.log(`${r.same ? 'SAME' : 'DIFFERENT'}: ${name} ${r.score.toFixed(4)} ${cmp} threshold ${r.threshold!.toFixed(4)} (${r.meaning}; threshold: ${r.thresholdSource})`);
  });
}
