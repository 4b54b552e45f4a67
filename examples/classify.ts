/**
 * Classify images against a support set: one folder per class with 1..K examples each
 * (support/<class>/<image>). The classifier embeds the support set once, then answers queries.
 *
 *   npx tsx examples/classify.ts <model-dir> <support-dir> <query-image>...
 */
import { readFileSync } from 'node:fs';
import { decodeImage, loadClassifier, loadSupportSet } from 'fewshot/node';

const [modelDir, supportDir, ...queries] = process.argv.slice(2);
if (!modelDir || !supportDir || queries.length === 0) throw new Error('usage: classify.ts <model-dir> <support-dir> <query-image>...');

const classifier = await loadClassifier(modelDir); // picks the fastest backend, reads the model
classifier.fit(await loadSupportSet(supportDir));
for (const file of queries) {
  const [p] = classifier.predict([decodeImage(readFileSync(file), file)]);
  const runnerUp = p!.ranked[1];
  console.log(`${file}: ${p!.label}${runnerUp ? ` (then ${runnerUp.class})` : ''}`);
}
