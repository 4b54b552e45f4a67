/**
 * Who may do what, decided in Fastify's `onRequest` hook: before any body is read, so a refused
 * request costs a header comparison and nothing more (the connection is then closed unread).
 *
 * - Host allowlist (every route): the listen address, localhost, 127.0.0.1 and [::1], the
 *   machine's addresses when listening on a wildcard address, plus `--allowed-host`. A DNS-rebinding
 *   page reaches the server under its own name, so it is refused here.
 * - Origin (every route): a browser request from a page of another origin is refused (a form on
 *   a web site could otherwise post to 127.0.0.1).
 * - Access levels, per route:
 *   `write` (enrol, delete, import) needs FEWSHOT_TOKEN when set;
 *   `read` (export, snapshot, embed, class listings) needs FEWSHOT_READ_TOKEN or FEWSHOT_TOKEN
 *   when either is set; `recognize` (predict, verify) and `public` (health, metrics, model, app)
 *   need none. Without any token the server only listens on loopback.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { FastifyRequest } from 'fastify';
import { HttpError } from './limits.js';

export type Access = 'public' | 'recognize' | 'read' | 'write';

export interface AccessPolicy {
  /** FEWSHOT_TOKEN: writes, and reads too when no read token is set. */
  writeToken?: string;
  /** FEWSHOT_READ_TOKEN: reads (export, snapshot, embed, listings). */
  readToken?: string;
  /** Host names/addresses accepted in the Host header (lower case, no brackets or port); null: any. */
  allowedHosts: Set<string> | null;
}

function bare(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}

export function isLoopbackHost(host: string): boolean {
  const h = bare(host);
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

/**
 * The Host allowlist for a server listening on `listenHost`: loopback names, the listen address
 * (every local address for 0.0.0.0 / ::) and `extra`; `*` in `extra` turns the check off (for a
 * proxy that checks Host itself).
 */
export function hostAllowlist(listenHost: string, extra: readonly string[] = []): Set<string> | null {
  if (extra.includes('*')) return null;
  const hosts = new Set(['localhost', '127.0.0.1', '::1', bare(listenHost), ...extra.map(bare)]);
  if (bare(listenHost) === '0.0.0.0' || bare(listenHost) === '::') {
    for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) hosts.add(bare(a.address.split('%')[0]!));
  }
  return hosts;
}

/** The host part of a Host header ("[::1]:3000" -> "::1"), or null when malformed. */
export function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(header.trim());
  return m ? bare(m[1]!).replace(/\.$/, '') : null;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time token comparison (hashing first makes lengths equal). */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function bearer(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m) throw new HttpError(401, "Authorization header must be 'Bearer <token>'");
  return m[1]!.trim();
}

/** Throws 400/403/401 unless `req` may use a route of level `access`. Reads headers only. */
export function authorize(req: FastifyRequest, access: Access, policy: AccessPolicy): void {
  const host = hostOf(req.headers.host);
  if (host === null) throw new HttpError(400, 'missing or malformed Host header');
  if (policy.allowedHosts && !policy.allowedHosts.has(host)) {
    throw new HttpError(403, `host '${host}' is not served here (DNS rebinding protection); start the server with --allowed-host ${host} if it is yours`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      throw new HttpError(403, `refused: unparseable Origin '${String(origin).slice(0, 100)}'`);
    }
    if (originHost.toLowerCase() !== String(req.headers.host).toLowerCase()) throw new HttpError(403, `refused: request from another origin (${origin})`);
  }
  if (access === 'public' || access === 'recognize') return;
  const { writeToken, readToken } = policy;
  const accepted = access === 'write' ? [writeToken] : readToken ? [readToken, writeToken] : [writeToken];
  const tokens = accepted.filter((t): t is string => Boolean(t));
  if (tokens.length === 0) return;
  const given = bearer(req);
  const which = access === 'write' ? 'FEWSHOT_TOKEN' : readToken ? 'FEWSHOT_READ_TOKEN or FEWSHOT_TOKEN' : 'FEWSHOT_TOKEN';
  if (given === null) throw new HttpError(401, `this ${access === 'write' ? 'write' : 'read'} needs 'Authorization: Bearer <token>' (the ${which} the server was started with)`);
  // Compare against every accepted token (constant time each), so timing says nothing about which.
  let ok = false;
  for (const t of tokens) ok = tokenMatches(given, t) || ok;
  if (!ok) throw new HttpError(401, 'wrong token');
}
