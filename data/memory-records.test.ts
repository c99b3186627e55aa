import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sqliteHandle, SqliteStore } from './sqlite-store.js';
import { SqliteMemoryRecords } from './memory-records.js';

const open = () => SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'hearth-mem-')), 'h.db'));
const identity = { deviceId: 'dev-1', tz: 'UTC', clockSource: 'simulated' as const };

describe('SqliteMemoryRecords', () => {
  it('refuses a database without the memories table, naming the file', () => {
    const s = open();
    sqliteHandle(s).exec('DROP TABLE memories');
    expect(() => new SqliteMemoryRecords(sqliteHandle(s), identity)).toThrow(/h\.db: no memories table/);
    s.close();
  });

  it('rejects memories of unknown participants and empty summaries with the participant named', () => {
    const s = open();
    const r = new SqliteMemoryRecords(sqliteHandle(s), identity);
    const m = { participantId: 'P404', sessionId: null, saidAtMs: Date.UTC(2026, 0, 5), tz: 'UTC', studyDay: 1, summary: 'x', people: [], places: [], feelings: [], topics: [], method: 'extractive' as const };
    expect(() => r.add(m)).toThrow(/cannot store a memory for participant P404 \(FOREIGN KEY/);
    expect(() => r.add({ ...m, summary: ' ' })).toThrow(/P404 has an empty summary/);
    // The rejected row gave its sequence number back.
    expect(sqliteHandle(s).prepare('SELECT last_seq FROM device_seq').all()).toEqual([]);
    s.close();
  });

  it('stamps a memory with the common columns and the device seq, and records a recall as an update', () => {
    const s = open();
    const log = s.forDevice({ deviceId: 'dev-1', tz: 'America/New_York', clockSource: 'simulated' });
    const t0 = Date.parse('2026-03-02T23:00:00Z');
    log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, t0);
    log.enrollParticipant({ participantId: 'P01', startDate: '2026-03-01', condition: null, protocolId: null, protocolVersion: null, protocolHash: null }, t0);
    const r = new SqliteMemoryRecords(sqliteHandle(s), log.identity);
    const m = r.add({ participantId: 'P01', sessionId: null, saidAtMs: t0, tz: 'America/New_York', studyDay: 2, summary: 'your sister visited', people: ['your sister'], places: [], feelings: [], topics: [], method: 'extractive' });
    expect(m).toMatchObject({ saidTsLocal: '2026-03-02T18:00:00.000-05:00', studyDay: 2 });
    const row = () => sqliteHandle(s).prepare('SELECT * FROM memories WHERE memory_id = ?').get(m.memoryId) as Record<string, unknown>;
    expect(row()).toMatchObject({
      ts_utc: '2026-03-02T23:00:00.000Z', said_ts_utc: '2026-03-02T23:00:00.000Z', tz: 'America/New_York', ts_local: '2026-03-02T18:00:00.000-05:00',
      study_day: 2, device_id: 'dev-1', seq: 3, clock_source: 'simulated', updated_ts_utc: '2026-03-02T23:00:00.000Z',
    });
    r.markRecalled(m.memoryId, t0 + 86_400_000);
    expect(row()).toMatchObject({ seq: 3, recalled_count: 1, updated_ts_utc: '2026-03-03T23:00:00.000Z', last_recalled_ts_utc: '2026-03-03T23:00:00.000Z' });
    expect(() => r.add({ ...m, tz: 'Europe/Paris' })).toThrow(/time zone Europe\/Paris, but device dev-1 is in America\/New_York/);
    s.close();
  });
});
