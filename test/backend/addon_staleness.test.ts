/** A native addon built before its sources changed is refused (it would run new calls with old code). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { staleSources } from '../../src/backend/native/addon.js';

function nativeDir(): { dir: string; addon: string; at: (f: string, seconds: number) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fewshot-addon-'));
  mkdirSync(join(dir, 'src'));
  for (const [f, text] of [['binding.gyp', 'gyp'], ['src/conv.cc', 'conv'], ['src/addon.cc', 'addon'], ['addon.node', '']]) writeFileSync(join(dir, f!), text!);
  return { dir, addon: join(dir, 'addon.node'), at: (f, seconds) => utimesSync(join(dir, f), seconds, seconds) };
}

test('staleSources without a build record: sources modified after the addon file', () => {
  const { dir, addon, at } = nativeDir();
  try {
    for (const f of ['binding.gyp', 'src/conv.cc', 'src/addon.cc']) at(f, 1000);
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

test('staleSources with the build record: content, not times, decides (a fresh checkout of the same sources is fine)', () => {
  const { dir, addon, at } = nativeDir();
  try {
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const record = { 'binding.gyp': sha('gyp'), 'src/addon.cc': sha('addon'), 'src/conv.cc': sha('conv') };
    writeFileSync(join(dir, 'addon.sources.json'), JSON.stringify(record));
    at('addon.node', 1000);
    at('src/conv.cc', 3000); // newer file, same content
    assert.equal(staleSources(addon, dir), null);
    writeFileSync(join(dir, 'src/conv.cc'), 'conv with groups');
    assert.deepEqual(staleSources(addon, dir), [join(dir, 'src/conv.cc')]);
    writeFileSync(join(dir, 'src/pool.cc'), 'new file');
    assert.deepEqual(staleSources(addon, dir), [join(dir, 'src/conv.cc'), join(dir, 'src/pool.cc')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
