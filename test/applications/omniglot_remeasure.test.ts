import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { remeasured, type OmniglotReport } from '../../src/applications/omniglot/report.js';

test('re-measuring a shipped model replaces its measurements and keeps how it was trained', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fewshot-remeasure-'));
  try {
    const file = join(dir, 'validation.json');
    writeFileSync(file, JSON.stringify({ method: 'pair', steps: 2000, command: 'npm run train:omniglot -- --method pair', valLakeStyleRunsHungarian: 0.865, model: 'runs/x' }));
    const row = { command: 'npm run eval:omniglot -- --model m --ship m', valLakeStyleRunsHungarian: 0.908, model: 'm' } as unknown as OmniglotReport;
    const out = remeasured(file, row);
    assert.equal(out['valLakeStyleRunsHungarian'], 0.908);
    assert.equal(out['method'], 'pair');
    assert.equal(out['steps'], 2000);
    assert.equal(out['command'], 'npm run train:omniglot -- --method pair');
    assert.equal(out['measuredWith'], 'npm run eval:omniglot -- --model m --ship m');
    assert.equal(out['model'], 'runs/x');
    // Without an earlier validation.json the row is written as it is.
    assert.deepEqual(remeasured(join(dir, 'none.json'), row), { ...row });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
