import Database from 'better-sqlite3';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openForAnalysis } from './analysis-source.js';
import { SCHEMA_VERSION } from './migrations.js';
import { sqliteHandle, SqliteStore } from './sqlite-store.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hearth-analysis-'));
const T0 = Date.UTC(2026, 11, 1, 14, 30);

function deviceFile(dir: string, deviceId = 'dev-1'): string {
  const file = join(dir, `${deviceId}.sqlite`);
  const store = SqliteStore.open(file);
  const log = store.forDevice({ deviceId, tz: 'America/New_York', clockSource: 'simulated' });
  log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, T0);
  log.enrollParticipant({ participantId: 'P01', startDate: '2026-12-01', condition: 'matched', protocolId: 'es', protocolVersion: '1', protocolHash: 'abc' }, T0);
  store.close();
  return file;
}

describe('openForAnalysis', () => {
  it('opens a device file read-only and says it is one', async () => {
    const file = deviceFile(tmp());
    const source = openForAnalysis(file);
    try {
      expect(source).toMatchObject({ kind: 'device', path: file, schemaVersion: SCHEMA_VERSION, deviceIds: ['dev-1'], collections: 0 });
      const n = await source.snapshot(() => (sqliteHandle(source.store).prepare('SELECT COUNT(*) AS n FROM participants').get() as { n: number }).n);
      expect(n).toBe(1);
      expect(() => sqliteHandle(source.store).exec("DELETE FROM participants")).toThrow(/readonly/);
    } finally {
      source.close();
    }
  });

  it('a snapshot does not see rows committed while it is open', async () => {
    const file = deviceFile(tmp());
    const source = openForAnalysis(file);
    const writer = SqliteStore.open(file);
    try {
      const count = () => (sqliteHandle(source.store).prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
      const [before, during] = await source.snapshot(async () => {
        const b = count();
        writer.forDevice({ deviceId: 'dev-1', tz: 'America/New_York', clockSource: 'simulated' }).recordEvent('test.written', null, T0 + 1000);
        await new Promise((r) => setTimeout(r, 5));
        return [b, count()];
      });
      expect(during).toBe(before);
      expect(count()).toBe(before + 1);
    } finally {
      writer.close();
      source.close();
    }
  });

  it('refuses a missing, garbage, foreign, newer, older or empty file with one line naming it', () => {
    const dir = tmp();
    const garbage = join(dir, 'garbage.sqlite');
    writeFileSync(garbage, 'this is not a database at all, just some words repeated '.repeat(100));
    const foreign = join(dir, 'foreign.sqlite');
    const f = new Database(foreign);
    f.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)');
    f.close();
    const newer = deviceFile(dir, 'dev-newer');
    const n = new Database(newer);
    n.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    n.close();
    const older = deviceFile(dir, 'dev-older');
    const o = new Database(older);
    o.pragma(`user_version = ${SCHEMA_VERSION - 1}`);
    o.close();
    const empty = join(dir, 'empty.sqlite');
    SqliteStore.open(empty).close();
    expect(() => openForAnalysis(join(dir, 'absent.sqlite'))).toThrow(/absent\.sqlite: database not found/);
    expect(() => openForAnalysis(garbage)).toThrow(/garbage\.sqlite: not a readable Hearth database/);
    expect(() => openForAnalysis(foreign)).toThrow(/foreign\.sqlite: not a Hearth database/);
    expect(() => openForAnalysis(newer)).toThrow(/dev-newer\.sqlite: database schema version \d+ is newer/);
    expect(() => openForAnalysis(older)).toThrow(/dev-older\.sqlite: database schema version \d+ is older/);
    expect(() => openForAnalysis(empty)).toThrow(/empty\.sqlite: holds no device data/);
  });
});
