/**
 * With spinning OpenMP workers (OMP_WAIT_POLICY=active) a small batch runs on every thread
 * instead of one (native/src/inference_plan.cc). The addon reads the policy once per process,
 * so this file checks that path in a child process started with the policy set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { skipNative } from './compare.js';
import { conv4PlanModel, planMatchesCpu } from './plan_check.js';

const CHILD = 'FEWSHOT_SPINNING_PLAN_CHILD';

if (process.env[CHILD]) {
  test('in a process with OMP_WAIT_POLICY=active: Conv-4 plan equals TF.js cpu at batch 1, 3 and 40', { skip: skipNative }, async () => {
    assert.equal(process.env.OMP_WAIT_POLICY, 'active');
    await planMatchesCpu(conv4PlanModel(), [1, 3, 40]);
  });
} else {
  test('spinning-worker small batches equal TF.js cpu (checked in a child process)', { skip: skipNative }, () => {
    // NODE_TEST_CONTEXT would make the child report to this runner instead of printing its own result
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...env, OMP_WAIT_POLICY: 'active', OMP_NUM_THREADS: '2', [CHILD]: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `child failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /# pass 1/, r.stdout);
  });
}
