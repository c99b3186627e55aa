// hearth install-service and hearth service-check, in-process, writing into temp unit folders. This
// machine runs no systemd: whether it runs is supplied, and systemctl is a recorder.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../data/index.js';
import { runCommandResult } from '../../../test/support/run-command.js';
import { heartbeatPath, ServiceHeartbeat, systemHeartbeatEffects } from '../../service/index.js';
import { execWords, parseUnit } from '../../service/unit-reader.fixture.js';
import { register, type ServiceParts } from './install-service.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-install-service-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const exitBefore = process.exitCode;
afterEach(() => { process.exitCode = exitBefore; });

/** A folder that looks provisioned to install-service (it only needs device.json). */
function deviceFolder(name: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'device.json'), '{}');
  return d;
}

function unitFolder(): string {
  return mkdtempSync(join(dir, 'units-'));
}

function withParts(parts: ServiceParts) {
  return (program: Command) => register(program, parts);
}

describe('hearth install-service', () => {
  it('--dry-run prints the three units and writes nothing', async () => {
    const units = unitFolder();
    const { out, error } = await runCommandResult(register, 'install-service', '--device-dir', deviceFolder('P07'), '--unit-dir', units, '--dry-run');
    expect(error).toBeUndefined();
    const text = out.join('\n');
    for (const f of ['hearth.service', 'hearth-watchdog.service', 'hearth-watchdog.timer']) expect(text).toContain(`# ${join(units, f)}`);
    expect(text).toMatch(/Restart=always/);
    expect(readdirSync(units)).toEqual([]);
  });

  it('writes the units into --unit-dir, running this node on bin/hearth.js for a folder with spaces', async () => {
    const units = unitFolder();
    const device = deviceFolder('study devices/P 08');
    const { out, error } = await runCommandResult(register, 'install-service', '--device-dir', device, '--unit-dir', units, '--user', 'hearth');
    expect(error).toBeUndefined();
    expect(readdirSync(units).sort()).toEqual(['hearth-watchdog.service', 'hearth-watchdog.timer', 'hearth.service']);
    const service = parseUnit(readFileSync(join(units, 'hearth.service'), 'utf8')).get('Service')!;
    expect(execWords(service.get('ExecStart')![0]!)).toEqual([process.execPath, join(packageRoot(), 'bin', 'hearth.js'), 'run', '--device-dir', device]);
    expect(service.get('User')).toEqual(['hearth']);
    // Not the system unit folder: systemctl is left to the staff, and said so.
    expect(out).toContain('  systemctl enable --now hearth.service');
  });

  it('leaves an existing different unit alone without --force, writing none of the three, and replaces it with --force', async () => {
    const units = unitFolder();
    const device = deviceFolder('P09');
    writeFileSync(join(units, 'hearth.service'), '[Service]\nExecStart=/usr/bin/something-else\n');
    const refused = await runCommandResult(register, 'install-service', '--device-dir', device, '--unit-dir', units);
    expect((refused.error as Error).message).toMatch(/hearth\.service already exists with other content; not overwritten .*--force/);
    expect((refused.error as { exitCode?: number }).exitCode).toBe(2);
    expect(readFileSync(join(units, 'hearth.service'), 'utf8')).toContain('something-else');
    expect(existsSync(join(units, 'hearth-watchdog.timer'))).toBe(false);

    const forced = await runCommandResult(register, 'install-service', '--device-dir', device, '--unit-dir', units, '--force');
    expect(forced.error).toBeUndefined();
    expect(forced.out).toContain(`replaced ${join(units, 'hearth.service')}`);
    expect(readFileSync(join(units, 'hearth.service'), 'utf8')).not.toContain('something-else');
    expect(readFileSync(join(units, 'hearth.service'), 'utf8')).toContain('Restart=always');

    // The same units again: nothing to force.
    const again = await runCommandResult(register, 'install-service', '--device-dir', device, '--unit-dir', units);
    expect(again.error).toBeUndefined();
    expect(again.out.filter((l) => l.startsWith('unchanged'))).toHaveLength(3);
  });

  it('refuses a folder that was never provisioned, with one line', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const { error } = await runCommandResult(register, 'install-service', '--device-dir', empty, '--unit-dir', unitFolder());
    expect((error as Error).message).toMatch(/is not a provisioned device folder \(no device\.json/);
  });

  it('runs systemctl only for the system unit folder when systemd runs', async () => {
    const calls: string[][] = [];
    const parts: ServiceParts = { systemdRunning: () => true, systemctl: async (args) => { calls.push(args); return { ok: true, output: '' }; } };
    const { error } = await runCommandResult(withParts(parts), 'install-service', '--device-dir', deviceFolder('P10'), '--unit-dir', unitFolder());
    expect(error).toBeUndefined();
    expect(calls).toEqual([]);
    const system = unitFolder();
    const dry = await runCommandResult(withParts({ ...parts, systemUnitDir: system }), 'install-service', '--device-dir', deviceFolder('P10'), '--dry-run');
    expect(dry.error).toBeUndefined();
    expect(calls).toEqual([]);

    const installed = await runCommandResult(withParts({ ...parts, systemUnitDir: system }), 'install-service', '--device-dir', deviceFolder('P10'));
    expect(installed.error).toBeUndefined();
    expect(calls).toEqual([['daemon-reload'], ['enable', '--now', 'hearth.service']]);
    expect(installed.out).toContain('systemctl enable --now hearth.service: ok');
  });

  it('exits 1 naming systemctl\'s answer when enabling fails', async () => {
    const system = unitFolder();
    const parts: ServiceParts = { systemUnitDir: system, systemdRunning: () => true, systemctl: async (args) => ({ ok: args[0] !== 'enable', output: 'Failed to enable unit: Access denied' }) };
    const { out, error } = await runCommandResult(withParts(parts), 'install-service', '--device-dir', deviceFolder('P13'));
    expect(error).toBeUndefined();
    expect(out).toContain('systemctl enable --now hearth.service: failed: Failed to enable unit: Access denied');
    expect(process.exitCode).toBe(1);
  });
});

describe('hearth service-check', () => {
  it('passes on a fresh heartbeat, and fails on a stale one, restarting the unit it was given', async () => {
    const device = deviceFolder('P11');
    const clock = { mono: 50_000_000 };
    const fx = { ...systemHeartbeatEffects(), monotonicMs: () => clock.mono };
    new ServiceHeartbeat(heartbeatPath(device), fx).beat();
    const calls: string[][] = [];
    const parts: ServiceParts = { heartbeat: fx, systemctl: async (args) => { calls.push(args); return { ok: true, output: '' }; } };

    clock.mono += 20_000;
    const fresh = await runCommandResult(withParts(parts), 'service-check', '--device-dir', device, '--max-age', '120', '--restart', 'hearth.service');
    expect(fresh.out).toEqual([expect.stringMatching(/^heartbeat ok: 20 s old/)]);
    expect(process.exitCode ?? 0).toBe(0);
    expect(calls).toEqual([]);

    clock.mono += 200_000;
    const stale = await runCommandResult(withParts(parts), 'service-check', '--device-dir', device, '--max-age', '120', '--restart', 'hearth.service');
    expect(stale.out[0]).toMatch(/220 s old \(limit 120 s/);
    expect(stale.out[1]).toBe('restarting hearth.service');
    expect(process.exitCode).toBe(1);
    expect(calls).toEqual([['restart', '--no-block', 'hearth.service']]);
  });

  it('fails with one line when there is no heartbeat', async () => {
    const { out, error } = await runCommandResult(register, 'service-check', '--device-dir', deviceFolder('P12'));
    expect(error).toBeUndefined();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^no heartbeat at .*P12\/service-heartbeat\.json/);
    expect(process.exitCode).toBe(1);
  });
});
