/**
 * Who may change the gallery. With FEWSHOT_TOKEN set, every write needs
 * `Authorization: Bearer <token>`. Without a token the service only runs on a loopback address,
 * and writes from a browser page of another origin are refused (a form on a web page could
 * otherwise post to 127.0.0.1).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { HttpError } from './limits.js';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1';
  return false;
}

/** Throws unless the host is loopback or a token protects writes. */
export function checkBindPolicy(host: string, token: string | undefined): void {
  if (!isLoopbackHost(host) && !token) {
    throw new Error(`refusing to listen on ${host} without a token: set FEWSHOT_TOKEN (writes then need 'Authorization: Bearer <token>') or use 127.0.0.1`);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time token comparison (hashing first makes lengths equal). */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Throws 401/403 unless `req` may write. */
export function authorizeWrite(req: FastifyRequest, token: string | undefined): void {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      throw new HttpError(403, `write refused: unparseable Origin '${origin}'`);
    }
    if (originHost !== req.headers.host) throw new HttpError(403, `write refused: request from another origin (${origin})`);
  }
  if (!token) return;
  const header = req.headers.authorization;
  if (!header) throw new HttpError(401, "this write needs 'Authorization: Bearer <token>' (the FEWSHOT_TOKEN the server was started with)");
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m) throw new HttpError(401, "Authorization header must be 'Bearer <token>'");
  if (!tokenMatches(m[1]!.trim(), token)) throw new HttpError(401, 'wrong token');
}
