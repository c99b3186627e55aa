/**
 * A minimal study server for the uplink tests: node:http on 127.0.0.1, the routes of
 * runtime/server/PROTOCOL.md, batches merged into a real study database with `collectInto` (so a
 * duplicate or a gap shows up as it would on the real server). It can misbehave on demand: answer
 * 500 (with Retry-After), hang, cut the connection, take a batch and lose the answer, answer 401
 * revoked, answer 409 gap (as a server restored from an older backup would), or stop listening
 * altogether and come back on the same port.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { collectInto, openStudyStore, type SqliteStore } from '../../data/index.js';

/** How the server answers the next requests. */
export type ServerMode = 'ok' | 'fail' | 'hang' | 'cut' | 'lose-answer' | 'revoked' | 'gap';

/** What the server has seen. */
export interface SeenRequest {
  method: string;
  path: string;
  auth: string | null;
  status: number | 'hung' | 'cut';
}

export class FixtureServer {
  mode: ServerMode = 'ok';
  /** Apply `mode` only to routes ending so (e.g. '/batches'); others answer normally. */
  modeRoute: string | null = null;
  readonly requests: SeenRequest[] = [];
  readonly heartbeats: unknown[] = [];
  /** Batches merged, as `seqFrom-seqTo` with the rows added. */
  readonly batches: { range: string; added: number }[] = [];
  readonly alerts = new Map<string, unknown>();
  readonly tokens = new Map<string, string>();
  readonly codes = new Set<string>();
  readonly study: SqliteStore;
  /** Requests waiting forever in `hang` mode (ended by `close`). */
  private readonly hung: ServerResponse[] = [];
  /** Called when a hanging request arrives. */
  onHang: (() => void) | null = null;
  private server: Server | null = null;
  port = 0;
  private uploads = 0;

  constructor(private readonly dir: string) {
    this.study = openStudyStore(join(dir, 'study.sqlite'));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A device token the server accepts for `deviceId`. */
  issueToken(deviceId: string): string {
    const token = `hth_${randomBytes(32).toString('base64url')}`;
    this.tokens.set(token, deviceId);
    return token;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(this.port, '127.0.0.1', () => ok());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stop listening (connections refused) and drop every open connection, hung ones included. */
  async down(): Promise<void> {
    for (const res of this.hung.splice(0)) res.destroy();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  }

  async close(): Promise<void> {
    await this.down();
    this.study.close();
  }

  count(route: string): number {
    return this.requests.filter((r) => r.path.endsWith(route)).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const seen: SeenRequest = { method: req.method ?? '', path, auth: req.headers.authorization ?? null, status: 0 };
    this.requests.push(seen);
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      seen.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(json));
    };
    const mode = this.modeRoute === null || path.endsWith(this.modeRoute) ? this.mode : 'ok';
    if (mode === 'hang' && path !== '/api/v1/enroll') {
      seen.status = 'hung';
      this.hung.push(res);
      this.onHang?.();
      return;
    }
    if (mode === 'cut') {
      seen.status = 'cut';
      req.socket.destroy();
      return;
    }
    if (mode === 'fail') return send(500, { error: 'internal', message: 'the fixture was told to fail' }, { 'retry-after': '0' });

    if (req.method === 'POST' && path === '/api/v1/enroll') {
      const b = JSON.parse(body.toString('utf8')) as { code?: string; deviceId?: string };
      if (!b.code || !this.codes.has(b.code) || !b.deviceId) return send(401, { error: 'unauthorized', message: 'unknown, used or expired code' });
      this.codes.delete(b.code);
      return send(201, { deviceId: b.deviceId, token: this.issueToken(b.deviceId), serverTimeMs: Date.now() });
    }
    const m = /^\/api\/v1\/devices\/([^/]+)\/(cursor|heartbeat|batches|alerts)$/.exec(path);
    if (!m) return send(404, { error: 'not_found', message: path });
    const deviceId = decodeURIComponent(m[1]!);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (mode === 'revoked') return send(401, { error: 'revoked', message: 'this device token was revoked' });
    if (!token || !this.tokens.has(token)) return send(401, { error: 'unauthorized', message: 'no or unknown token' });
    if (this.tokens.get(token) !== deviceId) return send(403, { error: 'forbidden', message: 'another device' });

    switch (m[2]) {
      case 'cursor':
        return send(200, { lastSeq: this.lastSeq(deviceId), serverTimeMs: Date.now() });
      case 'heartbeat':
        this.heartbeats.push(JSON.parse(body.toString('utf8')));
        return send(200, { receivedTsUtc: new Date().toISOString(), serverTimeMs: Date.now() });
      case 'alerts': {
        const key = String(req.headers['idempotency-key'] ?? '');
        if (!this.alerts.has(key)) this.alerts.set(key, JSON.parse(body.toString('utf8')));
        return send(200, { received: true, acknowledged: false });
      }
      case 'batches': {
        // Once: a restored server answers the gap, then takes the batch rebuilt from its cursor.
        if (mode === 'gap') this.mode = 'ok';
        if (mode === 'gap') return send(409, { error: 'gap', message: 'the batch starts above the server\'s cursor', lastSeq: this.lastSeq(deviceId) });
        if (req.headers['content-encoding'] !== 'gzip' || req.headers['content-type'] !== 'application/vnd.hearth.increment+sqlite') {
          return send(400, { error: 'bad_request', message: 'not a gzipped increment' });
        }
        const file = join(this.dir, `upload-${++this.uploads}.sqlite`);
        writeFileSync(file, gunzipSync(body));
        const result = await collectInto(this.study, file, { private: true, onlyDevice: deviceId, label: `uplink:${deviceId}:${req.headers['x-hearth-batch']}` });
        if (result.status !== 'collected') return send(400, { error: 'bad_increment', message: result.problem });
        const d = result.devices[0];
        const added = d ? Object.values(d.added).reduce((a, b) => a + b, 0) : 0;
        this.batches.push({ range: String(req.headers['x-hearth-batch']), added });
        if (mode === 'lose-answer') {
          seen.status = 'cut';
          req.socket.destroy();
          return;
        }
        const sum = (c: Record<string, number> | undefined) => Object.values(c ?? {}).reduce((a, b) => a + b, 0);
        return send(200, { lastSeq: this.lastSeq(deviceId), added, updated: sum(d?.updated), deleted: sum(d?.deleted), purged: 0 });
      }
    }
  }

  private lastSeq(deviceId: string): number {
    return this.study.stats.lastSeq(deviceId) ?? 0;
  }
}
