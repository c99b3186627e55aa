/**
 * The device routes of runtime/server/PROTOCOL.md: enroll, cursor, heartbeat, alerts, batches. The
 * token is checked in `onRequest`, before the body is read, so an unauthenticated client never gets
 * as far as parsing, spooling or the database.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checksWithoutWords, isoUtc } from '../../data/index.js';
import { readIncrementHeader, type HeartbeatInput } from '../../data/server/index.js';
import { fail, type ServerContext } from './app.js';
import { isDiskFull } from './merge-queue.js';
import { AttemptWindow } from './attempt-window.js';
import { alertBody, alertHeaders, batchHeaders, deviceParams, enrollBody, heartbeatBody } from './schemas.js';

/** The media type of an increment upload. */
export const INCREMENT_MEDIA_TYPE = 'application/vnd.hearth.increment+sqlite';
/** Upload limits (PROTOCOL.md): 16 MiB as sent, 64 MiB inflated. */
export const MAX_BATCH_COMPRESSED = 16 * 1024 * 1024;
export const MAX_BATCH_INFLATED = 64 * 1024 * 1024;

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


/** A byte counter that fails the stream once more than `max` bytes passed. */
class ByteLimit extends Transform {
  bytes = 0;
  constructor(readonly max: number, readonly what: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) done(new LimitExceeded(`${this.what} body larger than ${this.max} bytes`));
    else done(null, chunk);
  }
}
class LimitExceeded extends Error {}

/** A disk-full error from Node or SQLite. */

/** Register the device routes on `app`. */
export function registerDeviceRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.decorateRequest('deviceId', null);
  // Failed enrollments per address: a code has 100 bits, but there is no reason to let anyone try many.
  const enrollFailures = new AttemptWindow({ max: 10, windowMs: 15 * 60_000, now: ctx.now });

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
      const fs = await statfs(ctx.spoolDir);
      if (fs.bavail * fs.bsize < ctx.minFreeBytes) return diskFull(reply);
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      return diskFull(reply);
    }
    let dir: string;
    try {
      dir = await mkdtemp(join(ctx.spoolDir, 'batch-'));
    } catch (e) {
      if (isDiskFull(e)) return diskFull(reply);
      throw e;
    }
    const received = ctx.merges.receiving();
    try {
      const file = join(dir, 'increment.sqlite');
      try {
        await pipeline(req.body as Readable, new ByteLimit(MAX_BATCH_COMPRESSED, 'compressed'), createGunzip(), new ByteLimit(MAX_BATCH_INFLATED, 'inflated'),
          createWriteStream(file, { flags: 'wx', mode: 0o600 }));
      } catch (e) {
        if (e instanceof LimitExceeded) return tooLarge(reply, e.message);
        if (isDiskFull(e)) return diskFull(reply);
        if ((e as NodeJS.ErrnoException).code?.startsWith('Z_')) return fail(reply, 400, 'not-gzip', `the body is not gzip data (${(e as Error).message})`);
        throw e;
      }
      const head = readIncrementHeader(file);
      if (!head.ok) return fail(reply, 400, 'not-an-increment', head.problem);
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
        await ctx.merges.accept(deviceId, from, to, file);
      } catch (e) {
        if (isDiskFull(e)) return diskFull(reply);
        throw e;
      }
      return reply.code(202).send({ lastSeq: Math.max(cursor, to), queued: ctx.merges.depth });
    } finally {
      received();
      await rm(dir, { recursive: true, force: true });
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
