import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { collectDevices, collectInto, openStudyStore, type FileCollected, type FileResult } from '../collect/collect.js';
import { sqliteHandle, SqliteStore } from '../sqlite-store.js';
import { DAY, FixtureDevice, T0 } from './device.fixture.js';
import { INCREMENT_META } from '../collect/collect.js';
import { buildIncrement, changedRowsSince, COMPLETE_TABLES, uplinkBacklog, type Increment } from './increment.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hearth-increment-test-'));

const DEVICE_TABLES = ['devices', 'participants', 'sessions', 'turns', 'events', 'responses', 'affect_samples', 'safeguard_events', 'memories',
  'schedule_instances', 'consent_records', 'tombstones', 'safeguard_incidents', 'participant_values'];

/** Read a SQLite file with a query, read-only. */
function query<T>(file: string, sql: string, ...params: unknown[]): T[] {
  const store = SqliteStore.open(file, { create: false, readonly: true });
  try {
    return sqliteHandle(store).prepare(sql).all(...params) as T[];
  } finally {
    store.close();
  }
}

/** The SQLite file inside an increment, written beside it (as the server inflates an upload). */
function inflate(inc: Increment): string {
  const out = inc.file.replace(/\.gz$/, '');
  writeFileSync(out, gunzipSync(readFileSync(inc.file)));
  return out;
}

/** Every row of a device table as a researcher compares them: by seq, integer ids replaced by the seq of the row they name. */
function rowsOf(file: string, table: string, deviceId: string): Record<string, unknown>[] {
  const cols = query<{ name: string; type: string; pk: number }>(file, 'SELECT name, type, pk FROM pragma_table_info(?)', table);
  const pk = cols.filter((c) => c.pk > 0);
  const id = pk.length === 1 && pk[0]!.type === 'INTEGER' ? pk[0]!.name : null;
  const turnSeq = new Map(query<{ turn_id: number; seq: number }>(file, 'SELECT turn_id, seq FROM turns').map((r) => [r.turn_id, r.seq]));
  return query<Record<string, unknown>>(file, `SELECT * FROM "${table}" WHERE device_id = ? ORDER BY seq`, deviceId).map((r) => {
    const out = { ...r };
    if (id) delete out[id];
    if (table !== 'turns' && typeof out.turn_id === 'number') out.turn_id = `turn seq ${turnSeq.get(out.turn_id)}`;
    return out;
  });
}

function expectSameStudy(actual: string, expected: string, deviceId: string): void {
  for (const t of DEVICE_TABLES) expect(rowsOf(actual, t, deviceId), `${t} of ${deviceId}`).toEqual(rowsOf(expected, t, deviceId));
  expect(query(actual, 'SELECT * FROM device_seq')).toEqual(query(expected, 'SELECT * FROM device_seq'));
}

const merged = (r: FileResult) => {
  if (r.status !== 'collected') throw new Error(`increment refused: ${r.problem}`);
  return (r as FileCollected).devices[0]!;
};

/**
 * The device side of the uplink in miniature: from the study's cursor, build, merge, move the cursor
 * and the changed-since watermark, until nothing is left. Returns the increments built.
 */
async function catchUp(device: FixtureDevice, study: SqliteStore, state: { cursor: number; changedSince: number | null }, now: number, maxRows: number, dir: string) {
  const built: Increment[] = [];
  for (let i = 0; i < 200; i++) {
    const backlog = uplinkBacklog(device.store, device.identity.deviceId, state.cursor);
    const changed = state.changedSince === null ? 0 : changedRowsSince(device.store, device.identity.deviceId, state.cursor, state.changedSince);
    const upToDate = backlog.lastSeq === state.cursor && (state.changedSince === null ? i > 0 : changed === 0);
    if (upToDate) break;
    const inc = await buildIncrement(device.store, { deviceId: device.identity.deviceId, seqFrom: state.cursor, maxRows, changedSince: state.changedSince, dir });
    built.push(inc);
    const d = merged(await collectInto(study, inflate(inc), { private: true, onlyDevice: device.identity.deviceId }));
    expect(d.lastSeq).toBe(inc.seqTo);
    state.cursor = inc.seqTo;
    state.changedSince = now;
  }
  return built;
}

describe('buildIncrement', () => {
  it('writes a gzipped SQLite increment as PROTOCOL.md says: the slice, changed and referenced rows, complete tables, device_seq and increment_meta', async () => {
    const dir = tmp();
    const device = new FixtureDevice(join(dir, 'hearth.sqlite'));
    const s1 = device.session();
    device.incident(s1, 'inc-1', T0 + 8000);
    device.session();
    device.session({ finish: false });
    const total = uplinkBacklog(device.store, 'dev-a', 0);
    expect(total.lastSeq).toBe(device.lastSeq);

    const first = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: 0, maxRows: 40, changedSince: null, dir });
    expect(readFileSync(first.file).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(first.rows).toBe(40);
    const f1 = inflate(first);
    expect(Object.fromEntries(query<{ key: string; value: string }>(f1, `SELECT key, value FROM ${INCREMENT_META}`).map((r) => [r.key, r.value])))
      .toMatchObject({ kind: 'increment', device_id: 'dev-a', seq_from: '0', seq_to: String(first.seqTo), complete_tables: JSON.stringify(COMPLETE_TABLES) });
    expect(query(f1, 'SELECT device_id, last_seq FROM device_seq')).toEqual([{ device_id: 'dev-a', last_seq: first.seqTo }]);
    expect(query(f1, 'SELECT user_version AS v FROM pragma_user_version')).toEqual(query(device.file, 'SELECT user_version AS v FROM pragma_user_version'));

    // The second slice: its rows are exactly seqFrom < seq <= seqTo, plus what older rows it needs.
    const second = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: first.seqTo, maxRows: 40, changedSince: T0 + 2 * DAY, dir });
    const f2 = inflate(second);
    const seqs = (file: string, t: string) => query<{ seq: number }>(file, `SELECT seq FROM "${t}" ORDER BY seq`).map((r) => r.seq);
    let inRange = 0;
    for (const t of DEVICE_TABLES) {
      const want = seqs(device.file, t).filter((s) => s > second.seqFrom && s <= second.seqTo);
      expect(seqs(f2, t).filter((s) => s > second.seqFrom), t).toEqual(want);
      inRange += want.length;
    }
    expect(inRange).toBe(second.rows);
    expect(second.rows).toBeLessThanOrEqual(40);
    // Complete tables hold every row up to seqTo, e.g. all the memories written so far.
    expect(seqs(f2, 'memories')).toEqual(seqs(device.file, 'memories').filter((s) => s <= second.seqTo));
    expect(seqs(f2, 'devices')).toEqual(seqs(device.file, 'devices'));
    // Rows of earlier slices changed since the watermark travel again: day 3's still-open session is new,
    // but the schedule instances of days 1-2 were updated when their sessions closed (before the watermark: not sent).
    expect(seqs(f2, 'schedule_instances').filter((s) => s <= second.seqFrom)).toEqual([]);
    // Every turn a check in the file names is in the file too, so the server can translate turn_id.
    const named = query<{ turn_id: number }>(f2, 'SELECT DISTINCT turn_id FROM safeguard_events WHERE turn_id IS NOT NULL');
    const turns = new Set(query<{ turn_id: number }>(f2, 'SELECT turn_id FROM turns').map((r) => r.turn_id));
    expect(named.every((n) => turns.has(n.turn_id))).toBe(true);

    // Caught up: the last slice ends at the device's counter.
    let from = second.seqTo;
    while (from < device.lastSeq) from = (await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: from, maxRows: 40, changedSince: null, dir })).seqTo;
    expect(from).toBe(device.lastSeq);
    await expect(buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: device.lastSeq + 5, maxRows: 40, changedSince: null, dir }))
      .rejects.toThrow(/has rows only up to seq \d+, not past \d+ \(was the database re-created\?\)/);
    await expect(buildIncrement(device.store, { deviceId: 'dev-z', seqFrom: 0, maxRows: 40, changedSince: null, dir })).rejects.toThrow(/no rows of device dev-z/);
    device.store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('increments merged batch by batch with collectInto give the same study as collectDevices of the whole file, changes, deletions and a withdrawal included', async () => {
    const dir = tmp();
    const device = new FixtureDevice(join(dir, 'hearth.sqlite'));
    const study = openStudyStore(join(dir, 'study-uplink.sqlite'));
    const state = { cursor: 0, changedSince: null as number | null };

    const s1 = device.session();
    device.incident(s1, 'inc-1', T0 + 8000);
    const s2 = device.session({ finish: false });
    const firstRound = await catchUp(device, study, state, T0 + DAY + 10_000, 30, dir);
    expect(firstRound.length).toBeGreaterThan(2);
    expect(firstRound.every((i) => i.rows <= 30)).toBe(true);

    // Later, on the device: the open session closes, the incident is delivered and acknowledged, a
    // memory is recalled and another forgotten, a value is replaced by stronger evidence, a new day.
    device.finish(s2, T0 + DAY + 20_000);
    device.store.safeguards(device.log).alertDelivered('inc-1', 'acknowledged', T0 + DAY + 30_000);
    const memories = device.store.memories(device.identity);
    memories.markRecalled(memories.list('P01').at(-1)!.memoryId, T0 + DAY + 40_000);
    device.forgetOldest();
    device.session();
    const secondRound = await catchUp(device, study, state, T0 + 3 * DAY, 30, dir);
    expect(secondRound.some((i) => i.changedRows > 0)).toBe(true);

    // A schedule instance changes with no new row anywhere: an increment with no new rows carries it.
    device.store.study.updateScheduleInstance('P01', 'P01-i9', { status: 'missed', statusReason: 'device off' }, T0 + 3 * DAY + 1000);
    expect(uplinkBacklog(device.store, 'dev-a', state.cursor).rows).toBe(0);
    expect(changedRowsSince(device.store, 'dev-a', state.cursor, state.changedSince!)).toBe(1);
    const only = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: state.cursor, maxRows: 30, changedSince: state.changedSince, dir });
    expect(only).toMatchObject({ seqFrom: state.cursor, seqTo: state.cursor, rows: 0, changedRows: 1 });
    expect(merged(await collectInto(study, inflate(only), { private: true })).updated).toEqual({ schedule_instances: 1 });
    state.changedSince = T0 + 3 * DAY + 2000;

    const whole = join(dir, 'study-whole.sqlite');
    await collectDevices({ files: [device.file], into: whole });
    expectSameStudy(study.path, whole, 'dev-a');

    // A replayed increment (an answer lost on the way back) adds nothing.
    const replay = merged(await collectInto(study, inflate(secondRound[0]!), { private: true }));
    expect(replay).toMatchObject({ added: {}, deleted: {} });
    expectSameStudy(study.path, whole, 'dev-a');

    // The participant withdraws: the tombstone travels as a new row and the server's copy is purged.
    device.withdraw(T0 + 4 * DAY);
    await catchUp(device, study, state, T0 + 4 * DAY + 1000, 30, dir);
    const afterWithdrawal = join(dir, 'study-whole-2.sqlite');
    await collectDevices({ files: [device.file], into: afterWithdrawal });
    expectSameStudy(study.path, afterWithdrawal, 'dev-a');
    expect(query<{ n: number }>(study.path, "SELECT COUNT(*) AS n FROM turns WHERE text LIKE '%sister%'")).toEqual([{ n: 0 }]);
    expect(query<{ n: number }>(study.path, 'SELECT COUNT(*) AS n FROM tombstones')).toEqual([{ n: 1 }]);
    study.close();
    device.store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
