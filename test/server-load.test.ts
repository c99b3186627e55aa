/**
 * Issue 12, "Scale": 50 simulated devices, each holding a month, upload at once to a real study
 * server (runtime/server, fastify, a real study database) through a TCP proxy that cuts a random
 * fraction of connections part-way through a request or an answer. Every device runs the real uplink
 * (runtime/uplink, HTTP transport) and the real alert outbox pointed at the server's alerts route. One
 * participant withdraws while the uploads run. When every uplink has caught up, each device file is
 * compared with the study database table by table by (device_id, seq): every row arrived, once; every
 * incident reached the alerts table once; the withdrawn participant's rows are gone from the server.
 * Loopback only; about 50 s on a loaded 2-core machine.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertOutbox, WebhookAlertTransport } from '../behaviors/index.js';
import { collectionsOf } from '../data/index.js';
import { seededRandom } from '../hardware/index.js';
import { enrollDevice, testServer } from '../runtime/server/server.fixture.js';
import { freshUplinkState, type UplinkState, type UplinkStateStore } from '../runtime/uplink/config.js';
import { HttpUplinkTransport } from '../runtime/uplink/http-transport.js';
import { Uplink, type DeviceHealth } from '../runtime/uplink/uplink.js';
import { DAY_MS, MONTH_T0, SimulatedDevice } from './support/device-month.js';

const DEVICES = 50;
const DAYS = 30;
/** Share of proxied connections that are cut part-way. */
const CUT_FRACTION = 0.5;
/** The participant who withdraws while the uploads run. */
const WITHDRAWING = 7;

/** A small deterministic generator, so a failing run can be repeated with its seed. */
const seeded = seededRandom;

/**
 * A TCP proxy in front of the server. Each connection is, with probability `fraction`, doomed: it is
 * destroyed once a random number of bytes has passed in one direction, so the cut lands inside a
 * request (device → server) or inside an answer (server → device, after the server has acted on it).
 */
class CuttingProxy {
  readonly cuts = { request: 0, answer: 0 };
  connections = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  cutting = true;

  constructor(private readonly targetPort: number, private readonly fraction: number, private readonly random: () => number) {
    this.server = createServer((client) => this.relay(client));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('proxy: no port');
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    this.connections++;
    const upstream = connect(this.targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    const doomed = this.cutting && this.random() < this.fraction;
    const inRequest = this.random() < 0.5;
    // Requests carry increments of tens of kilobytes; answers are a few hundred bytes each.
    const limit = 1 + Math.floor(this.random() * (inRequest ? 30_000 : 1_500));
    const pipe = (from: Socket, to: Socket, direction: 'request' | 'answer') => {
      let passed = 0;
      from.on('data', (chunk: Buffer) => {
        if (doomed && (direction === 'request') === inRequest && passed + chunk.length >= limit) {
          to.write(chunk.subarray(0, Math.max(0, limit - passed)));
          this.cuts[direction]++;
          client.destroy();
          upstream.destroy();
          return;
        }
        passed += chunk.length;
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => to.end());
      from.on('close', () => to.destroy());
    };
    pipe(client, upstream, 'request');
    pipe(upstream, client, 'answer');
  }
}

/** Tables of a device file holding device rows: the ones with both `device_id` and `seq`. */
function deviceTables(db: Database.Database): string[] {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  return tables.filter((t) => {
    const cols = new Set((db.prepare('SELECT name FROM pragma_table_info(?)').all(t) as { name: string }[]).map((c) => c.name));
    return cols.has('device_id') && cols.has('seq');
  });
}

/** A table's rows of one device by seq, with integer keys (local to each file) replaced by the turn they name. */
function rowsOf(db: Database.Database, table: string, deviceId: string): Record<string, unknown>[] {
  const key = (db.prepare('SELECT name, type, pk FROM pragma_table_info(?)').all(table) as { name: string; type: string; pk: number }[]).filter((c) => c.pk > 0);
  const integerKey = key.length === 1 && key[0]!.type === 'INTEGER' ? key[0]!.name : null;
  const turnSeq = new Map((db.prepare('SELECT turn_id, seq FROM turns WHERE device_id = ?').all(deviceId) as { turn_id: number; seq: number }[]).map((r) => [r.turn_id, r.seq]));
  return (db.prepare(`SELECT * FROM "${table}" WHERE device_id = ? ORDER BY seq`).all(deviceId) as Record<string, unknown>[]).map((row) => {
    const out = { ...row };
    if (integerKey) delete out[integerKey];
    if (table !== 'turns' && typeof out.turn_id === 'number') out.turn_id = `turn with seq ${turnSeq.get(out.turn_id) ?? 'missing'}`;
    return out;
  });
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const memoryState = (server: string): UplinkStateStore & { state: UplinkState } => {
  const box = { state: freshUplinkState({ server, enrolledTsUtc: '2026-12-31T00:00:00.000Z' }) };
  return Object.assign(box, { load: () => structuredClone(box.state), save: (s: UplinkState) => { box.state = structuredClone(s); } });
};

const health = (): DeviceHealth => ({
  clockSource: 'simulated', hearthVersion: 'test', protocolHash: 'h1', freeDiskBytes: 9e9, dbBytes: 1e6, lastSession: null,
  perception: 'simulated', safeguards: 'rules', alertOutbox: 0,
});

/** The device clock: the day after the month, moving with real time. */
const started = Date.now();
const timers = {
  now: () => MONTH_T0 + (DAYS + 1) * DAY_MS + (Date.now() - started),
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
};

describe('50 devices uploading a month each at once, through connections cut at random', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-server-load-'));
  let server: Awaited<ReturnType<typeof testServer>>;
  let proxy: CuttingProxy;
  const devices: SimulatedDevice[] = [];

  beforeAll(async () => {
    server = await testServer();
    for (let i = 1; i <= DEVICES; i++) {
      const id = `dev-${String(i).padStart(2, '0')}`;
      // One incident on every fifth device, two on every tenth, one on the withdrawing participant's.
      const incidentDays = i % 10 === 0 ? [4, 19] : i % 5 === 0 || i === WITHDRAWING ? [11] : [];
      devices.push(new SimulatedDevice(join(dir, `${id}.sqlite`), id, `P${String(i).padStart(2, '0')}`).liveMonth(DAYS, { turns: 6, affectSamples: 12, responses: 2 }, incidentDays));
    }
    proxy = new CuttingProxy(Number(new URL(server.url).port), CUT_FRACTION, seeded(12));
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    for (const d of devices) d.store.close();
    await server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every row arrives exactly once, no alert is lost, and the withdrawal purges the server', async () => {
    const via = await proxy.listen();
    const random = seeded(7);
    const tokens = new Map<string, string>();
    for (const d of devices) tokens.set(d.deviceId, await enrollDevice(server, d.deviceId));
    const states = new Map(devices.map((d) => [d.deviceId, memoryState(via)]));
    const initialRows = new Map(devices.map((d) => [d.deviceId, d.lastSeq]));

    const uplinkOf = (d: SimulatedDevice) => new Uplink({
      transport: new HttpUplinkTransport({ server: via, deviceId: d.deviceId, token: tokens.get(d.deviceId)!, timeoutMs: 10_000 }),
      store: d.store, log: d.log, deviceId: d.deviceId, state: states.get(d.deviceId)!, health, timers,
      // Small batches, so every device sends several and cuts fall between and inside them.
      heartbeatMs: 5_000, pollMs: 50, maxRows: 120, backoff: { baseMs: 20, maxMs: 300 }, random,
    });
    const outboxOf = (d: SimulatedDevice) => new AlertOutbox({
      store: d.store.safeguards(d.log), deviceId: d.deviceId, timers, backoff: { baseMs: 20, maxMs: 300 }, random, timeoutMs: 10_000,
      transport: new WebhookAlertTransport({ url: `${via}/api/v1/devices/${d.deviceId}/alerts`, source: 'test', secret: null, secretSource: null, timeoutMs: 10_000, bearerToken: tokens.get(d.deviceId)! }),
    });

    const uplinks = devices.map(uplinkOf);
    const outboxes = devices.map(outboxOf);
    uplinks.forEach((u) => u.start());
    outboxes.forEach((o) => o.start());

    // The withdrawal happens once the server holds some of the participant's rows, so they must be purged there.
    const w = devices[WITHDRAWING - 1]!;
    let withdrawnAtServerSeq = 0;
    const unsent = (d: SimulatedDevice) => d.incidents.filter((id) => !['sent', 'acknowledged'].includes(d.store.safeguards(d.log).incident(id)?.deliveryStatus ?? '')).length;
    // Each device's month (and the withdrawal's rows) must reach the server; the uplink's own events
    // written meanwhile (heartbeats, failures) keep coming, and go in the last pass below.
    const target = new Map(initialRows);
    const progress = () => devices.map((d, i) => `${d.deviceId} ${uplinks[i]!.status} cursor ${uplinks[i]!.snapshot.cursor}/${target.get(d.deviceId)} ` +
      `unsent ${unsent(d)} ${uplinks[i]!.snapshot.lastError?.message ?? ''}`).filter((_, i) => (uplinks[i]!.snapshot.cursor ?? 0) < target.get(devices[i]!.deviceId)! || unsent(devices[i]!) > 0);
    try {
      await until('every uplink caught up and every alert delivered', () => {
        if (!withdrawnAtServerSeq && server.records.lastSeq(w.deviceId) > 0) {
          withdrawnAtServerSeq = server.records.lastSeq(w.deviceId);
          w.withdraw(timers.now());
          target.set(w.deviceId, w.lastSeq);
          uplinks[WITHDRAWING - 1]!.nudge();
        }
        return withdrawnAtServerSeq > 0 && devices.every((d, i) => (uplinks[i]!.snapshot.cursor ?? 0) >= target.get(d.deviceId)! && unsent(d) === 0);
      }, 90_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}; behind: ${progress().join('; ')}`);
    }
    await Promise.all([...uplinks.map((u) => u.stop()), ...outboxes.map((o) => o.stop())]);

    // Stopped, the devices write nothing more; rows changed in place since their last batch (alerts
    // marked delivered) go in a last pass, still through the cutting proxy: a fresh uplink per try,
    // as a device restarted after a cut would.
    for (const d of devices) {
      for (let attempt = 1; ; attempt++) {
        const r = await uplinkOf(d).flush();
        if (r.caughtUp) break;
        if (attempt > 50) throw new Error(`${d.deviceId}: not caught up after 50 passes (${r.error})`);
      }
    }

    expect(proxy.cuts.request, 'connections cut inside a request').toBeGreaterThan(0);
    expect(proxy.cuts.answer, 'connections cut inside an answer').toBeGreaterThan(0);
    expect(withdrawnAtServerSeq).toBeLessThan(initialRows.get(w.deviceId)!);

    // The server acknowledges batches on durable receipt and merges behind: wait for the merges.
    await server.merges.drained();
    const study = new Database(server.study.path, { readonly: true });
    try {
      let compared = 0;
      for (const d of devices) {
        const file = new Database(d.file, { readonly: true });
        let rows = 0;
        try {
          for (const t of deviceTables(file)) {
            const mine = rowsOf(file, t, d.deviceId);
            expect(rowsOf(study, t, d.deviceId), `${t} of ${d.deviceId}`).toEqual(mine);
            rows += mine.length;
          }
          compared += rows;
          expect(server.records.lastSeq(d.deviceId), d.deviceId).toBe(d.lastSeq);
        } finally {
          file.close();
        }
        // Exactly once: across every batch the server merged, each row of the device was added once.
        const added = collectionsOf(server.study).filter((c) => c.deviceId === d.deviceId).reduce((n, c) => n + Object.values(c.added).reduce((a, b) => a + b, 0), 0);
        if (d !== w) expect(added, `rows added on the server for ${d.deviceId}`).toBe(rows);
      }
      expect(compared).toBeGreaterThan(DEVICES * DAYS * 20);

      const incidents = devices.flatMap((d) => d.incidents.map((id) => ({ incident_id: id, device_id: d.deviceId }))).sort((a, b) => a.incident_id.localeCompare(b.incident_id));
      // Two on each of 5 devices, one on 5 others and one on the withdrawing participant's.
      expect(incidents.length).toBe(16);
      const alerts = study.prepare('SELECT incident_id, device_id FROM server_alerts ORDER BY incident_id').all();
      expect(alerts).toEqual(incidents);

      // The withdrawn participant: nothing of theirs on the server but what a withdrawal keeps.
      const pid = w.pid;
      for (const t of ['sessions', 'turns', 'affect_samples', 'memories', 'responses', 'participant_values']) {
        expect((study.prepare(`SELECT COUNT(*) AS n FROM "${t}" WHERE device_id = ?`).get(w.deviceId) as { n: number }).n, `${t} of ${pid} on the server`).toBe(0);
      }
      expect((study.prepare('SELECT COUNT(*) AS n FROM tombstones WHERE device_id = ?').get(w.deviceId) as { n: number }).n).toBeGreaterThan(0);
      // Its incident stays for the IRB, without the participant's words (the file's row, compared above, is the same).
      const kept = study.prepare('SELECT incident_id, checks_json, turn_id FROM safeguard_incidents WHERE device_id = ?').all(w.deviceId) as { incident_id: string; checks_json: string; turn_id: number | null }[];
      expect(kept.map((k) => k.incident_id)).toEqual(w.incidents);
      expect(kept[0]!.turn_id).toBeNull();
      expect(kept[0]!.checks_json).not.toContain('I do not want to be here');
    } finally {
      study.close();
    }
  }, 110_000);
});
