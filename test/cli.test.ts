import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The compiled `hearth` command, as a user runs it (built by the test command).
const BIN = join(import.meta.dirname, '..', 'bin', 'hearth.js');
// Asynchronous on purpose: a synchronous spawn blocks the test worker's event loop, and a minute of
// that on a loaded machine makes vitest's worker RPC time out ("Timeout calling onTaskUpdate").
const hearth = (...args: string[]): Promise<{ code: number | null; out: string; err: string }> =>
  new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, out, err) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      done({ code, out, err });
    });
  });
const tmp = () => mkdtempSync(join(tmpdir(), 'hearth-cli-'));

function tableDigest(file: string): string {
  const db = new Database(file, { readonly: true });
  const h = createHash('sha256');
  for (const t of ['participants', 'sessions', 'turns', 'responses', 'events', 'safeguard_events']) {
    h.update(JSON.stringify(db.prepare(`SELECT * FROM ${t} ORDER BY device_id, seq`).all()));
  }
  db.close();
  return h.digest('hex');
}

describe('hearth CLI', () => {
  it('has --help on every command', async () => {
    const top = await hearth('--help');
    expect(top.code).toBe(0);
    const section = top.out.slice(top.out.indexOf('Commands:'));
    const commands = [...section.matchAll(/^  ([a-z]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['talk', 'simulate', 'status', 'study', 'provision', 'schedule', 'withdraw', 'stories', 'safeguards', 'perceive']));
    // Side by side: each start of the CLI costs about a second of CPU (it loads every command).
    const helps = await Promise.all(commands.map((c) => hearth(c, '--help')));
    helps.forEach((r, i) => {
      expect(r.code, commands[i]).toBe(0);
      expect(r.out, commands[i]).toMatch(/Usage: hearth/);
    });
    for (const r of await Promise.all([['study', 'validate'], ['safeguards', 'eval']].map((sub) => hearth(...sub, '--help')))) expect(r.code).toBe(0);
  }, 180_000);

  it('simulate: the same seed gives the same sessions, turns and ratings; another seed does not', async () => {
    const dir = tmp();
    for (const [name, seed] of [['a', '5'], ['b', '5'], ['c', '6']] as const) {
      const r = await hearth('simulate', '--participants', '2', '--days', '4', '--seed', seed, '--db', join(dir, `${name}.sqlite`));
      expect(r.code, r.err).toBe(0);
    }
    expect(tableDigest(join(dir, 'a.sqlite'))).toBe(tableDigest(join(dir, 'b.sqlite')));
    expect(tableDigest(join(dir, 'a.sqlite'))).not.toBe(tableDigest(join(dir, 'c.sqlite')));
    const db = new Database(join(dir, 'a.sqlite'), { readonly: true });
    // Every scheduled day of both participants ended completed, expired (invited, never answered) or missed.
    const days = db.prepare('SELECT status FROM schedule_instances WHERE study_day <= 4').all() as { status: string }[];
    expect(days).toHaveLength(8);
    for (const d of days) expect(['completed', 'expired', 'missed']).toContain(d.status);
    expect(db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE status = 'started'").get()).toEqual({ n: 0 });
    expect((db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE status = 'completed'").get() as { n: number }).n).toBeGreaterThan(0);
    expect((db.prepare("SELECT COUNT(*) AS n FROM responses WHERE instrument = 'mood'").get() as { n: number }).n).toBeGreaterThan(0);
    db.close();
  }, 180_000);

  it('talk says why no session ran when the study has not started yet', async () => {
    const dir = tmp();
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const protocol = join(import.meta.dirname, 'fixtures', 'protocols', 'storytelling.yaml');
    const p = await hearth('provision', '--protocol', protocol, '--participant', 'P31', '--tz', 'UTC', '--start', tomorrow, '--device-dir', join(dir, 'd'), '--registry', join(dir, 'reg.sqlite'));
    expect(p.code, p.err).toBe(0);
    const r = await hearth('talk', '--device-dir', join(dir, 'd'));
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/session -: none \(no session is planned on study day -?\d+\)/);
  });

  describe('bad input: one clear line naming the file, the place and the problem; exit 2; no stack', () => {
    const expectUserError = (r: Awaited<ReturnType<typeof hearth>>, pattern: RegExp) => {
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(pattern);
      expect(r.err).not.toMatch(/\n\s+at /);
    };

    it('a missing script', async () => {
      const dir = tmp();
      expectUserError(await hearth('talk', '--script', join(dir, 'nope.yaml'), '--device-dir', join(dir, 'd'), '--tz', 'UTC'), /nope\.yaml: cannot read script \(ENOENT\)/);
    });

    it('a malformed script, with line and column', async () => {
      const dir = tmp();
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, 'replies:\n  - say: "hello"\n    after_ms: -5\n');
      expectUserError(await hearth('talk', '--script', file, '--device-dir', join(dir, 'd'), '--tz', 'UTC'), /bad\.yaml:3:15 replies\[0\]\.after_ms: must be a non-negative number/);
    });

    it('an invalid time zone', async () => {
      const dir = tmp();
      expectUserError(await hearth('talk', '--device-dir', join(dir, 'd'), '--tz', 'Mars/Olympus'), /Mars\/Olympus/);
    });

    it('a database path that is not a database', async () => {
      const dir = tmp();
      const file = join(dir, 'junk.sqlite');
      writeFileSync(file, 'hello, not sqlite '.repeat(200));
      expectUserError(await hearth('simulate', '--days', '1', '--participants', '1', '--db', file), /junk\.sqlite: not a readable Hearth database/);
      expectUserError(await hearth('status', '--db', join(dir, 'missing.sqlite')), /missing\.sqlite: database not found/);
    });

    it('a database from a newer Hearth is refused and not modified', async () => {
      const dir = tmp();
      const file = join(dir, 'future.sqlite');
      const db = new Database(file);
      db.pragma('user_version = 999');
      db.close();
      expectUserError(await hearth('status', '--db', file), /schema version 999 is newer.*not modified/);
    });

    it('a bad option value', async () => {
      expectUserError(await hearth('simulate', '--days', 'zero', '--db', join(tmp(), 'x.sqlite')), /option --days: expected an integer/);
    });

    it('with --debug the stack is printed too', async () => {
      const dir = tmp();
      mkdirSync(join(dir, 'd'));
      const r = await hearth('--debug', 'talk', '--script', join(dir, 'nope.yaml'), '--device-dir', join(dir, 'd'), '--tz', 'UTC');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/\n\s+at /);
    });
  });
});
