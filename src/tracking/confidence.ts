/**
 * How sure the tracker is of a frame's peak, from the score map alone: the average peak-to-correlation
 * energy (APCE, Wang et al. 2017, "Large Margin Object Tracking with Circulant Feature Maps").
 * A single sharp peak over a flat map gives a high APCE; several peaks or a flat map (occlusion,
 * a look-alike, drift) give a low one. Online template updates and distractor memories only learn
 * from frames the gate accepts, so that a wrong frame does not teach the tracker its own mistake.
 */

/** APCE = (max - min)^2 / mean((v - min)^2); 0 for a constant map. Scale-free. */
export function apce(map: Float32Array): number {
  let min = Infinity;
  let max = -Infinity;
  for (const v of map) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  let energy = 0;
  for (const v of map) energy += (v - min) ** 2;
  energy /= map.length;
  return energy > 0 ? (max - min) ** 2 / energy : 0;
}

/**
 * Accepts a frame when its APCE is at least `ratio` times the mean APCE of the frames seen so far
 * (LMCF's criterion). Every frame enters the mean, accepted or not; the first frame is always
 * accepted (there is nothing to compare it with). `ratio` 0 accepts every frame.
 */
export class ConfidenceGate {
  private sum = 0;
  private count = 0;

  constructor(readonly ratio: number) {
    if (!(ratio >= 0) || !Number.isFinite(ratio)) throw new Error(`ConfidenceGate: ratio must be a finite number >= 0, got ${ratio}`);
  }

  accept(map: Float32Array): boolean {
    const value = apce(map);
    const ok = this.count === 0 || value >= this.ratio * (this.sum / this.count);
    this.sum += value;
    this.count++;
    return ok;
  }

  reset(): void {
    this.sum = 0;
    this.count = 0;
  }
}
