import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openForAnalysis, SqliteStore } from '../../../data/index.js';
import { runCommand, runCommandResult } from '../../../test/support/run-command.js';
import { isUserError } from '../errors.js';
import { simulate } from '../../simulate.js';
import { register as collect } from './collect.js';
import { register as provision } from './provision.js';
import { register as withdraw } from './withdraw.js';

afterEach(() => vi.restoreAllMocks());
const tmp = () => mkdtempSync(join(tmpdir(), 'hearth-collect-cli-'));
const PROTOCOL = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'protocols', 'storytelling.yaml');

/** Run `hearth collect …` in-process: what it printed, what it wrote to stderr, and the exit code main() would give. */
async function run(...args: string[]): Promise<{ out: string[]; err: string[]; code: number }> {
  const err: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err.push(String(s));
    return true;
  });
  try {
    const { out, error } = await runCommandResult(collect, 'collect', ...args);
    if (error === undefined) return { out, err, code: 0 };
    return { out, err: [...err, (error as Error).message], code: isUserError(error) ? 2 : 1 };
  } finally {
    vi.mocked(process.stderr.write).mockRestore();
  }
}

const count = (file: string, sql: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('hearth collect', () => {
  it('collects simulated devices, prints a line per file, and a second run adds nothing (--json)', async () => {
    const dir = tmp();
    // Two devices in separate files, and a file holding two more devices (as `hearth simulate` writes them).
    for (const first of [1, 2]) await simulate({ participants: 1, days: 3, seed: 4, dbFile: join(dir, `dev${first}.sqlite`), firstParticipant: first });
    await simulate({ participants: 2, days: 3, seed: 4, dbFile: join(dir, 'pair.sqlite'), firstParticipant: 3 });
    const study = join(dir, 'study.sqlite');
    const files = ['dev1.sqlite', 'dev2.sqlite', 'pair.sqlite'].map((f) => join(dir, f));
    const text = await run(...files, '--into', study);
    expect(text.code).toBe(0);
    expect(text.out).toHaveLength(4);
    expect(text.out[0]).toMatch(/dev1\.sqlite: device sim-device-001 \(seq 1–\d+\), \d+ rows added \(devices 1, participants 1, sessions \d+, turns \d+/);
    expect(text.out[2]).toMatch(/pair\.sqlite: device sim-device-003 .*; device sim-device-004 /);
    expect(text.out[3]).toMatch(/^collected 3 of 3 files into .*study\.sqlite: \d+ rows added, 0 updated, 0 deleted, 0 purged by withdrawals, in [\d.]+ s$/);
    const turns = count(study, 'SELECT COUNT(*) AS n FROM turns');
    expect(turns).toBe(files.reduce((n, f) => n + count(f, 'SELECT COUNT(*) AS n FROM turns'), 0));

    const json = await run(...files, '--into', study, '--json');
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.out[0]!);
    expect(summary).toMatchObject({ collected: 3, refused: 0, rows: { added: 0, updated: 0, deleted: 0, purged: 0 }, rows_per_second: expect.any(Number) });
    expect(summary.files.map((f: { devices: unknown[] }) => f.devices.length)).toEqual([1, 1, 2]);
    expect(count(study, 'SELECT COUNT(*) AS n FROM turns')).toBe(turns);
    const source = openForAnalysis(study);
    expect(source).toMatchObject({ kind: 'study', deviceIds: ['sim-device-001', 'sim-device-002', 'sim-device-003', 'sim-device-004'], collections: 8 });
    source.close();
  }, 60_000);

  it('skips bad files with one line each naming the file and the problem, collects the rest, and exits 2', async () => {
    const dir = tmp();
    await simulate({ participants: 1, days: 2, seed: 1, dbFile: join(dir, 'good.sqlite') });
    const garbage = join(dir, 'garbage.sqlite');
    writeFileSync(garbage, 'not a database '.repeat(1000));
    const cut = join(dir, 'cut.sqlite');
    writeFileSync(cut, readFileSync(join(dir, 'good.sqlite')).subarray(0, 20_000));
    const study = join(dir, 'study.sqlite');
    const r = await run(garbage, join(dir, 'good.sqlite'), cut, '--into', study);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      `hearth: ${garbage}: not a SQLite database (file is not a database) (skipped; the study database was not changed for it)\n`,
      expect.stringMatching(/^hearth: .*cut\.sqlite: truncated: 20000 bytes, but its header says \d+ pages .*\(skipped; the study database was not changed for it\)\n$/),
      `2 of 3 files refused (listed above); 1 collected into ${study}`,
    ]);
    expect(r.out.at(-1)).toMatch(/^collected 1 of 3 files/);
    const json = await run(garbage, '--into', study, '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.out[0]!)).toMatchObject({ collected: 0, refused: 1, files: [{ status: 'refused', file: garbage, problem: 'not a SQLite database (file is not a database)' }] });
  }, 30_000);

  it('refuses a device database as --into with one line, and writes nothing to it', async () => {
    const dir = tmp();
    const device = join(dir, 'device.sqlite');
    await simulate({ participants: 1, days: 1, seed: 1, dbFile: device });
    const before = readFileSync(device);
    const r = await run(device, '--into', device);
    expect(r.code).toBe(2);
    expect(r.err.join('')).toMatch(/device\.sqlite: is a device database, not a study database; choose a new file for --into/);
    expect(readFileSync(device).equals(before)).toBe(true);
  }, 30_000);

  it('a device withdrawn with `hearth withdraw` takes the participant out of the study database on the next collection', async () => {
    const dir = tmp();
    const deviceDir = join(dir, 'P07');
    const start = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await runCommand(provision, 'provision', '--protocol', PROTOCOL, '--participant', 'P07', '--tz', 'UTC', '--start', start,
      '--device-dir', deviceDir, '--registry', join(dir, 'registry.sqlite'));
    const db = join(deviceDir, 'hearth.sqlite');
    const config = JSON.parse(readFileSync(join(deviceDir, 'device.json'), 'utf8')) as { deviceId: string };
    const store = SqliteStore.open(db);
    const log = store.forDevice({ deviceId: config.deviceId, tz: 'UTC', clockSource: 'system' });
    const at = Date.parse(`${start}T10:00:00Z`);
    log.startSession({ sessionId: 'P07-d01-1', participantId: 'P07', studyDay: 1, protocolHash: null, condition: null }, at);
    log.recordTurn({ sessionId: 'P07-d01-1', speaker: 'participant', text: 'my brother visited on sunday', step: 'checkin', startMs: at, endMs: at + 2000 });
    store.close();
    const study = join(dir, 'study.sqlite');
    const copy = join(dir, 'P07-before.sqlite');
    copyFileSync(db, copy);
    expect((await run(copy, '--into', study)).code).toBe(0);
    expect(count(study, "SELECT COUNT(*) AS n FROM turns WHERE text LIKE '%brother%'")).toBe(1);

    await runCommand(withdraw, 'withdraw', '--device-dir', deviceDir, '--participant', 'P07');
    const r = await run(db, '--into', study);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/withdrawal of P07 propagated: \d+ rows purged, 0 incident records kept without their words/);
    expect(count(study, "SELECT COUNT(*) AS n FROM sessions WHERE participant_id = 'P07'")).toBe(0);
    expect(count(study, "SELECT COUNT(*) AS n FROM tombstones WHERE participant_id = 'P07'")).toBe(1);
    expect(readFileSync(study).includes('brother')).toBe(false);
    const records = JSON.parse((await run(copy, '--into', study, '--json')).out[0]!);
    expect(records.files[0].devices[0]).toMatchObject({ olderCopy: true, added: {} });
    expect(count(study, "SELECT COUNT(*) AS n FROM turns WHERE text LIKE '%brother%'")).toBe(0);
  }, 30_000);
});
