// A full disk in the middle of a session (issue 13 item 6), on a real small file system: a 4 MiB tmpfs
// holding the device folder, filled while `hearth talk` runs as its own process (needs root to mount).
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DISK_FULL_LINE } from '../runtime/live.js';
import { queryFile, queryFileRow } from './support/read-db.js';
import { mountSmallDisk, tmpfsUnavailable, type SmallDisk } from './support/tmpfs.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = ['--import', 'tsx', join(ROOT, 'runtime', 'cli', 'main.ts')];
const PROTOCOL = join(ROOT, 'test', 'soak', 'soak-study.yaml');
const SCRIPT = join(ROOT, 'test', 'fixtures', 'scripts', 'demo.yaml');

type Result = { code: number | null; out: string; err: string };
const hearth = (...args: string[]): Promise<Result> =>
  new Promise((done) => {
    execFile(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 }, (error, out, err) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err });
    });
  });

const disks: SmallDisk[] = [];

/** A device folder provisioned for `participant` on a new 4 MiB tmpfs (unmounted after the test). */
async function provisionedOnSmallDisk(participant: string): Promise<{ disk: SmallDisk; dir: string; db: string }> {
  const disk = mountSmallDisk(4 * 1024 * 1024);
  disks.push(disk);
  const dir = join(disk.dir, participant.toLowerCase());
  const today = new Date().toISOString().slice(0, 10);
  const p = await hearth('provision', '--protocol', PROTOCOL, '--participant', participant, '--tz', 'UTC', '--start', today, '--device-dir', dir, '--registry', join(disk.dir, 'registry.sqlite'));
  expect(p.code, p.err).toBe(0);
  return { disk, dir, db: join(dir, 'hearth.sqlite') };
}
afterEach(() => {
  for (const d of disks.splice(0)) d.unmount();
});

describe.skipIf(tmpfsUnavailable !== null)(`hearth talk when the disk fills mid-session (a real tmpfs${tmpfsUnavailable ? `; skipped: ${tmpfsUnavailable}` : ''})`, () => {
  it('says a calm line, closes the session as interrupted naming the file, records the fault, exits 2 with one line; after space is freed the next talk runs', { timeout: 90_000 }, async () => {
    const { disk, dir, db } = await provisionedOnSmallDisk('P07');

    // Real-time replies (a few seconds each) keep the session open while the disk fills.
    const child = spawn(process.execPath, [...CLI, 'talk', '--device-dir', dir, '--script', SCRIPT, '--time-scale', '1'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    for (let i = 0; i < 300 && !/Hearth: .*AI/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    expect(out, err).toMatch(/Hearth: .*AI/);
    expect(existsSync(`${db}-reserve`)).toBe(true);
    disk.fill(0);
    const code = await exited;

    expect(code, err).toBe(2);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toContain(`hearth: ${db}: the disk is full`);
    expect(err).not.toMatch(/\n\s+at /);
    expect(out).toContain(`Hearth: ${DISK_FULL_LINE}`);
    const session = queryFileRow<{ status: string; status_reason: string }>(db, "SELECT status, status_reason FROM sessions ORDER BY seq DESC LIMIT 1");
    expect(session).toEqual({ status: 'interrupted', status_reason: `the disk is full (${db})` });
    const fault = queryFile<{ detail_json: string }>(db, "SELECT detail_json FROM events WHERE kind = 'store.disk_full'");
    expect(fault).toHaveLength(1);
    expect(JSON.parse(fault[0]!.detail_json)).toMatchObject({ file: db, reserveReleased: true });
    expect(queryFileRow(db, 'PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });

    disk.unfill();
    const again = await hearth('talk', '--device-dir', dir, '--script', SCRIPT, '--time-scale', '0.01');
    expect(again.code, again.err).toBe(0);
    // The script has fewer replies than a second session asks for, so it may end with "participant left".
    expect(again.err).toMatch(/session P07-d01-2: (completed|interrupted \(participant left\))/);
    expect(queryFile(db, "SELECT 1 FROM turns WHERE session_id = 'P07-d01-2' AND speaker = 'participant'").length).toBeGreaterThan(0);
    expect(existsSync(`${db}-reserve`)).toBe(true);
    expect(readFileSync(`${db}-reserve`).length).toBe(512 * 1024);
  });
  it('starting on a disk that is already full: one line naming the database, exit 2, no stack trace, and no temporary file left behind', { timeout: 90_000 }, async () => {
    const { disk, dir, db } = await provisionedOnSmallDisk('P08');
    const before = readdirSync(dir);
    disk.fill(0);
    // The soak found this: the device lock's holder note was written first, and ENOSPC there was a stack trace, exit 1.
    const r = await hearth('talk', '--device-dir', dir, '--script', SCRIPT, '--time-scale', '0.01');
    expect(r.code, r.err).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`hearth: ${db}: the disk is full`);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir).filter((f) => /\.tmp-\d+$/.test(f))).toEqual([]);
    disk.unfill();
    const again = await hearth('talk', '--device-dir', dir, '--script', SCRIPT, '--time-scale', '0.01');
    expect(again.code, again.err).toBe(0);
    expect(readdirSync(dir).filter((f) => !before.includes(f) && !/^hearth\.sqlite-(wal|shm|reserve)$|^hearth\.lock(\.json)?$|\.json$/.test(f))).toEqual([]);
  });
});
