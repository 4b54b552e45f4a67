import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choleskySolve } from '../../src/util/cholesky.js';

test('choleskySolve: a hand-checked 3x3 system, the matrix left as it was; bad input refused', () => {
  // A = [[4,2,0],[2,3,1],[0,1,2]], x = [1,2,3] -> b = A x = [8,11,8].
  const a = Float64Array.from([4, 2, 0, 2, 3, 1, 0, 1, 2]);
  const x = choleskySolve(a, Float64Array.from([8, 11, 8]), 3);
  [1, 2, 3].forEach((v, i) => assert.ok(Math.abs(x[i]! - v) < 1e-12, `x[${i}] = ${x[i]}`));
  assert.deepEqual([...a], [4, 2, 0, 2, 3, 1, 0, 1, 2]);
  assert.throws(() => choleskySolve(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2), /^Error: choleskySolve: the matrix is not positive definite$/);
  assert.throws(() => choleskySolve(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2, 'the Hessian is singular'), /^Error: the Hessian is singular$/);
  assert.throws(() => choleskySolve(a, Float64Array.from([1, 1]), 3), /a 9-value matrix and a 2-value right-hand side for n = 3/);
});
