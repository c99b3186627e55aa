import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { uplinkBacklog, type SqliteStore } from '../../data/index.js';
import { DAY, FixtureDevice, T0 } from '../../data/uplink/device.fixture.js';
import { fileStateStore, readUplinkState } from './config.js';
import { deviceHealth } from './health.js';
import { HttpUplinkTransport } from './http-transport.js';
import { FixtureServer } from './uplink-server.fixture.js';
import { Uplink, type UplinkOptions } from './uplink.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The device clock: a month after the fixture's rows, moving with real time (the tests wait on real sockets). */
const start = Date.now();
const timers = { now: () => T0 + 30 * DAY + (Date.now() - start), setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function setup(sessions = 4) {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-uplink-test-'));
  const server = new FixtureServer(dir);
  await server.listen();
  const device = new FixtureDevice(join(dir, 'hearth.sqlite'), 'dev-a', 'P01', 15);
  for (let i = 0; i < sessions; i++) device.session();
  const token = server.issueToken('dev-a');
  const enrollment = { server: server.url, enrolledTsUtc: '2026-12-01T00:00:00.000Z' };
  cleanups.push(async () => {
    await server.close();
    device.store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const uplink = (extra: Partial<UplinkOptions> = {}, timeoutMs = 2_000) => {
    const u = new Uplink({
      transport: new HttpUplinkTransport({ server: server.url, deviceId: 'dev-a', token, timeoutMs }),
      store: device.store, log: device.log, deviceId: 'dev-a', state: fileStateStore(dir, enrollment),
      health: deviceHealth({ dir, store: device.store, log: device.log, participantId: 'P01', hearthVersion: 'test', protocolHash: 'h1', clockSource: 'simulated' }),
      timers, heartbeatMs: 60_000, pollMs: 20, maxRows: 40, backoff: { baseMs: 20, maxMs: 100 }, random: () => 0.5, tmpDir: dir, ...extra,
    });
    cleanups.push(() => u.stop());
    return u;
  };
  const caughtUp = () => (server.study.stats.lastSeq('dev-a') ?? 0) === device.lastSeq;
  return { dir, server, device, uplink, caughtUp };
}

/** What a researcher would compare: every row of the device, read back through the log's own readers. */
function contents(store: SqliteStore) {
  const log = store.forDevice({ deviceId: 'dev-a', tz: 'America/New_York', clockSource: 'simulated' });
  const sessions = log.sessions('P01');
  return {
    rows: uplinkBacklog(store, 'dev-a', 0).rows,
    sessions: sessions.map((s) => [s.sessionId, s.status]),
    turns: sessions.flatMap((s) => log.turns(s.sessionId).map((t) => [t.seq, t.text])),
    events: log.events().map((e) => [e.seq, e.kind, e.detail]),
    affect: log.affectSamples().map((a) => [a.seq, a.valence]),
  };
}

/** Ranges of the batches the server merged, checked to follow each other with no gap and no overlap. */
function expectContiguous(server: FixtureServer): void {
  const ranges = server.batches.map((b) => b.range.split('-').map(Number) as [number, number]);
  let at = 0;
  for (const [from, to] of ranges) {
    expect(from).toBeLessThanOrEqual(at);
    at = Math.max(at, to);
  }
}

describe('Uplink against a local study server', () => {
  it('sends the backlog in small batches exactly once, and after a restart resumes from the server\'s cursor', async () => {
    const { dir, server, device, uplink, caughtUp } = await setup(4);
    const first = uplink();
    first.start();
    await until('the server holds every row', caughtUp);
    await first.stop();
    // Before any data, the uplink asks where the server stands (the heartbeat may go first).
    expect(server.requests.find((r) => !r.path.endsWith('/heartbeat'))).toMatchObject({ method: 'GET', path: '/api/v1/devices/dev-a/cursor' });
    // maxRows 40: no batch adds more, so the backlog took several.
    expect(server.batches.every((b) => b.added <= 40)).toBe(true);
    expect(server.batches.length).toBeGreaterThanOrEqual(Math.ceil(uplinkBacklog(device.store, 'dev-a', 0).rows / 40));
    expectContiguous(server);
    expect(server.batches.reduce((n, b) => n + b.added, 0)).toBe(uplinkBacklog(device.store, 'dev-a', 0).rows);
    expect(contents(server.study)).toEqual(contents(device.store));
    const sent = server.batches.length;
    const cursorAtStop = server.study.stats.lastSeq('dev-a')!;

    // Two more days while the uplink is off; a new process starts from the server's cursor.
    device.session();
    device.session();
    const second = uplink();
    second.start();
    await until('the new rows arrived and were acknowledged', () => caughtUp() && second.snapshot.cursor === device.lastSeq);
    await second.stop();
    expect(server.batches[sent]!.range.startsWith(`${cursorAtStop}-`)).toBe(true);
    expectContiguous(server);
    expect(contents(server.study)).toEqual(contents(device.store));
    expect(readUplinkState(dir)?.cursor).toBe(device.lastSeq);
  });

  it('a batch whose answer is lost, or whose connection is cut, is not duplicated: the uplink asks the cursor and goes on', async () => {
    const { server, device, uplink, caughtUp } = await setup(4);
    server.modeRoute = '/batches';
    server.mode = 'lose-answer';
    const u = uplink();
    u.start();
    await until('two batches were taken without an answer', () => server.batches.length >= 2);
    server.mode = 'cut';
    await until('a connection was cut', () => server.requests.some((r) => r.status === 'cut' && server.batches.length >= 2 && r === server.requests.at(-1)));
    server.mode = 'ok';
    await until('the server holds every row', caughtUp);
    await u.stop();
    expectContiguous(server);
    expect(server.batches.reduce((n, b) => n + b.added, 0)).toBe(uplinkBacklog(device.store, 'dev-a', 0).rows);
    expect(contents(server.study)).toEqual(contents(device.store));
    // After each lost answer the uplink asked where the server stands before sending again.
    expect(server.count('/cursor')).toBeGreaterThanOrEqual(3);
  });

  it('a server refusing connections, then answering 500, then back: sessions go on, the backlog grows and catches up without duplicates', async () => {
    const { server, device, uplink, caughtUp } = await setup(1);
    await server.down();
    const u = uplink();
    u.start();
    await until('the refusal is recorded', () => /cannot reach the server \(ECONNREFUSED\)/.test(u.snapshot.lastError?.message ?? ''));
    // The device keeps running its days while the server is away.
    for (let i = 0; i < 3; i++) device.session();
    await server.listen();
    server.mode = 'fail';
    await until('a 500 was answered and recorded', () => /HTTP 500 internal: the fixture was told to fail/.test(u.snapshot.lastError?.message ?? ''));
    server.mode = 'ok';
    await until('the server holds every row', caughtUp);
    await u.stop();
    expectContiguous(server);
    expect(contents(server.study)).toEqual(contents(device.store));
    const kinds = device.log.events().map((e) => e.kind).filter((k) => k.startsWith('uplink.'));
    expect(kinds).toContain('uplink.failing');
    expect(kinds).toContain('uplink.recovered');
    // Only the first failure of a run is logged, not every retry.
    expect(kinds.filter((k) => k === 'uplink.failing').length).toBeLessThan(server.requests.length);
  });

  it('a revoked token stops the uplink, is kept for hearth status, and the next start sends nothing', async () => {
    const { dir, server, device, uplink } = await setup(1);
    server.mode = 'revoked';
    const u = uplink();
    u.start();
    await until('the uplink stopped', () => u.status === 'revoked');
    const asked = server.requests.length;
    expect(asked).toBe(1);
    expect(readUplinkState(dir)?.revoked?.message).toMatch(/the device token was revoked \(HTTP 401 revoked\); enroll the device again/);
    expect(device.log.events({ kind: 'uplink.revoked' })).toHaveLength(1);
    const again = uplink();
    again.start();
    expect(again.status).toBe('revoked');
    await new Promise((r) => setTimeout(r, 100));
    await again.stop();
    expect(server.requests.length).toBe(asked);
  });

  it('heartbeats every interval with exactly the protocol\'s fields, each also a local device.heartbeat event', async () => {
    const { dir, server, device, uplink } = await setup(1);
    device.store.safeguards(device.log).recordIncident({
      incidentId: 'inc-1', kind: 'crisis', severity: 'serious', participantId: 'P01', sessionId: 'P01-d1', turnId: null, description: 'd', robotAction: 'a',
      checks: [], harm: 'unknown', causality: 'not yet assessed', reportDueBy: null,
    }, T0 + DAY);
    const u = uplink({ heartbeatMs: 150 });
    u.start();
    await until('two heartbeats arrived', () => server.heartbeats.length >= 2);
    await u.stop();
    const hb = server.heartbeats[0] as Record<string, unknown>;
    expect(Object.keys(hb)).toEqual(['tsUtc', 'deviceClockMs', 'clockSource', 'clockOffsetMs', 'hearthVersion', 'protocolHash', 'freeDiskBytes', 'dbBytes',
      'lastSession', 'perception', 'safeguards', 'alertOutbox', 'uplinkBacklogRows']);
    expect(hb).toMatchObject({
      clockSource: 'simulated', hearthVersion: 'test', protocolHash: 'h1', lastSession: { sessionId: 'P01-d1', status: 'completed', tsUtc: expect.stringMatching(/Z$/) },
      perception: 'off', safeguards: 'unknown', alertOutbox: 1,
    });
    expect(new Date(hb.tsUtc as string).getTime()).toBe(hb.deviceClockMs);
    expect(hb.freeDiskBytes).toBeGreaterThan(0);
    expect(hb.dbBytes).toBeGreaterThan(0);
    // The first heartbeat goes before the cursor is known: the whole database is the backlog.
    expect(hb.uplinkBacklogRows).toBeGreaterThan(0);
    expect(typeof (server.heartbeats[1] as Record<string, unknown>).clockOffsetMs).toBe('number');
    const local = device.log.events({ kind: 'device.heartbeat' });
    expect(local.length).toBeGreaterThanOrEqual(2);
    expect(local[0]!.detail).toEqual(hb);
    // The last one answered (stop() may abort one in flight).
    expect(server.heartbeats.map((h) => (h as { tsUtc: string }).tsUtc)).toContain(readUplinkState(dir)?.lastHeartbeatUtc);
    expect(server.requests.every((r) => r.auth?.startsWith('Bearer hth_'))).toBe(true);
  });

  it('a hanging server holds up nothing on the session\'s side: log writes go on while a request waits, and stop() ends it', async () => {
    const { server, device, uplink } = await setup(1);
    server.mode = 'hang';
    let hanging = false;
    server.onHang = () => {
      hanging = true;
    };
    const u = uplink({}, 60_000);
    u.start();
    await until('a request is hanging', () => hanging);
    const before = device.lastSeq;
    for (let i = 0; i < 50; i++) {
      device.log.recordEvent('test.tick', { i }, timers.now());
      await new Promise<void>((r) => setImmediate(r));
    }
    expect(device.lastSeq).toBe(before + 50);
    // Still waiting on the server: nothing answered, nothing merged.
    expect(server.requests.at(-1)!.status).toBe('hung');
    expect(server.batches).toHaveLength(0);
    await u.stop();
    expect(u.status).toBe('stopped');
  });

  it('while a session runs, data waits and heartbeats do not; stop({ drainMs }) sends what the session wrote before ending', async () => {
    const { server, device, uplink, caughtUp } = await setup(2);
    let inSession = true;
    const u = uplink({ busy: () => inSession, heartbeatMs: 100 });
    u.start();
    await until('two heartbeats arrived', () => server.heartbeats.length >= 2);
    expect(server.batches).toHaveLength(0);
    inSession = false;
    await until('the backlog went once the session closed', caughtUp);
    device.session();
    await u.stop({ drainMs: 10_000 });
    expect(caughtUp()).toBe(true);
    expect(contents(server.study)).toEqual(contents(device.store));
  });

  it('a 409 gap makes the uplink rebuild from the server\'s cursor at once, without backing off', async () => {
    const { server, device, uplink, caughtUp } = await setup(3);
    server.modeRoute = '/batches';
    server.mode = 'gap';
    const u = uplink({ backoff: { baseMs: 60_000, maxMs: 60_000 } });
    u.start();
    await until('the gap was answered', () => server.requests.some((r) => r.status === 409));
    // A one-minute backoff would fail this wait: a gap is not a failure to wait out (after three in a row it is).
    await until('the server holds every row', caughtUp, 10_000);
    await u.stop();
    expect(contents(server.study)).toEqual(contents(device.store));
  });
});
