#!/usr/bin/env node
// `npm install` hook: builds the native TF.js kernels (native/) against oneDNN when the system
// library is present. Without it fewshot still works on the wasm/cpu backends, only slower, so a
// missing library is one line of advice, never a failed install.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const advice = 'apt-get install -y libdnnl-dev && npm rebuild fewshot';
if (!existsSync(join(root, 'native', 'binding.gyp'))) process.exit(0);
const header = ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/include/dnnl.hpp'].find((p) => existsSync(p));
if (!header) {
  console.log(`fewshot: oneDNN not found, using the slower wasm/cpu backends. For fast native training: ${advice}`);
  process.exit(0);
}

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
if (gyp.status !== 0) {
  console.log(`fewshot: building the native kernels failed (see above); falling back to wasm/cpu. Needs a C++ compiler and: ${advice}`);
}
process.exit(0);
