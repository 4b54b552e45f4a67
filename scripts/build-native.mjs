#!/usr/bin/env node
// `npm install` hook: builds the native TF.js kernels (native/) against oneDNN when the system
// library is present. Without it fewshot still works on the wasm/cpu backends, only slower, so a
// missing library is one line of advice, never a failed install.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const header = ['/usr/include/dnnl.h', '/usr/include/oneapi/dnnl/dnnl.h'].find((p) => existsSync(p));
if (!existsSync(join(root, 'native', 'binding.gyp'))) process.exit(0);
if (!header) {
  console.log('fewshot: oneDNN not found, using the slower wasm/cpu backends. For fast native training: sudo apt-get install -y libdnnl-dev && npm rebuild fewshot');
  process.exit(0);
}
const gyp = spawnSync('npx', ['--no-install', 'node-gyp', 'rebuild', '--release'], { cwd: join(root, 'native'), stdio: 'inherit' });
if (gyp.status !== 0) {
  console.log('fewshot: building the native kernels failed (see above); falling back to wasm/cpu.');
}
process.exit(0);
