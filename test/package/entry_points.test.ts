/**
 * The package's three entry points: `fewshot` bundles for a browser with no Node built-in,
 * package.json `exports` maps each to compiled code with types, and importing the core (then
 * computing on the default cpu backend) prints no TF.js "install tfjs-node" greeting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('`fewshot` (src/index.ts) bundles for the browser without any Node built-in', async () => {
  // A browser bundle cannot resolve a Node built-in: esbuild fails on each one, naming the importer.
  let result: esbuild.BuildResult<{ metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [`${root}src/index.ts`], bundle: true, write: false, platform: 'browser', format: 'esm', logLevel: 'silent', metafile: true,
    });
  } catch (err) {
    const errors = (err as { errors?: esbuild.Message[] }).errors ?? [];
    assert.fail(`the browser bundle failed:\n${errors.map((e) => `${e.location?.file}: ${e.text}`).join('\n') || String(err)}`);
  }
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((p) => p.endsWith('src/inference/few_shot_classifier.ts')), 'the bundle lacks the classifier');
  for (const heavy of ['fastify', 'better-sqlite3', 'hnswlib-node', 'src/service/', 'src/backend/native/', 'src/training/trainer.ts']) {
    assert.ok(!inputs.some((p) => p.includes(heavy)), `${heavy} is bundled into the browser entry`);
  }
});

test('package.json exports fewshot, fewshot/node and fewshot/service, each with its types', () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { exports: Record<string, { types: string; default: string }> };
  const expected: Record<string, string> = { '.': 'index', './node': 'node', './service': 'service/index' };
  for (const [entry, src] of Object.entries(expected)) {
    const e = pkg.exports[entry];
    assert.ok(e, `exports has no '${entry}'`);
    assert.equal(e.default, `./dist/${src}.js`);
    assert.equal(e.types, `./dist/${src}.d.ts`);
    // The compiled file comes from src/<src>.ts (tsconfig.build.json: rootDir src, outDir dist).
    assert.ok(readFileSync(`${root}src/${src}.ts`, 'utf8').includes('@packageDocumentation'), `src/${src}.ts is not an entry point`);
  }
  assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './node', './package.json', './service']);
});

test('the core hides internals and fewshot/node adds the Node-only API', async () => {
  const core = await import('../../src/index.js');
  const node = await import('../../src/node.js');
  for (const internal of ['NativeBackend', 'loadNativeAddon', 'batchNormTraining', 'stepRng', 'toBatchArray', 'Gallery', 'buildServer']) {
    assert.ok(!(internal in core) && !(internal in node), `${internal} is exported`);
  }
  for (const name of ['loadClassifier', 'loadVerifier', 'loadScorer', 'trainModel', 'selectBackend', 'loadImageDataset', 'openSource']) {
    assert.ok(!(name in core), `${name} (Node-only) is in the browser-safe core`);
    assert.equal(typeof (node as Record<string, unknown>)[name], 'function', `fewshot/node lacks ${name}`);
  }
  for (const name of ['FewShotClassifier', 'Verifier', 'SiameseScorer', 'decodeImage', 'ZipSource', 'createMethod', 'PrototypicalLoss']) {
    assert.equal(typeof (core as Record<string, unknown>)[name], 'function', `fewshot lacks ${name}`);
  }
});

test('importing fewshot and computing on the default backend prints no "install tfjs-node" greeting', () => {
  const script = `
    const f = await import(${JSON.stringify(`${root}src/index.ts`)});
    const tf = await import('@tensorflow/tfjs-core');
    const enc = f.createEncoder('tiny', { embeddingDim: 4 });
    const y = enc.predict(tf.zeros([1, ...enc.inputs[0].shape.slice(1)]));
    console.log('backend', tf.getBackend(), y.shape.join('x'));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /backend cpu 1x4/);
  assert.doesNotMatch(r.stdout + r.stderr, /tfjs-node|Hi, looks like/);
});
