/**
 * The device routes of runtime/server/PROTOCOL.md: enroll, cursor, heartbeat, alerts, batches. The
 * token is checked in `onRequest`, before the body is read, so an unauthenticated client never gets
 * as far as parsing, spooling or the database.
 */
import { randomUUID } from 'node:crypto';
import { open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checksWithoutWords, isoUtc } from '../../data/index.js';
import { readIncrementHeader, type HeartbeatInput, type IncrementHeader } from '../../data/server/index.js';
import { fail, type ServerContext } from './app.js';
import { isDiskFull } from './merge-queue.js';
import { AttemptWindow } from './attempt-window.js';
import { alertBody, alertHeaders, batchHeaders, deviceParams, enrollBody, heartbeatBody } from './schemas.js';

/** The media type of an increment upload. */
export const INCREMENT_MEDIA_TYPE = 'application/vnd.hearth.increment+sqlite';
/** Upload limits (PROTOCOL.md): 16 MiB as sent, 64 MiB inflated. */
export const MAX_BATCH_COMPRESSED = 16 * 1024 * 1024;
export const MAX_BATCH_INFLATED = 64 * 1024 * 1024;
/** zlib's output chunk when an upload is inflated to check its header: one or two chunks an increment. */
const INFLATE_CHUNK = 1024 * 1024;
/**
 * Uploads inflated in memory at once. Each holds at most MAX_BATCH_INFLATED (an increment is about
 * 1.2 MB), so a burst of large uploads stays within a bounded amount of memory; zlib runs on libuv's
 * four threads anyway.
 */
const INFLATING_AT_ONCE = 4;
/** Upload bodies (compressed) held in memory at once, in bytes: 16 MiB is about a hundred increments. */
const BODIES_IN_MEMORY = 16 * 1024 * 1024;
/** How long a reading of the spool's free space is reused: one statfs a second, not one an upload. */
const FREE_SPACE_TTL_MS = 1000;

declare module 'fastify' {
  interface FastifyRequest {
    /** The device the bearer token belongs to (device routes only). */
    deviceId: string | null;
  }
}

/** The bearer token of a request, or null. */
export function bearerToken(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(h.trim());
  return m ? m[1]! : null;
}


const gunzipAsync = promisify(gunzip) as (buf: Buffer, o: { chunkSize: number; maxOutputLength: number }) => Promise<Buffer>;

/** Units (bytes, or uploads) reserved by requests in flight; a reservation waits, in order, until it fits. */
class Budget {
  #free: number;
  readonly #waiting: { bytes: number; ok: () => void }[] = [];
  constructor(readonly total: number) {
    this.#free = total;
  }
  async reserve(bytes: number): Promise<() => void> {
    const n = Math.min(bytes, this.total);
    if (this.#waiting.length || this.#free < n) await new Promise<void>((ok) => this.#waiting.push({ bytes: n, ok }));
    else this.#free -= n;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#free += n;
      while (this.#waiting.length && this.#free >= this.#waiting[0]!.bytes) {
        const w = this.#waiting.shift()!;
        this.#free -= w.bytes;
        w.ok();
      }
    };
  }
}

class LimitExceeded extends Error {}

/** A request body, refused past `max` bytes. */
async function readBody(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += (chunk as Buffer).length;
    if (bytes > max) throw new LimitExceeded(`compressed body larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes);
}

/** Write `bytes` to a new file and fsync it (one file handle, no stream). */
async function writeDurably(file: string, bytes: Buffer): Promise<void> {
  const fh = await open(file, 'wx', 0o600);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Inflate an upload in memory (at most MAX_BATCH_INFLATED) and read its increment header. */
async function checkIncrement(gz: Buffer): Promise<{ ok: true; header: IncrementHeader } | { ok: false; status: 400 | 413; error: string; problem: string }> {
  let inflated: Buffer;
  try {
    inflated = await gunzipAsync(gz, { chunkSize: INFLATE_CHUNK, maxOutputLength: MAX_BATCH_INFLATED });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) return { ok: false, status: 413, error: 'too-large', problem: `inflated body larger than ${MAX_BATCH_INFLATED} bytes` };
    if (err.code?.startsWith('Z_')) return { ok: false, status: 400, error: 'not-gzip', problem: `the body is not gzip data (${err.message})` };
    throw e;
  }
  const h = readIncrementHeader(inflated);
  return h.ok ? h : { ok: false, status: 400, error: 'not-an-increment', problem: h.problem };
}

/** Register the device routes on `app`. */
export function registerDeviceRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.decorateRequest('deviceId', null);
  // Failed enrollments per address: a code has 100 bits, but there is no reason to let anyone try many.
  const enrollFailures = new AttemptWindow({ max: 10, windowMs: 15 * 60_000, now: ctx.now });
  const inflating = new Budget(INFLATING_AT_ONCE);
  const bodies = new Budget(BODIES_IN_MEMORY);
  let free: { bytes: number; at: number } | null = null;
  const freeSpool = async (): Promise<number> => {
    const at = performance.now();
    if (free && at - free.at < FREE_SPACE_TTL_MS) return free.bytes;
    const fs = await statfs(ctx.spoolDir);
    free = { bytes: fs.bavail * fs.bsize, at };
    return free.bytes;
  };

  const deviceAuth = async (req: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(req);
    if (!token) {
      reply.header('WWW-Authenticate', 'Bearer');
      return fail(reply, 401, 'unauthorized', 'no device token: send Authorization: Bearer hth_…');
    }
    const auth = ctx.records.authenticateDevice(token);
    if (auth.status === 'unknown') {
      reply.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      return fail(reply, 401, 'unauthorized', 'unknown device token');
    }
    if (auth.status === 'revoked') return fail(reply, 401, 'revoked', `the token of device ${auth.deviceId} was revoked; enroll the device again`);
    const routeDevice = (req.params as { deviceId?: string }).deviceId;
    if (routeDevice !== auth.deviceId) return fail(reply, 403, 'forbidden', `this token belongs to device ${auth.deviceId}, not ${routeDevice ?? '(none)'}`);
    req.deviceId = auth.deviceId;
  };

  app.post('/api/v1/enroll', { schema: { body: enrollBody }, bodyLimit: 4096 }, async (req, reply) => {
    const address = req.ip;
    const wait = enrollFailures.blockedForMs(address);
    if (wait > 0) {
      reply.header('Retry-After', String(Math.ceil(wait / 1000)));
      return fail(reply, 429, 'too-many-attempts', 'too many failed enrollments from this address; try again later');
    }
    const body = req.body as { code: string; deviceId: string; hearthVersion: string };
    const result = ctx.records.redeemEnrollmentCode(body);
    if (result.status === 'invalid') {
      enrollFailures.add(address);
      return fail(reply, 401, 'invalid-code', 'unknown, used or expired enrollment code');
    }
    if (result.status === 'bound-elsewhere') {
      enrollFailures.add(address);
      return fail(reply, 409, 'code-bound', `this code enrolls only device ${result.boundDeviceId}`);
    }
    ctx.records.audit({ actor: `device:${result.deviceId}`, action: 'device.enrolled', target: result.deviceId, address, detail: { hearthVersion: body.hearthVersion } });
    return reply.code(201).send({ deviceId: result.deviceId, token: result.token, serverTimeMs: ctx.now() });
  });

  app.get('/api/v1/devices/:deviceId/cursor', { onRequest: deviceAuth, schema: { params: deviceParams } }, async (req) => ({
    lastSeq: ctx.merges.cursor(req.deviceId!), serverTimeMs: ctx.now(),
  }));

  app.post('/api/v1/devices/:deviceId/heartbeat', { onRequest: deviceAuth, schema: { params: deviceParams, body: heartbeatBody }, bodyLimit: 16 * 1024 }, async (req, reply) => {
    const receivedMs = ctx.now();
    try {
      ctx.records.recordHeartbeat(req.deviceId!, req.body as HeartbeatInput, receivedMs);
    } catch (e) {
      if (isDiskFull(e)) return diskFull(reply);
      throw e;
    }
    return { receivedTsUtc: isoUtc(receivedMs), serverTimeMs: ctx.now() };
  });

  app.post('/api/v1/devices/:deviceId/alerts', { onRequest: deviceAuth, schema: { params: deviceParams, headers: alertHeaders, body: alertBody } }, async (req, reply) => {
    const envelope = req.body as { deviceId: string; incident: Record<string, unknown> & { incidentId: string; kind: string; severity: string; eventDate: string } };
    const i = envelope.incident;
    if (envelope.deviceId !== req.deviceId || (i.deviceId !== undefined && i.deviceId !== req.deviceId)) {
      return fail(reply, 400, 'wrong-device', `the alert names device ${envelope.deviceId}${i.deviceId !== undefined ? `/${String(i.deviceId)}` : ''}, but the route and token are device ${req.deviceId}`);
    }
    if (req.headers['idempotency-key'] !== i.incidentId) {
      return fail(reply, 400, 'bad-request', `Idempotency-Key ${String(req.headers['idempotency-key'])} is not the incident id ${i.incidentId}`);
    }
    let receipt;
    try {
      receipt = ctx.records.receiveAlert(req.deviceId!, {
        incidentId: i.incidentId, kind: i.kind, severity: i.severity, eventDate: i.eventDate,
        participantId: (i.participantId as string | null | undefined) ?? null, sessionId: (i.sessionId as string | null | undefined) ?? null,
        reportDueBy: (i.reportDueBy as string | null | undefined) ?? null,
        // Only check names, versions, scores, decisions and cue ids are kept: never the evidence text.
        checks: checksWithoutWords(i.checks),
      });
    } catch (e) {
      if (isDiskFull(e)) return diskFull(reply);
      throw e;
    }
    if (receipt.status === 'other-device') return fail(reply, 409, 'incident-conflict', `incident ${i.incidentId} was already received from another device`);
    return { received: true, acknowledged: receipt.acknowledged };
  });

  // The body is handed to the route as the raw stream: it is inflated to a file with limits, never buffered.
  app.addContentTypeParser(INCREMENT_MEDIA_TYPE, (_req, payload, done) => done(null, payload));

  app.post('/api/v1/devices/:deviceId/batches', { onRequest: deviceAuth, schema: { params: deviceParams, headers: batchHeaders } }, async (req, reply) => {
    const deviceId = req.deviceId!;
    const [from, to] = (req.headers['x-hearth-batch'] as string).split('-').map(Number) as [number, number];
    if (to < from) return fail(reply, 400, 'bad-request', `X-Hearth-Batch ${from}-${to}: the range is reversed`);
    const length = Number(req.headers['content-length'] ?? NaN);
    if (length > MAX_BATCH_COMPRESSED) return tooLarge(reply, `body of ${length} bytes is larger than ${MAX_BATCH_COMPRESSED}`);
    try {
      if ((await freeSpool()) < ctx.minFreeBytes) return diskFull(reply);
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      return diskFull(reply);
    }
    // Read into memory (within a budget, so a burst of large uploads waits rather than piles up),
    // then at once written to the spool as sent (gzip, fsynced, under a name of its own: a start
    // sweeps `batch-*` left by a crash) and inflated in memory only to check its header. It stays
    // compressed: the merge inflates it again behind. Writing and fsyncing 160 kB rather than 1.2 MB,
    // with no streams, is what lets 50 uploads at once be answered quickly (runtime/server/README.md,
    // "Scale and performance").
    const gzFile = join(ctx.spoolDir, `batch-${randomUUID()}.sqlite.gz`);
    const received = ctx.merges.receiving();
    const release = await bodies.reserve(Number.isFinite(length) ? length : MAX_BATCH_COMPRESSED);
    try {
      let body: Buffer;
      try {
        body = await readBody(req.body as Readable, MAX_BATCH_COMPRESSED);
      } catch (e) {
        if (e instanceof LimitExceeded) return tooLarge(reply, e.message);
        throw e;
      }
      const check = async () => {
        const done = await inflating.reserve(1);
        try {
          return await checkIncrement(body);
        } finally {
          done();
        }
      };
      const [written, checked] = await Promise.allSettled([writeDurably(gzFile, body), check()]);
      if (written.status === 'rejected') {
        if (isDiskFull(written.reason)) return diskFull(reply);
        throw written.reason;
      }
      if (checked.status === 'rejected') throw checked.reason;
      const head = checked.value;
      if (!head.ok) {
        if (head.status === 413) return tooLarge(reply, head.problem);
        return fail(reply, 400, head.error, head.problem);
      }
      if (head.header.deviceId !== deviceId) return fail(reply, 400, 'wrong-device', `the increment is of device ${head.header.deviceId}, but the route and token are device ${deviceId}`);
      if (head.header.seqFrom !== from || head.header.seqTo !== to) {
        return fail(reply, 400, 'bad-request', `X-Hearth-Batch ${from}-${to} does not match the increment's seq range ${head.header.seqFrom}-${head.header.seqTo}`);
      }
      // Rows must follow on from what the server holds or has acknowledged; the merge itself runs behind.
      const cursor = ctx.merges.cursor(deviceId);
      if (head.header.seqFrom > cursor) {
        return fail(reply, 409, 'gap', `batch ${from}-${to} starts above the server's cursor: it holds this device's rows up to seq ${cursor}; resend from there`, { lastSeq: cursor });
      }
      try {
        await ctx.merges.accept(deviceId, from, to, gzFile);
      } catch (e) {
        if (isDiskFull(e)) return diskFull(reply);
        throw e;
      }
      return reply.code(202).send({ lastSeq: Math.max(cursor, to), queued: ctx.merges.depth });
    } finally {
      release();
      received();
      await rm(gzFile, { force: true });
    }
  });
}

function tooLarge(reply: FastifyReply, message: string): FastifyReply {
  // The rest of the body is not read: close the connection rather than drain up to the limit again.
  reply.header('Connection', 'close');
  return fail(reply, 413, 'too-large', message);
}

function diskFull(reply: FastifyReply): FastifyReply {
  reply.header('Retry-After', '600');
  return fail(reply, 507, 'disk-full', 'the server is short of disk space; nothing was written; retry later');
}
