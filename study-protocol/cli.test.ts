// Exercises the CLI commands this folder backs (runtime/cli/commands/{study,provision,schedule,withdraw}.ts)
// through commander, as the `hearth` main runs them: output on stdout, user mistakes as errors with exitCode 2.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register as provision } from '../runtime/cli/commands/provision.js';
import { register as schedule } from '../runtime/cli/commands/schedule.js';
import { register as study } from '../runtime/cli/commands/study.js';
import { register as withdraw } from '../runtime/cli/commands/withdraw.js';
import { BUNDLED_PROTOCOL } from './index.js';

afterEach(() => vi.restoreAllMocks());

async function run(...args: string[]): Promise<{ out: string[]; error?: Error & { exitCode?: number } }> {
  const program = new Command('hearth').exitOverride();
  for (const r of [study, provision, schedule, withdraw]) r(program);
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  try {
    await program.parseAsync(['node', 'hearth', ...args]);
    return { out };
  } catch (error) {
    return { out, error: error as Error & { exitCode?: number } };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('hearth study validate', () => {
  it('says valid for the bundled protocol', async () => {
    const r = await run('study', 'validate', BUNDLED_PROTOCOL);
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual([`${BUNDLED_PROTOCOL}: valid`]);
  });

  it('prints every problem as file:line:col path: message (hint) and exits 2', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hearth-cli-')), 'bad.yaml');
    writeFileSync(file, readFileSync(BUNDLED_PROTOCOL, 'utf8').replace('window: { start: "17:00", end: "21:00" }', 'window: { start: "17:00", end: "16:00" }').replaceAll('      - checkin\n', '      - check_in\n'));
    const r = await run('study', 'validate', file);
    expect(r.error?.exitCode).toBe(2);
    expect(r.error?.message).toBe(`${file}: 4 problems found`);
    expect(r.out).toHaveLength(4);
    expect(r.out[0]).toBe(`${file}:38:15 schedule.sessions[0].window: window ends (16:00) before it starts (17:00) (windows start and end on the same local day; split one crossing midnight in two)`);
    expect(r.out.slice(1).every((l) => /:\d+:\d+ templates\[\d\]\.steps\[\d\]: unknown behaviour "check_in" \(did you mean "checkin"\?/.test(l))).toBe(true);
  });

  it('refuses a FIFO in one line instead of waiting for a writer', async () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'hearth-cli-')), 'protocol.yaml');
    execFileSync('mkfifo', [fifo]);
    const r = await run('study', 'validate', fifo);
    expect(r.error?.exitCode).toBe(2);
    expect(r.error?.message).toMatch(/protocol\.yaml:0:0 \(document\): the file is a named pipe \(FIFO\), not a regular file/);
  });
});

describe('hearth provision, schedule, withdraw', () => {
  it('provisions, lists the schedule as JSON, and withdraws with a clean scan', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hearth-cli-'));
    const dir = join(root, 'P01');
    const start = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const p = await run('provision', '--protocol', BUNDLED_PROTOCOL, '--participant', 'P01', '--tz', 'America/New_York', '--start', start,
      '--device-dir', dir, '--registry', join(root, 'registry.sqlite'), '--stratum', 'household=lives_alone', '--consent', 'audio_recording,transcripts');
    expect(p.error).toBeUndefined();
    expect(p.out[0]).toMatch(new RegExp(`^provisioned P01 on dev-[0-9a-f]{12} in ${dir}: study empathic-stories-home 1\\.0\\.0`));

    const s = await run('schedule', '--device-dir', dir, '--json');
    const rows = JSON.parse(s.out[0]!) as Record<string, unknown>[];
    expect(rows).toHaveLength(30);
    expect(rows[0]).toMatchObject({ id: 'd01-evening', study_day: 1, status: 'scheduled' });
    expect(rows[0]!.window_start_local).toMatch(new RegExp(`^${start}T17:00:00\\.000-0[45]:00$`));
    expect(rows[0]!.window_start_utc).toMatch(/^\d{4}-\d\d-\d\dT2[12]:00:00\.000Z$/);

    const w = await run('withdraw', '--device-dir', dir, '--participant', 'P01');
    expect(w.error).toBeUndefined();
    expect(w.out.at(-1)).toBe("result: none of P01's data remains (tombstone and consent record kept)");
    expect(w.out.some((l) => /table schedule_instances +0 rows/.test(l))).toBe(true);
  });

  it('turns bad input into one-line errors with exit code 2', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hearth-cli-'));
    const args = ['provision', '--protocol', BUNDLED_PROTOCOL, '--tz', 'America/New_York', '--start', '2099-01-01', '--device-dir', join(root, 'd'), '--registry', join(root, 'r.sqlite')];
    for (const [extra, message] of [
      [['--participant', 'john@example.com'], /looks like an email address/],
      [['--participant', 'P01', '--stratum', 'household'], /option --stratum: expected factor=level/],
      [['--participant', 'P01', '--stratum', 'household=lives_alone', '--consent', 'audio,video'], /option --consent: unknown modality "audio"/],
    ] as const) {
      const r = await run(...args, ...extra);
      expect(r.error?.exitCode).toBe(2);
      expect(r.error?.message).toMatch(message);
      expect(r.error?.message).not.toContain('\n');
    }
    const s = await run('schedule', '--device-dir', join(root, 'nothing'));
    expect(s.error?.exitCode).toBe(2);
    expect(s.error?.message).toMatch(/device folder .*nothing does not exist/);
  });

  it('a --start the schedule cannot store names the option and the range, leaves nothing, and a retry gets the slot', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hearth-cli-'));
    const dir = join(root, 'P01');
    const args = ['provision', '--protocol', BUNDLED_PROTOCOL, '--participant', 'P01', '--tz', 'Europe/Berlin', '--device-dir', dir,
      '--registry', join(root, 'r.sqlite'), '--stratum', 'household=lives_alone'];
    const bad = await run(...args, '--start', '9999-12-31');
    expect(bad.error?.exitCode).toBe(2);
    expect(bad.error?.message).toMatch(/^option --start: start date 9999-12-31 is too late for the 30-day schedule to be stored: allowed from \d{4}-\d\d-\d\d \(today in Europe\/Berlin\) to 9999-12-01$/);
    expect(readdirSync(root)).toEqual([]); // checked before the registry is opened
    const good = await run(...args, '--start', '2099-01-01');
    expect(good.error).toBeUndefined();
    expect(good.out[1]).toMatch(/slot 0\)/);
  });

  it('--consent "" is refused (declining everything is said with "none"); a lowercase --tz is stored canonically', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hearth-cli-'));
    const args = (d: string) => ['provision', '--protocol', BUNDLED_PROTOCOL, '--participant', 'P01', '--tz', 'europe/berlin', '--start', '2099-01-01',
      '--device-dir', join(root, d), '--registry', join(root, 'r.sqlite'), '--stratum', 'household=lives_alone'];
    for (const empty of ['', ' , ']) {
      const r = await run(...args('a'), '--consent', empty);
      expect(r.error?.exitCode).toBe(2);
      expect(r.error?.message).toMatch(/^option --consent: empty; give the modalities consented with staff \(audio_recording, .*\), "none" if they declined all, or omit it/);
      expect(existsSync(join(root, 'a'))).toBe(false);
    }
    const none = await run(...args('a'), '--consent', 'none');
    expect(none.error).toBeUndefined();
    expect(none.out[0]).toMatch(/start 2099-01-01 Europe\/Berlin$/);
    expect((JSON.parse(readFileSync(join(root, 'a', 'device.json'), 'utf8')) as { tz: string }).tz).toBe('Europe/Berlin');
  });
});

describe('files that are not what they seem', () => {
  it('refuses a FIFO as the protocol at once, in one line naming it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hearth-cli-'));
    const fifo = join(root, 'protocol.yaml');
    execFileSync('mkfifo', [fifo]);
    const r = await run('provision', '--protocol', fifo, '--participant', 'P01', '--tz', 'UTC', '--start', '2099-01-01', '--device-dir', join(root, 'd'), '--registry', join(root, 'r.sqlite'));
    expect(r.error?.exitCode).toBe(2);
    expect(r.error?.message).toBe(`${fifo}:0:0 (document): is a named pipe (FIFO), not a regular file: give the protocol's YAML file (check the path given to --protocol)`);
  });

  it('refuses a YAML alias bomb as a protocol problem naming the file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hearth-cli-')), 'bomb.yaml');
    const levels = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
    for (const [i, name] of [...'bcdefghi'].entries()) levels.push(`${name}: &${name} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`);
    writeFileSync(file, `${levels.join('\n')}\n`);
    const r = await run('study', 'validate', file);
    expect(r.error?.exitCode).toBe(2);
    expect(r.out).toEqual([`${file}:0:0 (document): YAML: aliases (*name) expand too far (more than 100 uses); the file is refused (write the values out instead of nesting aliases)`]);
  });
});
