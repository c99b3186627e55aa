import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceBusyError, lockDevice, lockExistingDevice } from './device-lock.js';

const folder = () => mkdtempSync(join(tmpdir(), 'hearth-lock-unit-'));

describe('device lock', () => {
  it('is exclusive: a second holder is refused with the folder, command and pid; after release it can be taken again', () => {
    const dir = folder();
    const first = lockDevice(dir, 'talk');
    expect(JSON.parse(readFileSync(join(dir, 'hearth.lock.json'), 'utf8'))).toMatchObject({ pid: process.pid, command: 'talk' });
    let refusal: unknown;
    try {
      lockDevice(dir, 'run');
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(DeviceBusyError);
    expect((refusal as DeviceBusyError).exitCode).toBe(2);
    expect((refusal as Error).message).toMatch(new RegExp(`^${dir} is in use by hearth talk \\(pid ${process.pid}, since \\d{4}-.*\\); only one Hearth runtime`));
    first.release();
    first.release();
    expect(existsSync(join(dir, 'hearth.lock.json'))).toBe(false);
    const second = lockDevice(dir, 'run');
    second.release();
  });

  it('a holder note left by a killed process does not block: the OS lock is the truth', () => {
    const dir = folder();
    writeFileSync(join(dir, 'hearth.lock'), '');
    writeFileSync(join(dir, 'hearth.lock.json'), JSON.stringify({ pid: 999_999, command: 'talk', sinceUtc: '2026-01-01T00:00:00.000Z' }));
    const lock = lockDevice(dir, 'run');
    expect(JSON.parse(readFileSync(join(dir, 'hearth.lock.json'), 'utf8'))).toMatchObject({ pid: process.pid, command: 'run' });
    lock.release();
  });

  it('makes a missing folder only when asked (a demo), and leaves no lock file in a folder that is no device', () => {
    const root = folder();
    expect(() => lockDevice(join(root, 'absent'), 'run')).toThrow(/absent: no such device folder/);
    expect(existsSync(join(root, 'absent'))).toBe(false);
    lockDevice(join(root, 'demo'), 'talk', { create: true }).release();
    expect(readdirSync(join(root, 'demo'))).toEqual(['hearth.lock']);
    const plain = join(root, 'plain');
    mkdirSync(plain);
    expect(lockExistingDevice(plain, 'withdraw')).toBeNull();
    expect(readdirSync(plain)).toEqual([]);
    writeFileSync(join(root, 'file'), 'x');
    expect(() => lockDevice(join(root, 'file'), 'talk', { create: true })).toThrow(/file exists and is not a folder/);
  });
});
