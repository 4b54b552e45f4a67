/** A native addon built before its sources changed is refused (it would run new calls with old code). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { staleSources } from '../../src/backend/native/addon.js';

test('staleSources names the sources changed after the build, and nothing for a fresh build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fewshot-addon-'));
  try {
    mkdirSync(join(dir, 'src'));
    const addon = join(dir, 'addon.node');
    for (const f of ['binding.gyp', 'src/conv.cc', 'src/addon.cc', 'addon.node']) writeFileSync(join(dir, f), '');
    const at = (f: string, seconds: number) => utimesSync(join(dir, f), seconds, seconds);
    at('binding.gyp', 1000);
    at('src/conv.cc', 1000);
    at('src/addon.cc', 1000);
    at('addon.node', 2000);
    assert.equal(staleSources(addon, dir), null);
    at('src/conv.cc', 3000);
    assert.deepEqual(staleSources(addon, dir), [join(dir, 'src/conv.cc')]);
    at('binding.gyp', 3000);
    assert.deepEqual(staleSources(addon, dir), [join(dir, 'binding.gyp'), join(dir, 'src/conv.cc')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
