#!/usr/bin/env node
// Builds the native TF.js kernels (native/) against oneDNN with node-gyp.
// - As the `npm install` hook (no flag): a missing library or compiler is one line of advice,
//   never a failed install, since fewshot still works on the wasm/cpu backends, only slower.
// - As `npm run build:native` (--required): the same build, but failure exits non-zero.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, sep } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.argv.includes('--required');
// What works depends on where fewshot lives: in a clone `npm rebuild fewshot` builds nothing.
const installedAsDependency = root.split(sep).includes('node_modules');
const packages = 'apt-get install -y libdnnl-dev g++ make python3';
const advice = `${packages} && ${installedAsDependency ? 'npm rebuild fewshot' : 'npm run build:native'}`;
const giveUp = (message) => {
  console.log(`fewshot: ${message}`);
  process.exit(required ? 1 : 0);
};
if (!existsSync(join(root, 'native', 'binding.gyp'))) giveUp('native/binding.gyp missing: nothing to build');
const header = ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/include/dnnl.hpp'].find((p) => existsSync(p));
if (!header) giveUp(`oneDNN not found, using the slower wasm/cpu backends. For fast native training: ${advice}`);

// node-gyp: the one npm runs scripts with, else the copy bundled with npm, else npx.
const npmDir = dirname(dirname(process.env.npm_execpath ?? join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')));
const gypCandidates = [
  process.env.npm_config_node_gyp,
  join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
].filter((p) => p && existsSync(p));
// Build against the headers of the running node when they are installed (no download offline).
const nodeDir = [join(dirname(process.execPath), '..'), '/usr', '/usr/local'].find((d) => existsSync(join(d, 'include', 'node', 'node.h')));
const args = ['rebuild', '--release', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])];
const gyp = gypCandidates.length > 0
  ? spawnSync(process.execPath, [gypCandidates[0], ...args], { cwd: join(root, 'native'), stdio: 'inherit' })
  : spawnSync('npx', ['--no-install', 'node-gyp', ...args], { cwd: join(root, 'native'), stdio: 'inherit' });
if (gyp.status !== 0) giveUp(`building the native kernels failed (see above); falling back to wasm/cpu. Needs: ${advice}`);
// What the addon was built from (sha256 per source file): src/backend/native/addon.ts refuses an
// addon whose sources have changed since (staleSources there reads this file).
const sources = ['binding.gyp', ...readdirSync(join(root, 'native', 'src')).sort().map((f) => `src/${f}`)];
const hashes = Object.fromEntries(sources.map((f) => [f, createHash('sha256').update(readFileSync(join(root, 'native', f))).digest('hex')]));
writeFileSync(join(root, 'native', 'build', 'Release', 'fewshot_native.sources.json'), JSON.stringify(hashes, null, 1) + '\n');
process.exit(0);
