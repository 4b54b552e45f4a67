/**
 * `npm run build:ensemble -- --out DIR MODEL_DIR...`
 *
 * Saves one model that embeds with every member and concatenates their unit-length embeddings
 * (src/models/ensemble.ts): scored by cosine, it averages the members' cosine similarities, and
 * loads wherever a single model does. Measure it with `npm run eval:omniglot -- --model DIR`.
 */
import { Command } from 'commander';
import { saveEnsembleOfModelDirs } from '../src/models/ensemble_dirs.js';
import { useBackend, addBackendOption } from '../src/cli/options.js';

const cmd = addBackendOption(
  new Command('build-ensemble')
    .requiredOption('--out <dir>', 'where to write the ensemble model')
    .argument('<models...>', 'member model directories (same input size and preprocessing)'),
);
cmd.parse(process.argv.slice(2), { from: 'user' });
const opts = cmd.opts<{ out: string; backend: string }>();
await useBackend(opts.backend, false);
const meta = await saveEnsembleOfModelDirs(cmd.args, opts.out);
console.log(`ensemble of ${cmd.args.length} (${cmd.args.join(', ')}): ${meta.embeddingDim}-d cosine embeddings, saved to ${opts.out}`);
