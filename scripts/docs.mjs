#!/usr/bin/env node
// `npm run docs`: the API reference of the three entry points (fewshot, fewshot/node,
// fewshot/service) from their TSDoc comments, into dist/docs/, with TypeDoc's warnings as errors
// (typedoc.json). TypeDoc needs the TypeScript 5 compiler API while the project compiles with
// TypeScript 7, so it lives in its own small package, tools/docs/, installed here on first use.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, 'tools', 'docs');
const typedoc = join(tools, 'node_modules', 'typedoc', 'bin', 'typedoc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync(typedoc)) run(npm, ['ci', '--prefix', tools, '--no-audit', '--no-fund']);
run(process.execPath, [typedoc, ...process.argv.slice(2)]);
