/**
 * The device routes of PROTOCOL.md over real HTTP on 127.0.0.1, on a real study database: tokens,
 * scopes, enrollment codes, validation and limits, alerts once per incident, and increments built by
 * the device-side builder (data/uplink/increment.ts) from a device file written through the store API.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { buildIncrement, collectionsOf } from '../../data/index.js';
import { FixtureDevice, T0 } from '../../data/uplink/device.fixture.js';
import { DashboardQueries } from '../../data/server/index.js';
import { startServer } from './app.js';
import { INCREMENT_MEDIA_TYPE } from './device-routes.js';
import { MAX_DEFER_MS } from './merge-queue.js';
import { enrollDevice, testServer } from './server.fixture.js';

type Server = Awaited<ReturnType<typeof testServer>>;
let server: Server | undefined;
afterEach(async () => {
  await server?.cleanup();
  server = undefined;
});

const heartbeat = (over: Record<string, unknown> = {}) => ({
  tsUtc: new Date().toISOString(), deviceClockMs: Date.now(), clockSource: 'ntp', clockOffsetMs: 12, hearthVersion: '0.1.0', protocolHash: 'sha256:abc',
  freeDiskBytes: 9e9, dbBytes: 1e6, lastSession: { sessionId: 'P01-d1', status: 'completed', tsUtc: new Date().toISOString() },
  perception: 'camera ok, microphone ok', safeguards: 'rules+model', alertOutbox: 0, uplinkBacklogRows: 0, ...over,
});

const envelope = (deviceId: string, incidentId: string) => ({
  hearthAlert: 1, deviceId,
  incident: {
    incidentId, kind: 'crisis', severity: 'serious', participantId: 'P01', deviceId, sessionId: 'P01-d1', turnId: 3, eventDate: new Date().toISOString(),
    staffLearnedDate: null, description: 'The participant said something the safeguard layer read as suicidal thoughts.', robotAction: 'gave 988',
    checks: [{ check: 'crisis', version: '1', score: 0.93, threshold: 0.5, decision: 'flag', evidenceSpan: { cue: 'crisis.not-here', text: 'I do not want to be here anymore' } }],
    resolution: null, harm: 'unknown', causality: 'not yet assessed', reportDueBy: null,
  },
});

async function call(path: string, o: { method?: string; token?: string | null; json?: unknown; body?: string | Buffer; headers?: Record<string, string | undefined> } = {}) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) headers[k] = v;
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.json !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(server!.url + path, { method: o.method ?? (o.json !== undefined || o.body !== undefined ? 'POST' : 'GET'), headers, body: o.json !== undefined ? JSON.stringify(o.json) : o.body ?? null });
  const text = await r.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: r.status, body, headers: r.headers };
}

/** Every device route of device `id`, with a valid body for each. */
const deviceRoutes = (id: string) => [
  { path: `/api/v1/devices/${id}/cursor` },
  { path: `/api/v1/devices/${id}/heartbeat`, json: heartbeat() },
  { path: `/api/v1/devices/${id}/alerts`, json: envelope(id, 'inc-x'), headers: { 'idempotency-key': 'inc-x' } },
  { path: `/api/v1/devices/${id}/batches`, body: gzipSync(Buffer.from('x')), headers: { 'content-type': INCREMENT_MEDIA_TYPE, 'content-encoding': 'gzip', 'x-hearth-batch': '0-1' } },
];

describe('device tokens and scopes', () => {
  it('answers 401 on every device route without a token, with a wrong one and with a revoked one, and 403 for another device', async () => {
    server = await testServer();
    const token = await enrollDevice(server, 'dev-a');
    const other = await enrollDevice(server, 'dev-b');
    for (const route of deviceRoutes('dev-a')) {
      const none = await call(route.path, { ...route, token: null });
      expect(none.status, `${route.path} without a token`).toBe(401);
      expect(none.body.error).toBe('unauthorized');
      const wrong = await call(route.path, { ...route, token: `hth_${'A'.repeat(43)}` });
      expect(wrong.status, `${route.path} with a wrong token`).toBe(401);
      const foreign = await call(route.path, { ...route, token: other });
      expect(foreign.status, `${route.path} with dev-b's token`).toBe(403);
      expect(foreign.body.error).toBe('forbidden');
    }
    expect((await call('/api/v1/devices/dev-a/cursor', { token })).status).toBe(200);
    server.records.revokeDevice('dev-a', 'test');
    for (const route of deviceRoutes('dev-a')) {
      const revoked = await call(route.path, { ...route, token });
      expect(revoked.status, `${route.path} with a revoked token`).toBe(401);
      expect(revoked.body.error).toBe('revoked');
    }
    // dev-b is untouched by dev-a's revocation.
    expect((await call('/api/v1/devices/dev-b/cursor', { token: other })).status).toBe(200);
  });

  it('refuses a device token on every staff route with 403, and reads it nothing', async () => {
    server = await testServer();
    const token = await enrollDevice(server, 'dev-a');
    for (const [method, path] of [['GET', '/'], ['GET', '/adherence'], ['GET', '/devices/dev-a'], ['GET', '/export'], ['GET', '/export/sessions.csv'],
      ['POST', '/alerts/inc-1/acknowledge'], ['POST', '/logout']] as const) {
      const r = await call(path, { method, token, ...(method === 'POST' ? { body: 'csrf=x&note=y', headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}) });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(JSON.stringify(r.body)).not.toContain('dev-a</');
    }
  });
});

describe('enrollment', () => {
  it('takes a code once, stores neither code nor token in clear, and honours expiry and a bound device id', async () => {
    let now = T0;
    server = await testServer({ now: () => now });
    const { code } = server.records.createEnrollmentCode({ expiresInMs: 3_600_000, createdBy: 'test' });
    const first = await call('/api/v1/enroll', { json: { code: code.toLowerCase(), deviceId: 'dev-a', hearthVersion: '0.1.0' } });
    expect(first.status).toBe(201);
    const token = first.body.token as string;
    expect(token).toMatch(/^hth_[A-Za-z0-9_-]{43}$/);
    expect(first.body.serverTimeMs).toBe(T0);
    const again = await call('/api/v1/enroll', { json: { code, deviceId: 'dev-a', hearthVersion: '0.1.0' } });
    expect(again.status).toBe(401);
    expect(again.body.error).toBe('invalid-code');

    const later = server.records.createEnrollmentCode({ expiresInMs: 60_000, createdBy: 'test' });
    now += 61_000;
    expect((await call('/api/v1/enroll', { json: { code: later.code, deviceId: 'dev-c', hearthVersion: '0.1.0' } })).status).toBe(401);

    const bound = server.records.createEnrollmentCode({ deviceId: 'dev-b', expiresInMs: 60_000, createdBy: 'test' });
    expect((await call('/api/v1/enroll', { json: { code: bound.code, deviceId: 'dev-z', hearthVersion: '0.1.0' } })).status).toBe(409);
    const ok = await call('/api/v1/enroll', { json: { code: bound.code, deviceId: 'dev-b', hearthVersion: '0.1.0' } });
    expect(ok.status).toBe(201);

    // Re-enrolling dev-a with a new code replaces its token.
    const re = server.records.createEnrollmentCode({ expiresInMs: 60_000, createdBy: 'test' });
    const second = await call('/api/v1/enroll', { json: { code: re.code, deviceId: 'dev-a', hearthVersion: '0.1.1' } });
    expect((await call('/api/v1/devices/dev-a/cursor', { token })).body.error).toBe('revoked');
    expect((await call('/api/v1/devices/dev-a/cursor', { token: second.body.token as string })).status).toBe(200);

    const db = server.study.path;
    await server.close();
    const bytes = readFileSync(db).toString('latin1');
    for (const secret of [token, second.body.token as string, code, code.replace(/-/g, '')]) expect(bytes).not.toContain(secret);
  });

  it('answers 429 after ten failed codes from one address, and 400 to a malformed body', async () => {
    server = await testServer();
    for (let i = 0; i < 10; i++) expect((await call('/api/v1/enroll', { json: { code: `WRONG-${i}`, deviceId: 'dev-a', hearthVersion: '1' } })).status).toBe(401);
    const limited = await call('/api/v1/enroll', { json: { code: 'WRONG', deviceId: 'dev-a', hearthVersion: '1' } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    for (const json of [{ code: 'x' }, { code: 'x', deviceId: 'a/b', hearthVersion: '1' }, { code: 'x', deviceId: 'a', hearthVersion: '1', admin: true }, [1, 2]]) {
      const r = await call('/api/v1/enroll', { json });
      expect(r.status, JSON.stringify(json)).toBe(400);
      expect(r.body.error).toBe('bad-request');
    }
  });
});

describe('heartbeats', () => {
  it('stores a heartbeat with the server receive time, and refuses malformed or oversized bodies with 400/413 without a crash', async () => {
    const now = T0 + 3_600_000;
    server = await testServer({ now: () => now });
    const token = await enrollDevice(server, 'dev-a');
    const path = '/api/v1/devices/dev-a/heartbeat';
    // The device's clock is years off: stored as sent, flagged by the skew against the server's time.
    const ok = await call(path, { token, json: heartbeat({ deviceClockMs: Date.UTC(2020, 0, 1), tsUtc: '2020-01-01T00:00:00.000Z', clockSource: 'unsynced' }) });
    expect(ok.status).toBe(200);
    expect(ok.body.receivedTsUtc).toBe(new Date(now).toISOString());
    const [hb] = new DashboardQueries(server.study).heartbeats('dev-a');
    expect(hb!.receivedMs).toBe(now);
    expect(hb!.deviceTsUtc).toBe('2020-01-01T00:00:00.000Z');
    expect(hb!.skewMs).toBe(Date.UTC(2020, 0, 1) - now);

    const { lastSession: _omit, ...missing } = heartbeat();
    for (const [why, body] of [['a missing field', missing], ['an extra field', heartbeat({ extra: 1 })], ['a string for a number', heartbeat({ alertOutbox: '3' })],
      ['a negative count', heartbeat({ dbBytes: -1 })]] as const) {
      const r = await call(path, { token, json: body });
      expect(r.status, why).toBe(400);
      expect(r.body.message).toBeTruthy();
    }
    expect((await call(path, { token, body: '{"tsUtc": ', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await call(path, { token, body: 'tsUtc=1', headers: { 'content-type': 'application/xml' } })).status).toBe(415);
    const big = await call(path, { token, json: heartbeat({ perception: 'x'.repeat(20_000) }) });
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('too-large');
    const huge = await call(path, { token, json: heartbeat({ perception: 'x'.repeat(1_000_000) }) });
    expect(huge.status).toBe(413);
    // Still serving, and only the one good heartbeat was stored.
    expect((await call(path, { token, json: heartbeat() })).status).toBe(200);
    expect(new DashboardQueries(server.study).heartbeats('dev-a')).toHaveLength(2);
  });
});

describe('alerts', () => {
  it('stores one alert per incident id without the participant\'s words, and answers acknowledged once staff have', async () => {
    server = await testServer();
    const token = await enrollDevice(server, 'dev-a');
    const path = '/api/v1/devices/dev-a/alerts';
    const body = envelope('dev-a', 'inc-1');
    const first = await call(path, { token, json: body, headers: { 'idempotency-key': 'inc-1' } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ received: true, acknowledged: false });
    expect((await call(path, { token, json: body, headers: { 'idempotency-key': 'inc-1' } })).body).toEqual({ received: true, acknowledged: false });
    const queries = new DashboardQueries(server.study);
    expect(queries.openAlerts()).toHaveLength(1);
    expect(queries.alert('inc-1')!.deliveries).toBe(2);
    expect(queries.alert('inc-1')!.checks).toEqual(['crisis']);
    expect(JSON.stringify(queries.alert('inc-1'))).not.toMatch(/want to be here|suicidal/);

    expect(server.records.acknowledgeAlert('inc-1', 'sam', 'called the participant')).toBe(true);
    expect((await call(path, { token, json: body, headers: { 'idempotency-key': 'inc-1' } })).body).toEqual({ received: true, acknowledged: true });

    expect((await call(path, { token, json: body, headers: { 'idempotency-key': 'inc-2' } })).status).toBe(400);
    expect((await call(path, { token, json: body })).status).toBe(400);
    const forged = await call(path, { token, json: envelope('dev-b', 'inc-3'), headers: { 'idempotency-key': 'inc-3' } });
    expect(forged.status).toBe(400);
    expect(forged.body.error).toBe('wrong-device');
    expect((await call(path, { token, json: { ...body, hearthAlert: 2 }, headers: { 'idempotency-key': 'inc-1' } })).status).toBe(400);
    expect(queries.openAlerts()).toHaveLength(0);
  });
});

describe('batches', () => {
  const upload = (token: string, deviceId: string, body: Buffer, range: string, headers: Record<string, string> = {}) =>
    call(`/api/v1/devices/${deviceId}/batches`, { token, body, headers: { 'content-type': INCREMENT_MEDIA_TYPE, 'content-encoding': 'gzip', 'x-hearth-batch': range, ...headers } });

  it('acknowledges an increment once it is durable, merges it behind through collectInto, and a replayed batch adds nothing', async () => {
    server = await testServer();
    const token = await enrollDevice(server, 'dev-a');
    const device = new FixtureDevice(join(server.dir, 'device.sqlite'), 'dev-a');
    device.session();
    device.session();
    const inc = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: 0, maxRows: 10_000, changedSince: null, dir: server.dir });
    const body = readFileSync(inc.file);
    const added = () => collectionsOf(server!.study).map((c) => Object.values(c.added).reduce((a, b) => a + b, 0));
    const first = await upload(token, 'dev-a', body, `${inc.seqFrom}-${inc.seqTo}`);
    expect(first.status).toBe(202);
    expect(first.body.lastSeq).toBe(device.lastSeq);
    // The cursor counts the acknowledged batch, merged or not.
    expect((await call('/api/v1/devices/dev-a/cursor', { token })).body.lastSeq).toBe(device.lastSeq);
    await server.merges.drained();
    expect(readdirSync(join(server.dir, '.study.sqlite.uploads', 'pending'))).toEqual([]);
    // Every row the device holds (a replaced value row left a gap in seq).
    expect(added()[0]).toBeGreaterThan(50);
    expect(server.records.lastSeq('dev-a')).toBe(device.lastSeq);

    const replay = await upload(token, 'dev-a', body, `${inc.seqFrom}-${inc.seqTo}`);
    expect(replay.status).toBe(202);
    expect(replay.body.lastSeq).toBe(device.lastSeq);
    await server.merges.drained();
    expect(added()[1]).toBe(0);

    // The next day as the next increment, from the server's cursor.
    device.session();
    const next = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: inc.seqTo, maxRows: 10_000, changedSince: T0, dir: server.dir });
    const second = await upload(token, 'dev-a', readFileSync(next.file), `${next.seqFrom}-${next.seqTo}`);
    expect(second.status).toBe(202);
    await server.merges.drained();
    expect(added()[2]).toBe(device.lastSeq - inc.seqTo);
    expect(collectionsOf(server.study).map((c) => c.file)).toEqual([`uplink:dev-a:0-${inc.seqTo}`, `uplink:dev-a:0-${inc.seqTo}`, `uplink:dev-a:${inc.seqTo}-${next.seqTo}`]);
    expect(new DashboardQueries(server.study).sessions('dev-a').map((s) => s.status)).toEqual(['completed', 'completed', 'completed']);
    device.store.close();
  });

  it('holds merges while another upload is being received, and merges anyway once MAX_DEFER_MS has passed', async () => {
    server = await testServer();
    const token = await enrollDevice(server, 'dev-a');
    const device = new FixtureDevice(join(server.dir, 'device.sqlite'), 'dev-a');
    device.session();
    const inc = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: 0, maxRows: 10_000, changedSince: null, dir: server.dir });
    // Another device's upload in progress, as the batch route marks it.
    const other = server.merges.receiving();
    const t0 = performance.now();
    const r = await upload(token, 'dev-a', readFileSync(inc.file), `${inc.seqFrom}-${inc.seqTo}`);
    expect(r.status).toBe(202);
    await new Promise((ok) => setTimeout(ok, 100));
    expect(server.records.lastSeq('dev-a')).toBe(0);
    expect(server.merges.depth).toBe(1);
    await server.merges.drained();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(MAX_DEFER_MS - 50);
    expect(server.records.lastSeq('dev-a')).toBe(device.lastSeq);
    other();

    // With nothing being received, the next batch is merged straight away.
    device.session();
    const next = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: inc.seqTo, maxRows: 10_000, changedSince: T0, dir: server.dir });
    const t1 = performance.now();
    expect((await upload(token, 'dev-a', readFileSync(next.file), `${next.seqFrom}-${next.seqTo}`)).status).toBe(202);
    await server.merges.drained();
    expect(performance.now() - t1).toBeLessThan(MAX_DEFER_MS);
    expect(server.records.lastSeq('dev-a')).toBe(device.lastSeq);
    device.store.close();
  });

  it('a merge waits while another process holds the study database\'s write lock, rather than refusing the batch', async () => {
    server = await testServer();
    const token = await enrollDevice(server, 'dev-a');
    const device = new FixtureDevice(join(server.dir, 'device.sqlite'), 'dev-a');
    device.session();
    const inc = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: 0, maxRows: 10_000, changedSince: null, dir: server.dir });
    // Another writer of the study database (a staff command such as `hearth serve enroll`): it holds
    // the write lock for a second and commits, so the merge's view of the file goes stale meanwhile.
    const holder = spawn(process.execPath, ['-e', `
      const db = new (require('better-sqlite3'))(process.argv[1]);
      db.exec('BEGIN IMMEDIATE');
      db.prepare("INSERT INTO server_audit (ts_utc, actor, action, target, detail_json) VALUES ('2026-12-01T00:00:00.000Z', 'test', 'lock', 'study', '{}')").run();
      process.stdout.write('locked\\n');
      setTimeout(() => { db.exec('COMMIT'); db.close(); }, 1000);`, join(server.dir, 'study.sqlite')], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((ok) => holder.stdout!.once('data', ok));
    const exited = new Promise((ok) => holder.on('exit', ok));
    expect((await upload(token, 'dev-a', readFileSync(inc.file), `${inc.seqFrom}-${inc.seqTo}`)).status).toBe(202);
    await server.merges.drained();
    expect(await exited).toBe(0);
    expect(server.records.lastSeq('dev-a')).toBe(device.lastSeq);
    expect(readdirSync(join(server.dir, '.study.sqlite.uploads', 'refused'))).toEqual([]);
    device.store.close();
  });

  it('answers 409 gap with its cursor to a batch above it (an acknowledged, unmerged batch counts), and merges at the next start what a stop left pending', async () => {
    server = await testServer();
    const token = await enrollDevice(server, 'dev-a');
    const device = new FixtureDevice(join(server.dir, 'device.sqlite'), 'dev-a');
    device.session();
    const one = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: 0, maxRows: 10_000, changedSince: null, dir: server.dir });
    device.session();
    const two = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: one.seqTo, maxRows: 10_000, changedSince: T0, dir: server.dir });
    const early = await upload(token, 'dev-a', readFileSync(two.file), `${two.seqFrom}-${two.seqTo}`);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ error: 'gap', lastSeq: 0 });
    // The first batch and, right behind it, the second: the cursor already counts the first.
    expect((await upload(token, 'dev-a', readFileSync(one.file), `0-${one.seqTo}`)).status).toBe(202);
    expect((await upload(token, 'dev-a', readFileSync(two.file), `${two.seqFrom}-${two.seqTo}`)).status).toBe(202);
    await server.merges.drained();
    expect(server.records.lastSeq('dev-a')).toBe(two.seqTo);

    // A batch acknowledged but not merged when the server stopped (its file in pending/): merged at the next start.
    device.session();
    const three = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: two.seqTo, maxRows: 10_000, changedSince: T0, dir: server.dir });
    const dir = server.dir;
    await server.close();
    const pending = join(dir, '.study.sqlite.uploads', 'pending');
    mkdirSync(pending, { recursive: true });
    // One kept as received (gzip, as this server spools them), one inflated (as older servers did), and
    // the inflated copy of a merge a stop interrupted.
    const half = Math.floor((three.seqFrom + three.seqTo) / 2);
    const threeA = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: three.seqFrom, maxRows: half - three.seqFrom, changedSince: T0, dir: server.dir });
    const threeB = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: threeA.seqTo, maxRows: 10_000, changedSince: T0, dir: server.dir });
    expect(threeB.seqTo).toBe(three.seqTo);
    writeFileSync(join(pending, `0000000000000007__dev-a__${threeA.seqFrom}-${threeA.seqTo}.sqlite.gz`), readFileSync(threeA.file));
    writeFileSync(join(pending, `0000000000000008__dev-a__${threeB.seqFrom}-${threeB.seqTo}.sqlite`), gunzipSync(readFileSync(threeB.file)));
    writeFileSync(join(pending, `0000000000000007__dev-a__${threeA.seqFrom}-${threeA.seqTo}.merging`), 'half-written');
    const again = await startServer({ db: join(dir, 'study.sqlite'), port: 0, log: () => undefined });
    server = { ...again, dir, cleanup: async () => { await again.close(); rmSync(dir, { recursive: true, force: true }); } };
    await server!.merges.drained();
    expect(server!.records.lastSeq('dev-a')).toBe(three.seqTo);
    expect(readdirSync(pending)).toEqual([]);
    device.store.close();
  });

  it('refuses what is not gzip, not an increment, another device\'s, mislabelled or too large with 400/413, writing nothing', async () => {
    server = await testServer();
    const token = await enrollDevice(server, 'dev-a');
    const device = new FixtureDevice(join(server.dir, 'device.sqlite'), 'dev-a');
    device.session();
    const twin = new FixtureDevice(join(server.dir, 'other.sqlite'), 'dev-b', 'P02');
    twin.session();
    const inc = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: 0, maxRows: 10_000, changedSince: null, dir: server.dir });
    const other = await buildIncrement(twin.store, { deviceId: 'dev-b', seqFrom: 0, maxRows: 10_000, changedSince: null, dir: server.dir });
    device.store.close();
    twin.store.close();
    const range = `0-${inc.seqTo}`;

    const notGzip = await upload(token, 'dev-a', readFileSync(join(server.dir, 'device.sqlite')), range);
    expect([notGzip.status, notGzip.body.error]).toEqual([400, 'not-gzip']);
    const wholeFile = await upload(token, 'dev-a', gzipSync(readFileSync(join(server.dir, 'device.sqlite'))), range);
    expect([wholeFile.status, wholeFile.body.error]).toEqual([400, 'not-an-increment']);
    expect(wholeFile.body.message).toMatch(/increment_meta/);
    const junk = await upload(token, 'dev-a', gzipSync(Buffer.from('SQLite format 3\0 but not really')), range);
    expect([junk.status, junk.body.error]).toEqual([400, 'not-an-increment']);
    const foreign = await upload(token, 'dev-a', readFileSync(other.file), `0-${other.seqTo}`);
    expect([foreign.status, foreign.body.error]).toEqual([400, 'wrong-device']);
    const mislabelled = await upload(token, 'dev-a', readFileSync(inc.file), `0-${inc.seqTo + 5}`);
    expect(mislabelled.status).toBe(400);
    expect((await upload(token, 'dev-a', readFileSync(inc.file), range, { 'content-encoding': 'identity' })).status).toBe(400);
    expect((await upload(token, 'dev-a', readFileSync(inc.file), 'all')).status).toBe(400);
    // 65 MiB of zeros gzip to about 64 KiB: refused while inflating, not after.
    const bomb = await upload(token, 'dev-a', gzipSync(Buffer.alloc(65 * 1024 * 1024)), range);
    expect([bomb.status, bomb.body.error]).toEqual([413, 'too-large']);
    const tooBig = await upload(token, 'dev-a', Buffer.alloc(16 * 1024 * 1024 + 1), range);
    expect(tooBig.status).toBe(413);
    expect(collectionsOf(server.study)).toHaveLength(0);

  });

  it('answers 507 with Retry-After while the disk is short, and writes nothing', async () => {
    server = await testServer({ minFreeBytes: Number.MAX_SAFE_INTEGER });
    const token = await enrollDevice(server, 'dev-a');
    const device = new FixtureDevice(join(server.dir, 'device.sqlite'), 'dev-a');
    device.session();
    const inc = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: 0, maxRows: 10_000, changedSince: null, dir: server.dir });
    device.store.close();
    const full = await upload(token, 'dev-a', readFileSync(inc.file), `0-${inc.seqTo}`);
    expect([full.status, full.body.error]).toEqual([507, 'disk-full']);
    expect(full.headers.get('retry-after')).toBe('600');
    expect(collectionsOf(server.study)).toHaveLength(0);
    expect((await call('/api/v1/devices/dev-a/cursor', { token })).body.lastSeq).toBe(0);
  });
});
