import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The compiled `hearth` command, as a user runs it (built by the test command).
const BIN = join(import.meta.dirname, '..', 'bin', 'hearth.js');
const hearth = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
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
  it('has --help on every command', () => {
    const top = hearth('--help');
    expect(top.code).toBe(0);
    const section = top.out.slice(top.out.indexOf('Commands:'));
    const commands = [...section.matchAll(/^  ([a-z]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['talk', 'simulate', 'status', 'study', 'provision', 'schedule', 'withdraw', 'stories', 'safeguards', 'perceive']));
    for (const c of commands) {
      const r = hearth(c, '--help');
      expect(r.code, c).toBe(0);
      expect(r.out, c).toMatch(/Usage: hearth/);
    }
    for (const sub of [['study', 'validate'], ['safeguards', 'eval']]) expect(hearth(...sub, '--help').code).toBe(0);
  });

  it('simulate: the same seed gives the same sessions, turns and ratings; another seed does not', () => {
    const dir = tmp();
    for (const [name, seed] of [['a', '5'], ['b', '5'], ['c', '6']] as const) {
      const r = hearth('simulate', '--participants', '2', '--days', '4', '--seed', seed, '--db', join(dir, `${name}.sqlite`));
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
  });

  it('talk says why no session ran when the study has not started yet', () => {
    const dir = tmp();
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const protocol = join(import.meta.dirname, 'fixtures', 'protocols', 'storytelling.yaml');
    const p = hearth('provision', '--protocol', protocol, '--participant', 'P31', '--tz', 'UTC', '--start', tomorrow, '--device-dir', join(dir, 'd'), '--registry', join(dir, 'reg.sqlite'));
    expect(p.code, p.err).toBe(0);
    const r = hearth('talk', '--device-dir', join(dir, 'd'));
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/session -: none \(no session is planned on study day -?\d+\)/);
  });

  describe('bad input: one clear line naming the file, the place and the problem; exit 2; no stack', () => {
    const expectUserError = (r: ReturnType<typeof hearth>, pattern: RegExp) => {
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(pattern);
      expect(r.err).not.toMatch(/\n\s+at /);
    };

    it('a missing script', () => {
      const dir = tmp();
      expectUserError(hearth('talk', '--script', join(dir, 'nope.yaml'), '--device-dir', join(dir, 'd'), '--tz', 'UTC'), /nope\.yaml: cannot read script \(ENOENT\)/);
    });

    it('a malformed script, with line and column', () => {
      const dir = tmp();
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, 'replies:\n  - say: "hello"\n    after_ms: -5\n');
      expectUserError(hearth('talk', '--script', file, '--device-dir', join(dir, 'd'), '--tz', 'UTC'), /bad\.yaml:3:15 replies\[0\]\.after_ms: must be a non-negative number/);
    });

    it('an invalid time zone', () => {
      const dir = tmp();
      expectUserError(hearth('talk', '--device-dir', join(dir, 'd'), '--tz', 'Mars/Olympus'), /Mars\/Olympus/);
    });

    it('a database path that is not a database', () => {
      const dir = tmp();
      const file = join(dir, 'junk.sqlite');
      writeFileSync(file, 'hello, not sqlite '.repeat(200));
      expectUserError(hearth('simulate', '--days', '1', '--participants', '1', '--db', file), /junk\.sqlite: not a readable Hearth database/);
      expectUserError(hearth('status', '--db', join(dir, 'missing.sqlite')), /missing\.sqlite: database not found/);
    });

    it('a database from a newer Hearth is refused and not modified', () => {
      const dir = tmp();
      const file = join(dir, 'future.sqlite');
      const db = new Database(file);
      db.pragma('user_version = 999');
      db.close();
      expectUserError(hearth('status', '--db', file), /schema version 999 is newer.*not modified/);
    });

    it('a bad option value', () => {
      expectUserError(hearth('simulate', '--days', 'zero', '--db', join(tmp(), 'x.sqlite')), /option --days: expected an integer/);
    });

    it('with --debug the stack is printed too', () => {
      const dir = tmp();
      mkdirSync(join(dir, 'd'));
      const r = hearth('--debug', 'talk', '--script', join(dir, 'nope.yaml'), '--device-dir', join(dir, 'd'), '--tz', 'UTC');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/\n\s+at /);
    });
  });
});
