import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localDate } from '../../../data/index.js';
import { BUNDLED_PROTOCOL } from '../../../study-protocol/index.js';
import { runCommandResult } from '../../../test/support/run-command.js';
import { freshUplinkState, readUplinkConfig, UPLINK_STATE_FILE } from '../../uplink/config.js';
import { FixtureServer } from '../../uplink/uplink-server.fixture.js';
import { register } from './provision.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-provision-test-'));
  const server = new FixtureServer(dir);
  await server.listen();
  server.codes.add('code-1');
  server.codes.add('code-2');
  cleanups.push(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const participant = (pid: string, device: string) => ['--protocol', BUNDLED_PROTOCOL, '--participant', pid, '--tz', 'UTC', '--start', localDate(Date.now(), 'UTC'),
    '--device-dir', join(dir, device), '--registry', join(dir, 'registry.sqlite'), '--stratum', 'household=lives_alone'];
  const run = async (...args: string[]) => {
    const { out, error } = await runCommandResult(register, 'provision', ...args);
    return { out: out.join('\n'), error: error as (Error & { exitCode?: number }) | undefined };
  };
  return { dir, server, participant, run };
}

describe('hearth provision --server', () => {
  it('provisions and enrolls in one go, writing uplink.json readable by its owner only; again, it enrolls nothing twice', async () => {
    const { dir, server, participant, run } = await setup();
    const first = await run(...participant('P01', 'd1'), '--server', server.url, '--code', 'code-1');
    expect(first.error).toBeUndefined();
    const lines = first.out.split('\n');
    expect(lines[0]).toMatch(/^provisioned P01 on \S+ in /);
    expect(lines.at(-1)).toMatch(/^enrolled \S+ with http:\/\/127\.0\.0\.1:\d+; its token is in .*uplink\.json \(readable by this user only\)$/);
    const file = join(dir, 'd1', 'uplink.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const config = readUplinkConfig(join(dir, 'd1'))!;
    const deviceId = (JSON.parse(readFileSync(join(dir, 'd1', 'device.json'), 'utf8')) as { deviceId: string }).deviceId;
    expect(config).toMatchObject({ server: server.url, deviceId, enrolledTsUtc: expect.stringMatching(/Z$/) });
    expect(server.tokens.get(config.token)).toBe(deviceId);
    expect(first.out).not.toContain(config.token);

    // Re-running provisioning (idempotent) with a code: already enrolled with that server, the code stays unused.
    const again = await run(...participant('P01', 'd1'), '--server', server.url, '--code', 'code-2');
    expect(again.error).toBeUndefined();
    expect(again.out).toMatch(/is already enrolled with http:\/\/127\.0\.0\.1:\d+ \(since .*\); the code was not used/);
    expect(server.codes.has('code-2')).toBe(true);

    // Once the uplink has recorded the token as revoked, a new code enrolls again.
    writeFileSync(join(dir, 'd1', UPLINK_STATE_FILE), JSON.stringify({ ...freshUplinkState(config), revoked: { message: 'revoked', atUtc: new Date().toISOString() } }));
    const renewed = await run('--device-dir', join(dir, 'd1'), '--server', server.url, '--code', 'code-2');
    expect(renewed.error).toBeUndefined();
    expect(renewed.out).toMatch(/^enrolled /);
    expect(readUplinkConfig(join(dir, 'd1'))!.token).not.toBe(config.token);
  });

  it('on a device folder that exists, --server and --code only enroll', async () => {
    const { dir, server, participant, run } = await setup();
    expect((await run(...participant('P02', 'd2'))).error).toBeUndefined();
    expect(existsSync(join(dir, 'd2', 'uplink.json'))).toBe(false);
    const enrolled = await run('--device-dir', join(dir, 'd2'), '--server', server.url, '--code', 'code-1', '--json');
    expect(enrolled.error).toBeUndefined();
    const json = JSON.parse(enrolled.out) as { enrollment: { server: string; deviceId: string } };
    expect(json.enrollment).toMatchObject({ server: server.url });
    expect(enrolled.out).not.toMatch(/hth_/);
    expect(readUplinkConfig(join(dir, 'd2'))?.deviceId).toBe(json.enrollment.deviceId);
  });

  it('says in one line what is wrong, naming the server: a refused code, a server that is down, a folder never provisioned, bad options', async () => {
    const { dir, server, participant, run } = await setup();
    await run(...participant('P03', 'd3'));
    const d3 = join(dir, 'd3');
    const refused = await run('--device-dir', d3, '--server', server.url, '--code', 'nope');
    expect(refused.error?.exitCode).toBe(2);
    expect(refused.error?.message).toBe(`hearth provision: ${server.url}/: enrollment code not accepted (unknown, already used or expired); create a new one with hearth serve enroll`);
    expect(existsSync(join(d3, 'uplink.json'))).toBe(false);

    const url = server.url;
    await server.down();
    const down = await run('--device-dir', d3, '--server', url, '--code', 'code-1');
    expect(down.error?.message).toBe(`hearth provision: ${url}/: cannot reach the server (ECONNREFUSED)`);

    expect((await run('--device-dir', join(dir, 'nowhere'), '--server', url, '--code', 'code-1')).error?.message)
      .toMatch(/nowhere\/device\.json not found: provision the device first/);
    expect((await run('--device-dir', d3, '--server', 'http://study.example.edu', '--code', 'x')).error?.message)
      .toBe('option --server: plain http is allowed only to 127.0.0.1 or localhost, not study.example.edu; use https://');
    expect((await run('--device-dir', d3, '--server', url)).error?.message).toMatch(/--server needs --code/);
    expect((await run('--device-dir', d3, '--protocol', BUNDLED_PROTOCOL)).error?.message).toMatch(/missing --participant, --tz, --start/);
  });
});
