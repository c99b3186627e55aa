import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlertOutbox, DEFAULT_ALERT_TIMEOUT_MS, WebhookAlertTransport } from '../../behaviors/index.js';
import { uplinkBacklog, type SqliteStore } from '../../data/index.js';
import { DAY, FixtureDevice, T0 } from '../../data/uplink/device.fixture.js';
import { enrollDevice as enrollWithServer, testServer } from '../server/server.fixture.js';
import { fileStateStore } from './config.js';
import { deviceHealth } from './health.js';
import { HttpUplinkTransport } from './http-transport.js';
import { Uplink } from './uplink.js';

const start = Date.now();
const timers = { now: () => T0 + 30 * DAY + (Date.now() - start), setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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

describe('the uplink against the real study server (hearth serve, runtime/server)', () => {
  it('uploads every row exactly once, heartbeats, delivers an alert under the device token, and stops when staff revoke the device', async () => {
    const server = await testServer();
    const dir = mkdtempSync(join(tmpdir(), 'hearth-uplink-real-'));
    const device = new FixtureDevice(join(dir, 'hearth.sqlite'), 'dev-a', 'P01', 30);
    let uplink: Uplink | null = null;
    try {
      for (let i = 0; i < 5; i++) device.session();
      device.incident('P01-d5', 'inc-real-1', T0 + 5 * DAY);
      const token = await enrollWithServer(server, 'dev-a');
      const enrollment = { server: server.url, enrolledTsUtc: new Date().toISOString() };
      const transport = new HttpUplinkTransport({ server: server.url, deviceId: 'dev-a', token, timeoutMs: 10_000 });
      uplink = new Uplink({
        transport, store: device.store, log: device.log, deviceId: 'dev-a', state: fileStateStore(dir, enrollment), timers,
        health: deviceHealth({ dir, store: device.store, log: device.log, participantId: 'P01', hearthVersion: 'test', protocolHash: 'h1', clockSource: 'simulated' }),
        heartbeatMs: 60_000, pollMs: 20, maxRows: 50, backoff: { baseMs: 20, maxMs: 200 }, random: () => 0.5, tmpDir: dir,
      });
      uplink.start();
      const u = uplink;
      await until('the server holds every row and the uplink knows it', () => server.records.lastSeq('dev-a') === device.lastSeq && u.snapshot.cursor === device.lastSeq);
      expect(u.snapshot.lastError).toBeNull();
      expect(u.snapshot.lastHeartbeatUtc).not.toBeNull();
      expect(contents(server.study)).toEqual(contents(device.store));

      // The alert outbox pointed at the server's alerts route: delivered once, twice sent is one alert.
      const records = device.store.safeguards(device.log);
      const outbox = new AlertOutbox({
        store: records, deviceId: 'dev-a', timers,
        transport: new WebhookAlertTransport({ url: transport.alertsUrl, source: 'test', secret: null, secretSource: null, timeoutMs: DEFAULT_ALERT_TIMEOUT_MS, bearerToken: token }),
      });
      expect(await outbox.deliverAllOnce()).toMatchObject({ attempted: 1, delivered: 1 });
      expect(records.incident('inc-real-1')).toMatchObject({ deliveryStatus: 'sent' });

      // Staff revoke the device: the next request is refused as revoked and the uplink stops for good.
      server.records.revokeDevice('dev-a', 'staff-1');
      device.session();
      await until('the uplink stopped', () => u.status === 'revoked');
      expect(u.snapshot.revoked?.message).toMatch(/revoked/);
      expect(server.records.lastSeq('dev-a')).toBeLessThan(device.lastSeq);
    } finally {
      await uplink?.stop();
      device.store.close();
      await server.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
