import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomically } from '../../src/util/atomic_file.js';

test('writeFileAtomically replaces the content and leaves no temporary file; a failed write keeps the old file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fewshot-atomic-'));
  try {
    const path = join(dir, 'cache.json');
    writeFileSync(path, '{"old":true}');
    writeFileAtomically(path, '{"new":true}');
    assert.equal(readFileSync(path, 'utf8'), '{"new":true}');
    assert.deepEqual(readdirSync(dir), ['cache.json']);
    // The target is a directory: the rename fails, and the temporary file is cleaned up.
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'inside'), { recursive: true });
    assert.throws(() => writeFileAtomically(blocked, 'x'));
    assert.deepEqual(readdirSync(dir).sort(), ['blocked', 'cache.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
