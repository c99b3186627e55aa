import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openForAnalysis } from '../analysis-source.js';
import { SCHEMA_VERSION } from '../migrations.js';
import { SqliteStore } from '../sqlite-store.js';
import type { DeviceIdentity } from '../store.js';
import { collectDevices, collectInto, collectionsOf, INCREMENT_META, openStudyStore, type FileCollected, type FileRefused } from './collect.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hearth-collect-test-'));
const T0 = Date.UTC(2026, 11, 1, 14, 30);
const DAY = 86_400_000;
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every row of a device table, as a researcher compares them: by seq, integer ids replaced by the row they name. */
function rowsOf(file: string, table: string, deviceId: string): Record<string, unknown>[] {
  const db = new Database(file, { readonly: true });
  try {
    const pk = (db.prepare('SELECT name, type, pk FROM pragma_table_info(?)').all(table) as { name: string; type: string; pk: number }[])
      .filter((c) => c.pk > 0);
    const id = pk.length === 1 && pk[0]!.type === 'INTEGER' ? pk[0]!.name : null;
    const turnSeq = new Map((db.prepare('SELECT turn_id, seq FROM turns').all() as { turn_id: number; seq: number }[]).map((r) => [r.turn_id, r.seq]));
    return (db.prepare(`SELECT * FROM "${table}" WHERE device_id = ? ORDER BY seq`).all(deviceId) as Record<string, unknown>[]).map((r) => {
      const out = { ...r };
      if (id) delete out[id];
      if (table !== 'turns' && typeof out.turn_id === 'number') out.turn_id = `turn seq ${turnSeq.get(out.turn_id)}`;
      return out;
    });
  } finally {
    db.close();
  }
}

const DEVICE_TABLES = ['devices', 'participants', 'sessions', 'turns', 'events', 'responses', 'affect_samples', 'safeguard_events', 'memories',
  'schedule_instances', 'consent_records', 'tombstones', 'safeguard_incidents', 'participant_values'];

function expectSameRows(device: string, study: string, deviceId: string): void {
  for (const t of DEVICE_TABLES) expect(rowsOf(study, t, deviceId), `${t} of ${deviceId}`).toEqual(rowsOf(device, t, deviceId));
}

const count = (file: string, sql: string, ...params: unknown[]): number => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(sql).get(...params) as { n: number }).n;
  } finally {
    db.close();
  }
};

/** A device database written through the store API, as the runtime writes it: one participant, `days` sessions. */
class Device {
  readonly identity: DeviceIdentity;
  readonly store: SqliteStore;
  readonly pid: string;
  day = 0;

  constructor(readonly file: string, deviceId: string, pid: string) {
    this.identity = { deviceId, tz: 'America/New_York', clockSource: 'simulated' };
    this.pid = pid;
    this.store = SqliteStore.open(file);
    const log = this.log;
    log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, T0);
    log.enrollParticipant({ participantId: pid, startDate: '2026-12-01', condition: 'matched', protocolId: 'es', protocolVersion: '1', protocolHash: 'h1' }, T0);
    this.store.consent.record(this.identity, [{ participantId: pid, consentVersion: 1, modality: 'transcripts', granted: true, method: 'staff', prompt: 'May I keep your words?', protocolHash: 'h1' }], T0);
    this.store.study.saveScheduleInstances(this.identity, Array.from({ length: 5 }, (_, i) => ({
      participantId: pid, instanceId: `${pid}-i${i + 1}`, slot: 'daily', studyDay: i + 1, localDate: `2026-12-0${i + 1}`, templateId: 'daily',
      windowStartUtc: new Date(T0 + i * DAY).toISOString(), windowEndUtc: new Date(T0 + i * DAY + 3_600_000).toISOString(),
      windowStartLocal: '09:30', windowEndLocal: '10:30', protocolHash: 'h1',
    })), T0);
  }

  get log() {
    return this.store.forDevice(this.identity);
  }

  /** One day's session: turns, safeguard checks naming a turn, affect samples, an answer, a memory. */
  session(words = 'I called my sister today'): string {
    this.day++;
    const at = T0 + (this.day - 1) * DAY;
    const sid = `${this.pid}-d${this.day}`;
    const log = this.log;
    log.startSession({ sessionId: sid, participantId: this.pid, studyDay: this.day, protocolHash: 'h1', condition: 'matched' }, at);
    log.recordTurn({ sessionId: sid, speaker: 'robot', text: 'How are you today?', step: 'checkin', startMs: at + 1000, endMs: at + 2000 });
    const turn = log.recordTurn({ sessionId: sid, speaker: 'participant', text: words, step: 'checkin', startMs: at + 3000, endMs: at + 5000 });
    log.recordSafeguardEvents([{ atMs: at + 5001, sessionId: sid, turnId: turn, direction: 'input', checkName: 'crisis', checkVersion: '1', score: 0.1, threshold: 0.5, decision: 'pass', evidence: null }]);
    log.recordAffectSamples(Array.from({ length: 10 }, (_, i) => ({ atMs: at + 1000 * i, sessionId: sid, valence: 0.2, arousal: 0.4, label: 'calm', confidence: 0.9, sources: { face: 0.9 } })));
    log.recordResponse({ sessionId: sid, instrument: 'mood', item: 'valence', value: 5, rawText: 'five', status: 'answered', scoringVersion: 'm1' }, at + 6000);
    this.store.memories(this.identity).add({ participantId: this.pid, sessionId: sid, saidAtMs: at + 5000, tz: this.identity.tz, studyDay: this.day, summary: words, people: ['sister'], places: [], feelings: [], topics: [], method: 'extractive' });
    log.finishSession(sid, 'completed', null, at + 7000);
    this.store.study.updateScheduleInstance(this.pid, `${this.pid}-i${this.day}`, { status: 'completed', statusReason: null, sessionId: sid }, at + 7000);
    return sid;
  }

  /** A crisis incident with the participant's words in its checks. */
  incident(sid: string, id: string): void {
    const turn = this.log.turns(sid).at(-1)!.turnId;
    this.store.safeguards(this.log).recordIncident({
      incidentId: id, kind: 'crisis', severity: 'serious', participantId: this.pid, sessionId: sid, turnId: turn,
      description: 'crisis language', robotAction: 'gave 988', harm: 'unknown', causality: 'not yet assessed', reportDueBy: null,
      checks: [{ check: 'crisis', version: '1', score: 0.9, threshold: 0.5, decision: 'block', evidence: 'I do not want to be here', evidenceSpan: { cue: 'crisis.not-here', text: 'I do not want to be here' } }],
    }, T0 + this.day * DAY - 1000);
  }

  /** Withdraw the participant as `hearth withdraw` does (the same store calls). */
  withdraw(atMs: number): void {
    const scope = this.store.withdrawal.participantScope(this.pid, [this.identity.deviceId]);
    this.store.withdrawal.retainIncidentsWithoutWords(scope, atMs);
    this.store.withdrawal.purgeParticipant(scope, { studyId: 'es', protocolHash: 'h1', identity: this.identity, atMs, filesPurged: 0 });
  }

  /** A copy of the file as it is now, as staff would bring it back. */
  copy(to: string): string {
    this.store.close();
    copyFileSync(this.file, to);
    (this as { store: SqliteStore }).store = SqliteStore.open(this.file);
    return to;
  }
}

const collected = (r: unknown) => r as FileCollected;

describe('collectDevices', () => {
  it('merges devices keyed by (device_id, seq), and running it again adds nothing', async () => {
    const dir = tmp();
    const a = new Device(join(dir, 'a.sqlite'), 'dev-a', 'P01');
    const b = new Device(join(dir, 'b.sqlite'), 'dev-b', 'P02');
    for (let i = 0; i < 3; i++) {
      a.session();
      b.session();
    }
    const fa = a.copy(join(dir, 'a-copy.sqlite'));
    const fb = b.copy(join(dir, 'b-copy.sqlite'));
    const study = join(dir, 'study.sqlite');
    const first = await collectDevices({ files: [fa, fb], into: study });
    expect(first).toMatchObject({ collected: 2, refused: 0 });
    expect(collected(first.files[0]).devices[0]!.added).toMatchObject({ devices: 1, participants: 1, sessions: 3, turns: 6, affect_samples: 30, safeguard_events: 3, memories: 3, schedule_instances: 5, consent_records: 1 });
    // Both devices numbered their turns from 1; the study keeps each, and checks still name their own turn.
    expect(count(study, 'SELECT COUNT(*) AS n FROM turns')).toBe(12);
    expectSameRows(fa, study, 'dev-a');
    expectSameRows(fb, study, 'dev-b');

    const again = await collectDevices({ files: [fa, fb], into: study });
    expect(again.rows).toEqual({ added: 0, updated: 0, deleted: 0, purged: 0 });
    expect(count(study, 'SELECT COUNT(*) AS n FROM turns')).toBe(12);
    expectSameRows(fa, study, 'dev-a');
    const source = openForAnalysis(study);
    expect(source).toMatchObject({ kind: 'study', deviceIds: ['dev-a', 'dev-b'], collections: 4 });
    source.close();
    a.store.close();
    b.store.close();
  });

  it('a later copy adds only the new rows, updates rows changed in place and removes rows the device deleted', async () => {
    const dir = tmp();
    const a = new Device(join(dir, 'a.sqlite'), 'dev-a', 'P01');
    const s1 = a.session();
    a.incident(s1, 'inc-1');
    const open = `${a.pid}-open`;
    a.log.startSession({ sessionId: open, participantId: a.pid, studyDay: 1, protocolHash: 'h1', condition: 'matched' }, T0 + 3_600_000);
    const study = join(dir, 'study.sqlite');
    const early = a.copy(join(dir, 'early.sqlite'));
    await collectDevices({ files: [early], into: study });
    expect(count(study, "SELECT COUNT(*) AS n FROM sessions WHERE status = 'started'")).toBe(1);

    // Later: two more days, the open session interrupted, the incident delivered, a memory forgotten.
    a.session();
    a.session();
    a.log.finishSession(open, 'interrupted', 'power cut', T0 + 3_700_000);
    a.store.safeguards(a.log).markAlert('inc-1', 'sent', T0 + 2 * DAY);
    a.store.safeguards(a.log).acknowledge('inc-1', T0 + 2 * DAY + 10);
    const forgotten = a.store.memories(a.identity).list(a.pid)[0]!;
    a.store.memories(a.identity).delete(a.pid, [forgotten.memoryId]);
    const later = a.copy(join(dir, 'later.sqlite'));
    const second = collected((await collectDevices({ files: [later], into: study })).files[0]);
    const d = second.devices[0]!;
    expect(d.added).toMatchObject({ sessions: 2, turns: 4, affect_samples: 20, memories: 2 });
    expect(d.added.devices).toBeUndefined();
    expect(d.updated).toMatchObject({ sessions: 1, safeguard_incidents: 1, schedule_instances: 2 });
    expect(d.deleted).toEqual({ memories: 1 });
    expectSameRows(later, study, 'dev-a');
    expect(count(study, "SELECT COUNT(*) AS n FROM memories WHERE device_id = 'dev-a'")).toBe(2);

    // The early copy again: older than what the study holds, so nothing is reverted or brought back.
    const stale = collected((await collectDevices({ files: [early], into: study })).files[0]).devices[0]!;
    expect(stale).toMatchObject({ olderCopy: true, added: {}, updated: {} });
    expectSameRows(later, study, 'dev-a');
    a.store.close();
  });

  it('refuses truncated, corrupt, garbage, foreign, newer-version and study files by name, without touching the study database', async () => {
    const dir = tmp();
    const a = new Device(join(dir, 'a.sqlite'), 'dev-a', 'P01');
    for (let i = 0; i < 5; i++) a.session('a long answer about my week, my sister, the hospital and the garden '.repeat(40));
    const good = a.copy(join(dir, 'good.sqlite'));
    a.store.close();
    const bytes = readFileSync(good);
    expect(bytes.length).toBeGreaterThan(8 * 4096);
    const truncated = join(dir, 'truncated.sqlite');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const corrupt = join(dir, 'corrupt.sqlite');
    const broken = Buffer.from(bytes);
    broken.fill(0xff, 4 * 4096, 7 * 4096);
    writeFileSync(corrupt, broken);
    const garbage = join(dir, 'garbage.sqlite');
    writeFileSync(garbage, Buffer.from(Array.from({ length: 16384 }, (_, i) => (i * 7919) % 251)));
    const foreign = join(dir, 'photos.sqlite');
    const f = new Database(foreign);
    f.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos (name) VALUES ('beach')");
    f.close();
    const newer = join(dir, 'newer.sqlite');
    copyFileSync(good, newer);
    const n = new Database(newer);
    n.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    n.close();

    const study = join(dir, 'study.sqlite');
    const other = new Device(join(dir, 'b.sqlite'), 'dev-b', 'P02');
    other.session();
    await collectDevices({ files: [other.copy(join(dir, 'b-copy.sqlite'))], into: study });
    other.store.close();
    const before = sha(study);
    const anotherStudy = join(dir, 'another-study.sqlite');
    await collectDevices({ files: [good], into: anotherStudy });

    const r = await collectDevices({ files: [truncated, corrupt, garbage, foreign, newer, anotherStudy, join(dir, 'missing.sqlite')], into: study });
    expect(r).toMatchObject({ collected: 0, refused: 7 });
    const problems = Object.fromEntries((r.files as FileRefused[]).map((x) => [x.file.slice(dir.length + 1), x.problem]));
    expect(problems).toEqual({
      'truncated.sqlite': expect.stringMatching(/^truncated: \d+ bytes, but its header says \d+ pages/),
      'corrupt.sqlite': expect.stringMatching(/^corrupt \(/),
      'garbage.sqlite': 'not a SQLite database (file is not a database)',
      'photos.sqlite': "not a Hearth database (its tables are another program's)",
      'newer.sqlite': `database schema version ${SCHEMA_VERSION + 1} is newer than this Hearth supports (${SCHEMA_VERSION}); upgrade Hearth to collect it`,
      'another-study.sqlite': 'is a study database, not a device database',
      'missing.sqlite': 'file not found',
    });
    expect(sha(study)).toBe(before);
    // The good file next to bad ones is still collected.
    const mixed = await collectDevices({ files: [garbage, good], into: study });
    expect(mixed).toMatchObject({ collected: 1, refused: 1 });
    expectSameRows(good, study, 'dev-a');
  });

  it('refuses a device file as the study database, a re-created device, and another device under the same id', async () => {
    const dir = tmp();
    const a = new Device(join(dir, 'a.sqlite'), 'dev-a', 'P01');
    a.session();
    const fa = a.copy(join(dir, 'a-copy.sqlite'));
    a.store.close();
    await expect(collectDevices({ files: [fa], into: a.file })).rejects.toThrow(/a\.sqlite: is a device database, not a study database/);
    const study = join(dir, 'study.sqlite');
    await collectDevices({ files: [fa], into: study });
    const again = new Device(join(dir, 'a2.sqlite'), 'dev-a', 'P01');
    again.store.close();
    const db = new Database(again.file);
    db.prepare("UPDATE devices SET ts_utc = '2027-01-01T00:00:00.000Z'").run();
    db.close();
    const r = await collectDevices({ files: [again.file], into: study });
    expect((r.files[0] as FileRefused).problem).toMatch(/^device dev-a was registered at 2027-01-01T00:00:00.000Z .* the device database was re-created/);
    // Another device given the same id, registered at the same instant (two simulations of one seed's first participant).
    const twin = new Device(join(dir, 'twin.sqlite'), 'dev-a', 'P01');
    twin.session('something else entirely');
    twin.session();
    const twinCopy = twin.copy(join(dir, 'twin-copy.sqlite'));
    twin.store.close();
    const before = count(study, 'SELECT COUNT(*) AS n FROM turns');
    const t = await collectDevices({ files: [twinCopy], into: study });
    expect((t.files[0] as FileRefused).problem).toMatch(/^device dev-a: its \w+ row seq \d+ differs from the one collected before under the same device id and seq/);
    expect(count(study, 'SELECT COUNT(*) AS n FROM turns')).toBe(before);
  });

  it('reads a device that is being written through one consistent snapshot', async () => {
    const dir = tmp();
    const file = join(dir, 'live.sqlite');
    const study = join(dir, 'study.sqlite');
    const writer = spawn(process.execPath, ['--import', 'tsx', join(dirname(fileURLToPath(import.meta.url)), 'writer.fixture.ts'), file, 'dev-live'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((ok, fail) => {
        writer.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && ok());
        writer.on('exit', (code) => fail(new Error(`writer exited ${code}`)));
      });
      const seen: number[] = [];
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 150));
        const r = await collectDevices({ files: [file], into: study });
        expect(r.refused).toBe(0);
        // Each batch of 50 is one transaction on the device: a half-state would show a partial batch or a gap in seq.
        const samples = count(study, "SELECT COUNT(*) AS n FROM affect_samples WHERE device_id = 'dev-live'");
        expect(samples % 50).toBe(0);
        expect(count(study, "SELECT MAX(seq) - MIN(seq) + 1 AS n FROM affect_samples WHERE device_id = 'dev-live'")).toBe(samples);
        expect(count(study, "SELECT last_seq AS n FROM device_seq WHERE device_id = 'dev-live'")).toBe(samples + 1);
        seen.push(samples);
      }
      expect(seen.at(-1)!).toBeGreaterThan(seen[0]!);
    } finally {
      writer.kill();
    }
    await new Promise((r) => writer.once('close', r));
    await collectDevices({ files: [file], into: study });
    expectSameRows(file, study, 'dev-live');
  }, 30_000);

  it("propagates a withdrawal: the participant's rows leave the study, the kept records stay, and the purge is recorded", async () => {
    const dir = tmp();
    const a = new Device(join(dir, 'a.sqlite'), 'dev-a', 'P01');
    const b = new Device(join(dir, 'b.sqlite'), 'dev-b', 'P02');
    const s1 = a.session('I do not want to be here');
    a.incident(s1, 'inc-1');
    a.session();
    b.session();
    const study = join(dir, 'study.sqlite');
    const before = a.copy(join(dir, 'a-before.sqlite'));
    await collectDevices({ files: [before, b.copy(join(dir, 'b-copy.sqlite'))], into: study });
    expect(count(study, "SELECT COUNT(*) AS n FROM turns WHERE text LIKE '%want to be here%'")).toBe(1);

    const withdrawnAt = T0 + 3 * DAY;
    a.withdraw(withdrawnAt);
    const after = a.copy(join(dir, 'a-after.sqlite'));
    a.store.close();
    const r = await collectDevices({ files: [after], into: study, now: () => T0 + 4 * DAY });
    const d = collected(r.files[0]).devices[0]!;
    expect(d.purges).toEqual([{
      participantId: 'P01', deviceId: 'dev-a', withdrawnTsUtc: new Date(withdrawnAt).toISOString(), incidentsKept: 1,
      rows: expect.objectContaining({ participants: 1, sessions: 2, turns: 4, memories: 2, affect_samples: 20, devices: 1, schedule_instances: 5 }),
    }]);
    expect(r.rows.purged).toBeGreaterThan(40);
    // What the device keeps, the study keeps: tombstone, consent, the incident without the participant's words.
    expectSameRows(after, study, 'dev-a');
    expect(count(study, "SELECT COUNT(*) AS n FROM tombstones WHERE participant_id = 'P01'")).toBe(1);
    expect(count(study, "SELECT COUNT(*) AS n FROM consent_records WHERE participant_id = 'P01'")).toBe(1);
    const incident = new Database(study, { readonly: true }).prepare("SELECT session_id, turn_id, checks_json, retained_ts_utc FROM safeguard_incidents WHERE incident_id = 'inc-1'").get() as Record<string, unknown>;
    expect(incident).toMatchObject({ session_id: null, turn_id: null, retained_ts_utc: new Date(withdrawnAt).toISOString() });
    expect(incident.checks_json).not.toMatch(/want to be here/);
    // No word of theirs is left anywhere in the file, and the other participant is untouched.
    expect(readFileSync(study).includes('want to be here')).toBe(false);
    expect(count(study, "SELECT COUNT(*) AS n FROM turns WHERE device_id = 'dev-b'")).toBe(2);

    // The copy from before the withdrawal, collected again, cannot bring anything back.
    const stale = collected((await collectDevices({ files: [before], into: study })).files[0]).devices[0]!;
    expect(stale).toMatchObject({ olderCopy: true, added: {}, purges: [] });
    expect(count(study, "SELECT COUNT(*) AS n FROM sessions WHERE participant_id = 'P01'")).toBe(0);

    const store = SqliteStore.open(study);
    const records = collectionsOf(store);
    store.close();
    expect(records.find((c) => c.file === after)).toMatchObject({ deviceId: 'dev-a', purges: [expect.objectContaining({ participantId: 'P01', incidentsKept: 1 })] });
  });

  it('records every collection: file, sha256, device, seq range, rows per table and when', async () => {
    const dir = tmp();
    const a = new Device(join(dir, 'a.sqlite'), 'dev-a', 'P01');
    a.session();
    const fa = a.copy(join(dir, 'a-copy.sqlite'));
    a.store.close();
    const study = join(dir, 'study.sqlite');
    const at = Date.UTC(2027, 0, 5, 12);
    await collectDevices({ files: [fa], into: study, now: () => at, hearthVersion: '9.9.9' });
    await collectDevices({ files: [fa], into: study, now: () => at + 1000, hearthVersion: '9.9.9' });
    const store = SqliteStore.open(study);
    const records = collectionsOf(store);
    store.close();
    const last = count(fa, "SELECT last_seq AS n FROM device_seq WHERE device_id = 'dev-a'");
    expect(records).toEqual([
      {
        collectionId: 1, file: fa, sha256: sha(fa), bytes: statSync(fa).size, schemaVersion: SCHEMA_VERSION, deviceId: 'dev-a', seqMin: 1, seqMax: last,
        lastSeq: last, olderCopy: false, added: expect.objectContaining({ turns: 2, sessions: 1 }), updated: {}, deleted: {}, purges: [],
        collectedTsUtc: '2027-01-05T12:00:00.000Z', hearthVersion: '9.9.9',
      },
      expect.objectContaining({ collectionId: 2, sha256: sha(fa), added: {}, collectedTsUtc: '2027-01-05T12:00:01.000Z' }),
    ]);
  });
});

/** Complete tables of an increment (runtime/server/PROTOCOL.md). */
const COMPLETE = ['devices', 'participants', 'memories', 'participant_values'];

/**
 * An increment by hand, as PROTOCOL.md defines it (the device's builder is data/uplink/): a copy of the
 * device file holding the rows seqFrom < seq <= seqTo, every row that can change in place (a superset
 * of the changed ones), the turns named by checks in range, and the complete tables as of seqTo.
 */
function incrementOf(device: string, out: string, deviceId: string, seqFrom: number, seqTo: number): string {
  copyFileSync(device, out);
  const db = new Database(out);
  // An increment names sessions and participants of earlier batches: references are checked in the study, not here.
  db.pragma('foreign_keys = OFF');
  try {
    for (const t of DEVICE_TABLES) {
      const cols = (db.prepare('SELECT name FROM pragma_table_info(?)').all(t) as { name: string }[]).map((c) => c.name);
      db.prepare(`DELETE FROM "${t}" WHERE seq > ?`).run(seqTo);
      if (COMPLETE.includes(t) || cols.includes('updated_ts_utc') || cols.includes('last_activity_ms')) continue;
      const referenced = t === 'turns' ? ' AND turn_id NOT IN (SELECT turn_id FROM safeguard_events WHERE seq > @from AND turn_id IS NOT NULL)' : '';
      db.prepare(`DELETE FROM "${t}" WHERE seq <= @from${referenced}`).run({ from: seqFrom });
    }
    db.prepare('UPDATE device_seq SET last_seq = ?').run(seqTo);
    db.exec(`CREATE TABLE ${INCREMENT_META} (key TEXT PRIMARY KEY, value TEXT)`);
    const meta = { kind: 'increment', device_id: deviceId, seq_from: String(seqFrom), seq_to: String(seqTo), complete_tables: JSON.stringify(COMPLETE) };
    for (const [k, v] of Object.entries(meta)) db.prepare(`INSERT INTO ${INCREMENT_META} VALUES (?, ?)`).run(k, v);
  } finally {
    db.close();
  }
  return out;
}

describe('collectInto with increments (the study server\'s merge)', () => {
  it('increments in order give the same study as collecting the whole file; a replay adds nothing; deletions come from complete tables only', async () => {
    const dir = tmp();
    const a = new Device(join(dir, 'a.sqlite'), 'dev-a', 'P01');
    a.session();
    a.session();
    const mid = count(a.file, "SELECT last_seq AS n FROM device_seq");
    const early = a.copy(join(dir, 'early.sqlite'));
    a.session();
    // A memory of day 1 is forgotten after the first batch was built: only the complete table can say so.
    const forgotten = a.store.memories(a.identity).list(a.pid)[0]!;
    a.store.memories(a.identity).delete(a.pid, [forgotten.memoryId]);
    const last = count(a.file, "SELECT last_seq AS n FROM device_seq");
    const full = a.copy(join(dir, 'full.sqlite'));
    a.store.close();

    const first = incrementOf(early, join(dir, 'i1.sqlite'), 'dev-a', 0, mid);
    const second = incrementOf(full, join(dir, 'i2.sqlite'), 'dev-a', mid, last);
    const study = openStudyStore(join(dir, 'study.sqlite'));
    const r1 = await collectInto(study, first, { label: 'uplink:dev-a:0-' + mid, private: true, onlyDevice: 'dev-a' });
    expect(r1).toMatchObject({ status: 'collected', file: `uplink:dev-a:0-${mid}` });
    // Concurrent calls queue: the second batch and a replay of the first arrive at once.
    const [r2, replay] = await Promise.all([
      collectInto(study, second, { private: true, onlyDevice: 'dev-a' }),
      collectInto(study, first, { private: true, onlyDevice: 'dev-a' }),
    ]);
    expect(count(join(dir, 'study.sqlite'), "SELECT COUNT(*) AS n FROM memories")).toBe(2);
    expect(collected(r2).devices[0]).toMatchObject({ lastSeq: last, added: expect.objectContaining({ sessions: 1, turns: 2, memories: 1 }), deleted: { memories: 1 } });
    expect(collected(replay).devices[0]).toMatchObject({ olderCopy: true, added: {}, updated: {}, deleted: {} });
    study.close();
    expectSameRows(full, join(dir, 'study.sqlite'), 'dev-a');
    // The first increment had no turns of day 3, yet nothing was deleted from the partial tables.
    expect(count(join(dir, 'study.sqlite'), "SELECT COUNT(*) AS n FROM turns")).toBe(6);
    expect(count(join(dir, 'study.sqlite'), "SELECT COUNT(*) AS n FROM memories")).toBe(2);
  });

  it('refuses an increment that leaves a gap, one holding another device\'s rows, and a malformed one, writing nothing', async () => {
    const dir = tmp();
    const a = new Device(join(dir, 'a.sqlite'), 'dev-a', 'P01');
    a.session();
    const mid = count(a.file, "SELECT last_seq AS n FROM device_seq");
    a.session();
    const last = count(a.file, "SELECT last_seq AS n FROM device_seq");
    const full = a.copy(join(dir, 'full.sqlite'));
    a.store.close();
    const study = openStudyStore(join(dir, 'study.sqlite'));
    const gap = await collectInto(study, incrementOf(full, join(dir, 'gap.sqlite'), 'dev-a', mid, last), { private: true });
    expect((gap as FileRefused).problem).toMatch(new RegExp(`from seq ${mid}, but the study holds it only up to seq 0; resend from 0`));
    const foreign = await collectInto(study, incrementOf(full, join(dir, 'other.sqlite'), 'dev-a', 0, last), { private: true, onlyDevice: 'dev-b' });
    expect((foreign as FileRefused).problem).toMatch(/holds rows of device dev-a in devices, but may only hold device dev-b's/);
    const bad = incrementOf(full, join(dir, 'bad.sqlite'), 'dev-a', 0, last);
    const db = new Database(bad);
    db.prepare(`UPDATE ${INCREMENT_META} SET value = 'nonsense' WHERE key = 'complete_tables'`).run();
    db.close();
    expect(((await collectInto(study, bad, { private: true })) as FileRefused).problem).toMatch(/increment_meta table is malformed/);
    study.close();
    expect(count(join(dir, 'study.sqlite'), 'SELECT COUNT(*) AS n FROM turns')).toBe(0);
    expect(count(join(dir, 'study.sqlite'), 'SELECT COUNT(*) AS n FROM collections')).toBe(0);
  });
});
