import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { buildIncrement } from '../index.js';
import { SCHEMA_VERSION } from '../migrations.js';
import { FixtureDevice } from '../uplink/device.fixture.js';
import { readIncrementHeader } from './increment-file.js';

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

async function increment() {
  dir = mkdtempSync(join(tmpdir(), 'hearth-inc-'));
  const device = new FixtureDevice(join(dir, 'device.sqlite'), 'dev-a');
  device.session();
  const inc = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: 0, maxRows: 10_000, changedSince: null, dir });
  device.store.close();
  return { inc, bytes: gunzipSync(readFileSync(inc.file)), deviceFile: join(dir, 'device.sqlite') };
}

describe('readIncrementHeader', () => {
  it('reads the same header from an increment file and from its bytes in memory', async () => {
    const { inc, bytes } = await increment();
    const file = join(dir!, 'inc.sqlite');
    writeFileSync(file, bytes);
    const fromFile = readIncrementHeader(file);
    const fromBytes = readIncrementHeader(bytes);
    expect(fromFile).toEqual({ ok: true, header: { deviceId: 'dev-a', seqFrom: 0, seqTo: inc.seqTo } });
    expect(fromBytes).toEqual(fromFile);
  });

  it('refuses, from memory, a whole device database (written in WAL mode), junk, nothing, and a newer schema', async () => {
    const { bytes, deviceFile } = await increment();
    const whole = readFileSync(deviceFile);
    expect(whole[18]).toBe(2); // WAL: the copy is read as a rollback-journal file, not refused for that
    const w = readIncrementHeader(whole);
    expect(w.ok).toBe(false);
    expect(!w.ok && w.problem).toMatch(/no increment_meta table/);
    const junk = readIncrementHeader(Buffer.from('SQLite format 3\0 and then nothing'));
    expect(!junk.ok && junk.problem).toMatch(/^not an increment: /);
    expect(readIncrementHeader(Buffer.alloc(0)).ok).toBe(false);
    const newer = new Database(bytes);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    const n = readIncrementHeader(newer.serialize());
    newer.close();
    expect(!n.ok && n.problem).toMatch(new RegExp(`schema version ${SCHEMA_VERSION + 1} is newer`));
  });
});
