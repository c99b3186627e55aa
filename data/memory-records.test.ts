import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';
import { SqliteMemoryRecords } from './memory-records.js';

const open = () => SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'hearth-mem-')), 'h.db'));

describe('SqliteMemoryRecords', () => {
  it('refuses a database without the memories table, naming the file', () => {
    const s = open();
    s.db.exec('DROP TABLE memories');
    expect(() => new SqliteMemoryRecords(s.db)).toThrow(/h\.db: no memories table/);
    s.close();
  });

  it('rejects memories of unknown participants and empty summaries with the participant named', () => {
    const s = open();
    const r = new SqliteMemoryRecords(s.db);
    const m = { participantId: 'P404', sessionId: null, saidAtMs: Date.UTC(2026, 0, 5), tz: 'UTC', studyDay: 1, summary: 'x', people: [], places: [], feelings: [], topics: [], method: 'extractive' as const };
    expect(() => r.add(m)).toThrow(/cannot store a memory for participant P404 \(FOREIGN KEY/);
    expect(() => r.add({ ...m, summary: ' ' })).toThrow(/P404 has an empty summary/);
    s.close();
  });
});
