import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from './migrations.js';
import { sqliteHandle, SqliteStore } from './sqlite-store.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hearth-store-'));
const T0 = Date.UTC(2026, 11, 1, 14, 30); // 09:30 in New York

function seeded(file: string) {
  const store = SqliteStore.open(file);
  const log = store.forDevice({ deviceId: 'dev-1', tz: 'America/New_York', clockSource: 'system' });
  log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, T0);
  log.enrollParticipant({ participantId: 'P01', startDate: '2026-12-01', condition: 'matched', protocolId: 'es', protocolVersion: '1', protocolHash: 'abc' }, T0);
  log.startSession({ sessionId: 'S1', participantId: 'P01', studyDay: 1, protocolHash: 'abc', condition: 'matched' }, T0);
  return { store, log };
}

describe('SqliteStore on a real file', () => {
  it('uses WAL, synchronous FULL and foreign keys', () => {
    const { store } = seeded(join(tmp(), 'h.sqlite'));
    expect(sqliteHandle(store).pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sqliteHandle(store).pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(sqliteHandle(store).pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
  });

  it('stamps every row with UTC, zone, local time, study day, device and a monotonic sequence', () => {
    const { store, log } = seeded(join(tmp(), 'h.sqlite'));
    log.recordTurn({ sessionId: 'S1', speaker: 'robot', text: 'Hello', step: 'greeting', startMs: T0, endMs: T0 + 2000 });
    log.recordEvent('test.event', { a: 1 }, T0 + 3000, 'S1');
    const rows = sqliteHandle(store).prepare(`
      SELECT 'devices' AS t, ts_utc, tz, ts_local, study_day, device_id, seq FROM devices UNION ALL
      SELECT 'participants', ts_utc, tz, ts_local, study_day, device_id, seq FROM participants UNION ALL
      SELECT 'sessions', ts_utc, tz, ts_local, study_day, device_id, seq FROM sessions UNION ALL
      SELECT 'turns', ts_utc, tz, ts_local, study_day, device_id, seq FROM turns UNION ALL
      SELECT 'events', ts_utc, tz, ts_local, study_day, device_id, seq FROM events ORDER BY seq`).all() as Record<string, unknown>[];
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const r of rows) {
      expect(r.ts_utc).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(r.tz).toBe('America/New_York');
      expect(r.ts_local).toMatch(/-05:00$/);
      expect(r.device_id).toBe('dev-1');
    }
    const seqs = rows.map((r) => r.seq as number);
    expect(new Set(seqs).size).toBe(seqs.length);
    const turn = rows.find((r) => r.t === 'turns')!;
    expect(turn.ts_local).toBe('2026-12-01T09:30:02.000-05:00');
    expect(turn.study_day).toBe(1);
  });

  it('continues the sequence after reopening, never reusing a number', () => {
    const file = join(tmp(), 'h.sqlite');
    const { store, log } = seeded(file);
    log.recordEvent('a', null, T0);
    const before = (sqliteHandle(store).prepare('SELECT MAX(seq) AS m FROM events').get() as { m: number }).m;
    store.close();
    const again = SqliteStore.open(file);
    again.forDevice({ deviceId: 'dev-1', tz: 'America/New_York', clockSource: 'system' }).recordEvent('b', null, T0);
    const after = sqliteHandle(again).prepare("SELECT seq FROM events WHERE kind = 'b'").get() as { seq: number };
    expect(after.seq).toBe(before + 1);
  });

  it('writes a batch of affect samples in one transaction: all or nothing', () => {
    const { store, log } = seeded(join(tmp(), 'h.sqlite'));
    const sample = (i: number, sessionId = 'S1') => ({ atMs: T0 + i * 100, sessionId, valence: 0.1, arousal: 0.2, label: 'neutral', confidence: 0.5, sources: { face: 1 } });
    log.recordAffectSamples(Array.from({ length: 50 }, (_, i) => sample(i)));
    const seqs = (sqliteHandle(store).prepare('SELECT seq FROM affect_samples ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq);
    expect(seqs).toHaveLength(50);
    expect(seqs.at(-1)! - seqs[0]!).toBe(49);
    // One bad sample (unknown session) rolls the whole batch back.
    expect(() => log.recordAffectSamples([sample(60), sample(61, 'no-such-session'), sample(62)])).toThrow(/FOREIGN KEY/);
    expect((sqliteHandle(store).prepare('SELECT COUNT(*) AS n FROM affect_samples').get() as { n: number }).n).toBe(50);
  });

  it('rejects a turn for an unknown session and keeps the sequence intact', () => {
    const { store, log } = seeded(join(tmp(), 'h.sqlite'));
    const before = (sqliteHandle(store).prepare("SELECT last_seq FROM device_seq").get() as { last_seq: number }).last_seq;
    expect(() => log.recordTurn({ sessionId: 'nope', speaker: 'robot', text: 'x', step: null, startMs: T0, endMs: T0 })).toThrow(/FOREIGN KEY/);
    log.recordEvent('after', null, T0);
    expect((sqliteHandle(store).prepare("SELECT seq FROM events WHERE kind = 'after'").get() as { seq: number }).seq).toBe(before + 1);
  });

  it('closes a session exactly once', () => {
    const { log } = seeded(join(tmp(), 'h.sqlite'));
    log.finishSession('S1', 'completed', null, T0 + 1000);
    expect(() => log.finishSession('S1', 'interrupted', 'again', T0 + 2000)).toThrow(/not open/);
    expect(log.session('S1')?.status).toBe('completed');
    expect(log.openSessions()).toEqual([]);
  });

  it('refuses a database from a newer Hearth without modifying it', () => {
    const file = join(tmp(), 'new.sqlite');
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.exec('CREATE TABLE future (x)');
    raw.close();
    const bytes = readFileSync(file);
    const mtime = statSync(file).mtimeMs;
    expect(() => SqliteStore.open(file)).toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 5} is newer .*not modified`));
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(mtime);
  });

  it('names the file when it is not a database', () => {
    const file = join(tmp(), 'junk.sqlite');
    writeFileSync(file, 'this is not sqlite, just text '.repeat(100));
    expect(() => SqliteStore.open(file)).toThrow(new RegExp(`${file}: not a readable Hearth database`));
  });

  it('names the path when the database cannot be created', () => {
    const blocker = join(tmp(), 'a-file');
    writeFileSync(blocker, 'not a folder');
    const path = join(blocker, 'sub', 'h.sqlite');
    expect(() => SqliteStore.open(path)).toThrow(`${path}: cannot create the database folder`);
  });
});

describe('the write-ahead log at a start', () => {
  it('is copied back and emptied when a store opens after a kill left it large', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-wal-'));
    const file = join(dir, 'hearth.sqlite');
    SqliteStore.open(file).close();
    // A process that writes 8 MB through the WAL (no checkpoint) and is killed before it can close.
    const r = spawnSync(process.execPath, ['-e', `
      const D = require('better-sqlite3'); const db = new D(${JSON.stringify(file)});
      db.pragma('journal_mode = WAL'); db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE IF NOT EXISTS junk (b BLOB)');
      const ins = db.prepare('INSERT INTO junk VALUES (?)');
      for (let i = 0; i < 2000; i++) ins.run(Buffer.alloc(4096, i % 251));
      process.kill(process.pid, 'SIGKILL');
    `], { cwd: join(import.meta.dirname, '..') });
    expect(r.signal).toBe('SIGKILL');
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(8_000_000);
    const store = SqliteStore.open(file);
    try {
      expect(statSync(`${file}-wal`).size).toBe(0);
      expect((sqliteHandle(store).prepare('SELECT COUNT(*) AS n FROM junk').get() as { n: number }).n).toBe(2000);
      expect(sqliteHandle(store).pragma('journal_size_limit', { simple: true })).toBe(4 * 1024 * 1024);
    } finally {
      store.close();
    }
  });
});
