/**
 * Builds `models/signatures-pretrained`: frozen COCO features as the signature embedding
 * (src/models/backbone_encoder.ts), nothing trained; fewshot.json is the whole model.
 *
 *   nice -n 15 npx tsx scripts/build-signature-backbone-model.ts [--data ZIP] [--out models/signatures-pretrained]
 *
 * Choices, all on the 30 provided writers, by the rules the outer cross-validation tested
 * (scripts/signature-frozen-features.ts, docs/signatures.md):
 *  - the configuration: lowest distance-rule EER, K = 1..4 pooled (chooseFrozenConfig);
 *  - the default decision: distance or wd (rbf, l2 1), whichever has the lower pooled EER;
 *  - both thresholds: the EER threshold of genuine vs skilled forgeries, K = 1..4 pooled.
 * Features that were never fitted to these writers make these in-sample thresholds fairer than a
 * trained model's would be, but they are still chosen on the writers they are measured on.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backend/select.js';
import { signaturePersons } from '../src/applications/signatures/layout.js';
import { evaluateReferenceVerification, type SignatureDecision } from '../src/applications/signatures/reference_verification.js';
import { METADATA_FILE } from '../src/models/metadata.js';
import { writeFileAtomically } from '../src/util/atomic_file.js';
import { shellQuote } from '../src/cli/command_line.js';
import { KS, eerOf, eerThreshold, pct } from './lib/signature-cv.js';
import { FROZEN_CONFIGS, FrozenEmbeddings, chooseFrozenConfig, frozenLabel, frozenModelMetadata } from './lib/signature-backbone.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: resolve('..', 'shared', 'data', 'signatures', 'handwritten_signatures.zip') },
    out: { type: 'string', default: 'models/signatures-pretrained' },
  },
});
const out = resolve(args.out!);
if (existsSync(join(out, 'model.json'))) throw new Error(`${out} holds a trained model (model.json); give another --out`);
await selectBackend('native');
const frozen = new FrozenEmbeddings(args.data!);
const persons = signaturePersons((await frozen.of(FROZEN_CONFIGS[0]!)).set.files);
const { config, eer: chosenEer } = await chooseFrozenConfig(frozen, persons);
console.log(`configuration: ${frozenLabel(config)} (distance EER ${pct(chosenEer)}, K = 1..4 pooled, ${persons.length} writers)`);
const { scorer, set, embeddings } = await frozen.of(config);
const WD = { kernel: 'rbf' as const, l2: 1 };
const trialsOf = (decision: SignatureDecision) => KS.flatMap((k) => evaluateReferenceVerification(scorer, set, embeddings, {
  references: k, seed: 100 + k, decision, ...WD, threshold: 0, skipShortWriters: true, randomPerPerson: 0,
}).trials);
const distanceTrials = trialsOf('distance');
const wdTrials = trialsOf('wd');
const eers = { distance: eerOf(distanceTrials), wd: eerOf(wdTrials) };
const decision: SignatureDecision = eers.wd < eers.distance ? 'wd' : 'distance';
console.log(`decision: ${decision} (EER distance ${pct(eers.distance)}, wd ${pct(eers.wd)})`);
const source = (d: string) => `EER threshold of genuine vs skilled forgeries on the ${persons.length} provided writers (${d}, 1-4 references pooled; features not fitted to them)`;
const meta = frozenModelMetadata(config, embeddings[0]!.length, {
  decision,
  threshold: { value: eerThreshold(distanceTrials), source: source('distance rule') },
  writerDependent: { ...WD, threshold: { value: eerThreshold(wdTrials), source: source('writer-dependent rbf classifier, l2 1') } },
  training: {
    script: 'scripts/build-signature-backbone-model.ts',
    command: `npx tsx scripts/build-signature-backbone-model.ts ${process.argv.slice(2).map(shellQuote).join(' ')}`.trim(),
    trained: 'nothing: the backbone is frozen',
    chosenBy: `lowest distance-rule EER on the ${persons.length} provided writers among the configurations of scripts/lib/signature-backbone.ts; the outer 3-fold test of the same rule is in docs/signatures.md`,
    configurationEer: chosenEer,
    decisionEer: eers,
    writers: persons,
  },
});
mkdirSync(out, { recursive: true });
writeFileAtomically(join(out, METADATA_FILE), JSON.stringify(meta, null, 2) + '\n');
console.log(`wrote ${join(out, METADATA_FILE)}`);
