/**
 * Solving a small symmetric positive-definite system A x = b by Cholesky (A = L L^T), in float64:
 * the Newton steps of the logistic regression (verification/) and the first-frame filter of the
 * tracker (tracking/discriminative_filter.ts). A few hundred unknowns at most, so a plain
 * O(n^3 / 3) loop is faster than moving the matrix into a tensor backend.
 */

/** x with A x = b; A is row-major n x n, only its lower triangle is read, and it is not modified. Throws `failure` if A is not positive definite. */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number, failure = 'choleskySolve: the matrix is not positive definite'): Float64Array {
  if (a.length !== n * n || b.length !== n) throw new Error(`choleskySolve: a ${a.length}-value matrix and a ${b.length}-value right-hand side for n = ${n}`);
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j]!;
    for (let k = 0; k < j; k++) s -= l[j * n + k]! ** 2;
    if (!(s > 0)) throw new Error(failure);
    const ljj = Math.sqrt(s);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j]!;
      for (let k = 0; k < j; k++) t -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = t / ljj;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = b[i]!;
    for (let k = 0; k < i; k++) t -= l[i * n + k]! * y[k]!;
    y[i] = t / l[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let t = y[i]!;
    for (let k = i + 1; k < n; k++) t -= l[k * n + i]! * x[k]!;
    x[i] = t / l[i * n + i]!;
  }
  return x;
}
