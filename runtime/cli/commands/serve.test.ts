/**
 * `hearth serve` staff tools through the in-process CLI harness on a real study database: a one-time
 * code printed once and redeemable once, a user added from a password file (never argv) who can log
 * in, revocation, and the one-line mistakes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand, runCommandResult } from '../../../test/support/run-command.js';
import { startServer, type HearthServer } from '../../server/app.js';
import { Browserless } from '../../server/server.fixture.js';
import { isUserError } from '../errors.js';
import { parseExpiry, parseListen, register } from './serve.js';

let dir: string;
let server: HearthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('hearth serve enroll, user add, revoke', () => {
  it('prints a code that enrolls once, adds a user who can log in, and revokes a device', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-serve-cli-'));
    const db = join(dir, 'study.sqlite');
    const out = await runCommand(register, 'serve', 'enroll', '--db', db, '--device', 'dev-a', '--expires', '2h');
    expect(out).toHaveLength(1);
    const code = out[0]!;
    expect(code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/);
    writeFileSync(join(dir, 'pw'), 'a long enough password\n', { mode: 0o600 });
    expect(await runCommand(register, 'serve', 'user', 'add', '--db', db, '--user', 'sam', '--role', 'researcher', '--password-file', join(dir, 'pw'))).toEqual(['added researcher sam']);

    server = await startServer({ db, port: 0, log: () => undefined });
    const enroll = (deviceId: string) => fetch(`${server!.url}/api/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, deviceId, hearthVersion: 't' }) });
    expect((await enroll('dev-a')).status).toBe(201);
    expect((await enroll('dev-a')).status).toBe(401);
    const web = new Browserless(server.url);
    expect((await web.login('sam', 'a long enough password')).status).toBe(303);

    expect(await runCommand(register, 'serve', 'revoke', '--db', db, '--device', 'dev-a')).toEqual(['revoked 1 token of device dev-a']);
    expect(server.records.auditTrail().map((a) => a.action)).toEqual(expect.arrayContaining(['enrollment.created', 'user.added', 'device.enrolled', 'login', 'device.revoked']));
  });

  it('gives one line for mistakes: no --db, a bad role, a short password, an unknown device, a bad duration or address', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-serve-cli-'));
    const db = join(dir, 'study.sqlite');
    writeFileSync(join(dir, 'short'), 'short\n');
    for (const [argv, message] of [
      [['serve', 'enroll'], /--db <file> is required/],
      [['serve', 'enroll', '--db', db, '--expires', '90d'], /at most 30d/],
      [['serve', 'user', 'add', '--db', db, '--user', 'sam', '--role', 'admin'], /expected staff or researcher/],
      [['serve', 'user', 'add', '--db', db, '--user', 'sam', '--role', 'staff', '--password-file', join(dir, 'short')], /at least 12 characters/],
      [['serve', 'revoke', '--db', db, '--device', 'dev-zz'], /never enrolled/],
    ] as const) {
      const { error } = await runCommandResult(register, ...argv);
      expect(isUserError(error), argv.join(' ')).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
    expect(parseListen('[::1]:8750')).toEqual({ host: '::1', port: 8750 });
    expect(parseListen('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(() => parseListen('8750')).toThrow(/HOST:PORT/);
    expect(parseExpiry('30m')).toBe(1_800_000);
  });
});
