/**
 * `hearth serve`: the study server. Devices enroll, report heartbeats and alerts and upload data
 * increments (runtime/server/PROTOCOL.md); study staff log in to a server-rendered dashboard. One
 * fastify instance, one open study database (the same file `hearth collect` writes), merged through
 * the same function (`collectInto`).
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { openStudyStore, type SqliteStore } from '../../data/index.js';
import { DashboardQueries, ServerRecords } from '../../data/server/index.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { registerDeviceRoutes } from './device-routes.js';
import { MergeQueue } from './merge-queue.js';
import { messagePage } from './pages.js';

/** How logins are limited. */
export interface LoginPolicy {
  /** Failed logins of one user name within `windowMs` that lock it. */
  maxFailures: number;
  windowMs: number;
  /** How long the lock lasts after the last counted failure. */
  lockMs: number;
  /** Failed logins from one address within `windowMs` after which it gets 429 whatever the name. */
  maxFailuresPerAddress: number;
  /** A login session ends this long after it began, or after `idleMs` without a request. */
  sessionMs: number;
  idleMs: number;
}

/** The defaults: 5 failures in 15 minutes lock a name for 15 minutes; 20 from one address give 429. */
export const DEFAULT_LOGIN_POLICY: LoginPolicy = {
  maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000, maxFailuresPerAddress: 20, sessionMs: 12 * 3_600_000, idleMs: 60 * 60_000,
};

/** Options of `startServer`. */
export interface ServerOptions {
  /** The study database (created when absent, as `hearth collect --into` does). */
  db: string;
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  /** PEM certificate and key: serve HTTPS directly, and mark cookies Secure. */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** Trust X-Forwarded-For/-Proto from a reverse proxy on this host (TLS terminated by Caddy, nginx…). */
  trustProxy?: boolean;
  /** The server's clock (receive times, expiry, lockout). */
  now?: () => number;
  /** Written into collection records and shown nowhere else. */
  hearthVersion?: string;
  /** Where uploads are inflated before merging (default: a folder beside the study database). */
  spoolDir?: string;
  /** Uploads are refused with 507 while the spool's file system has less free space than this. */
  minFreeBytes?: number;
  login?: Partial<LoginPolicy>;
  /** Where server faults are written (default: stderr). */
  log?: (line: string) => void;
}

/** A running server. */
export interface HearthServer {
  app: FastifyInstance;
  /** `http://127.0.0.1:PORT` (or https). */
  url: string;
  study: SqliteStore;
  records: ServerRecords;
  /** Acknowledged batches merged behind the answers (merge-queue.ts); `drained()` waits for them. */
  merges: MergeQueue;
  close(): Promise<void>;
}

/** What every route needs. */
export interface ServerContext {
  dbPath: string;
  study: SqliteStore;
  records: ServerRecords;
  queries: DashboardQueries;
  now: () => number;
  hearthVersion: string;
  spoolDir: string;
  merges: MergeQueue;
  minFreeBytes: number;
  login: LoginPolicy;
  tls: boolean;
  log: (line: string) => void;
}

/** Request bodies beyond this (JSON, forms) get 413; batches have their own limits (PROTOCOL.md). */
export const BODY_LIMIT = 256 * 1024;

/** Every answer that is not 2xx on an API route: `{"error": code, "message": line}` (PROTOCOL.md). */
export function fail(reply: FastifyReply, status: number, error: string, message: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error, message, ...extra });
}

const isApi = (req: FastifyRequest) => req.url.startsWith('/api/');

/** Start the study server and listen. */
export async function startServer(o: ServerOptions): Promise<HearthServer> {
  const dbPath = resolve(o.db);
  const study = openStudyStore(dbPath);
  const now = o.now ?? Date.now;
  let records: ServerRecords;
  try {
    records = ServerRecords.open(study, now);
  } catch (e) {
    study.close();
    throw e;
  }
  const spoolDir = resolve(o.spoolDir ?? join(dirname(dbPath), `.${basename(dbPath)}.uploads`));
  mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
  // Uploads left by a server that stopped mid-request: never merged, so safe to drop.
  for (const entry of readdirSync(spoolDir)) if (entry.startsWith('batch-')) rmSync(join(spoolDir, entry), { recursive: true, force: true });
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const merges = new MergeQueue({ study, records, spoolDir, now, hearthVersion: o.hearthVersion ?? 'dev', log });
  const ctx: ServerContext = {
    dbPath, study, records, queries: new DashboardQueries(study), now, hearthVersion: o.hearthVersion ?? 'dev', spoolDir, merges,
    minFreeBytes: o.minFreeBytes ?? 256 * 1024 * 1024, login: { ...DEFAULT_LOGIN_POLICY, ...o.login }, tls: o.tls !== undefined,
    log,
  };
  const app = buildApp(ctx, o);
  try {
    await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 8750 });
  } catch (e) {
    await app.close();
    await merges.stop();
    study.close();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port ?? 8750;
  const host = o.host ?? '127.0.0.1';
  const url = `${o.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closed = false;
  return {
    app, url, study, records, merges,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      // The merge in progress finishes; batches still pending stay in the spool for the next start.
      await merges.stop();
      study.close();
    },
  };
}

function buildApp(ctx: ServerContext, o: ServerOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    // Only a proxy on this machine may set the client address and scheme.
    trustProxy: o.trustProxy ? ['127.0.0.1', '::1'] : false,
    // A slow client cannot hold a connection open forever (an upload of 16 MiB over a poor home line still fits).
    requestTimeout: 120_000,
    connectionTimeout: 130_000,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    ...(o.tls ? { https: { cert: o.tls.cert, key: o.tls.key } } : {}),
  }) as unknown as FastifyInstance;

  void app.register(cookie);

  // Forms: URL-encoded, parsed with the platform's URLSearchParams (a dependency would add nothing).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    const form: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(body as string)) form[k] = v;
    done(null, form);
  });

  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('Content-Security-Policy', "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'");
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    if (ctx.tls || req.protocol === 'https') reply.header('Strict-Transport-Security', 'max-age=31536000');
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    // Answered before the whole body arrived (refused upload, bad token): the unread rest would be
    // taken as the next request on a kept-alive connection, so this connection ends with the answer.
    if (!req.raw.complete) reply.header('Connection', 'close');
    return payload;
  });

  app.setErrorHandler((error: FastifyError, req, reply) => {
    const status = error.statusCode ?? 500;
    if (error.validation) {
      const where = error.validationContext ?? 'request';
      return sendError(req, reply, 400, 'bad-request', `${where}${error.validation[0]?.instancePath ?? ''} ${error.validation[0]?.message ?? 'is invalid'}`.trim());
    }
    if (status === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(req, reply, 413, 'too-large', `body larger than ${BODY_LIMIT} bytes`);
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(req, reply, 415, 'unsupported-media-type', `content type ${req.headers['content-type'] ?? '(none)'} is not accepted here`);
    if (status >= 400 && status < 500) return sendError(req, reply, status, 'bad-request', error.message.split('\n')[0] ?? 'bad request');
    ctx.log(`hearth serve: ${req.method} ${req.routeOptions.url ?? req.url}: ${error.stack ?? error.message}`);
    return sendError(req, reply, 500, 'internal', 'the server failed on this request; it was logged');
  });

  app.setNotFoundHandler((req, reply) => sendError(req, reply, 404, 'not-found', `no route ${req.method} ${req.url.split('?')[0]}`));

  registerDeviceRoutes(app, ctx);
  registerDashboardRoutes(app, ctx);
  return app;
}

/** JSON on API routes, a small page elsewhere. */
function sendError(req: FastifyRequest, reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  if (isApi(req)) return fail(reply, status, error, message);
  return reply.code(status).type('text/html; charset=utf-8').send(messagePage(status === 404 ? 'Not found' : 'Request refused', message, null).text);
}
