/**
 * A bounded work queue for image requests. Decoding and embedding run on the event loop one at a
 * time anyway; what must be bounded is how many requests hold uploaded bodies and decoded pixels
 * while they wait. A request is admitted before its body is read; when `capacity` requests are
 * already in, it is answered 503 with Retry-After at once, so memory stays bounded under any load.
 */
import { HttpError } from './limits.js';

export class Admission {
  private inFlight = 0;
  rejected = 0;

  constructor(readonly capacity: number, private readonly retryAfterSeconds = 1) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`queue capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.inFlight;
  }

  /** Admits one request or throws 503; the returned function releases it (idempotent). */
  enter(): () => void {
    if (this.inFlight >= this.capacity) {
      this.rejected++;
      throw new HttpError(503, `busy: ${this.capacity} image requests are already being processed; retry shortly`, { 'retry-after': String(this.retryAfterSeconds) });
    }
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }
}
