// SqliteStore on a real full disk: a tmpfs of 2 MiB, filled up with a filler file (needs root to mount).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mountSmallDisk, tmpfsUnavailable, type SmallDisk } from '../test/support/tmpfs.js';
import { DiskFullError } from './errors.js';
import { SqliteStore } from './sqlite-store.js';

const mounted: SmallDisk[] = [];
afterEach(() => {
  for (const d of mounted.splice(0)) d.unmount();
});

/** A store with one device and participant on a fresh small disk. */
function storeOnSmallDisk(reserveBytes?: number) {
  const disk = mountSmallDisk(2 * 1024 * 1024);
  mounted.push(disk);
  const store = SqliteStore.open(join(disk.dir, 'hearth.sqlite'), { reserveBytes });
  const log = store.forDevice({ deviceId: 'd1', tz: 'UTC', clockSource: 'system' });
  log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, 0);
  log.enrollParticipant({ participantId: 'P1', startDate: '2026-12-01', condition: null, protocolId: null, protocolVersion: null, protocolHash: null }, 0);
  log.startSession({ sessionId: 'S1', participantId: 'P1', studyDay: 1, protocolHash: null, condition: null }, 1);
  return { disk, store, log };
}

/** Write turns until the disk refuses one; returns the error and how many were written. */
function writeUntilFull(log: ReturnType<typeof storeOnSmallDisk>['log']): { error: unknown; written: number } {
  let written = 0;
  try {
    for (; written < 100_000; written++) {
      log.recordTurn({ sessionId: 'S1', speaker: 'participant', text: `turn ${written} `.padEnd(2_000, 'x'), step: 'checkin', startMs: 10 + written, endMs: 11 + written });
    }
  } catch (error) {
    return { error, written };
  }
  return { error: null, written };
}

describe.skipIf(tmpfsUnavailable !== null)(`SqliteStore on a full disk (a real tmpfs${tmpfsUnavailable ? `; skipped: ${tmpfsUnavailable}` : ''})`, () => {
  it('without a reserve: a write on a full disk throws DiskFullError naming the file, the listener hears once, the file stays intact', () => {
    const { disk, store, log } = storeOnSmallDisk();
    const heard: DiskFullError[] = [];
    store.onDiskFull((e) => heard.push(e));
    disk.fill(0);
    const { error, written } = writeUntilFull(log);
    expect(error).toBeInstanceOf(DiskFullError);
    expect((error as Error).message).toContain(`${store.path}: the disk is full`);
    expect(() => log.finishSession('S1', 'interrupted', 'disk full', 99)).toThrow(DiskFullError);
    expect(heard).toHaveLength(1);
    expect(heard[0]!.released).toBe(false);
    disk.unfill();
    expect(store.integrityCheck()).toBe('ok');
    expect(log.turns('S1')).toHaveLength(written);
    store.close();
  });

  it('with a reserve: the write that finds the disk full is kept (the reserve is given back), and the session can still be closed', () => {
    const { disk, store, log } = storeOnSmallDisk(256 * 1024);
    const reserve = `${store.path}-reserve`;
    expect(existsSync(reserve)).toBe(true);
    const heard: DiskFullError[] = [];
    store.onDiskFull((e) => heard.push(e));
    disk.fill(0);
    // The first refusal releases the reserve and the same write is tried again: it lands.
    log.recordTurn({ sessionId: 'S1', speaker: 'participant', text: 'the turn that found the disk full', step: 'checkin', startMs: 5, endMs: 6 });
    expect(heard).toHaveLength(1);
    expect(heard[0]!.released).toBe(true);
    expect(existsSync(reserve)).toBe(false);
    log.recordEvent('store.disk_full', { file: store.path }, 7, 'S1');
    log.finishSession('S1', 'interrupted', 'the disk is full', 8);
    expect(log.session('S1')).toMatchObject({ status: 'interrupted', statusReason: 'the disk is full' });
    expect(log.turns('S1').map((t) => t.text)).toEqual(['the turn that found the disk full']);
    expect(store.integrityCheck()).toBe('ok');
    store.close();
  });

  it('on a disk already too full for the reserve, the store still opens (without one)', () => {
    const disk = mountSmallDisk(2 * 1024 * 1024);
    mounted.push(disk);
    SqliteStore.open(join(disk.dir, 'hearth.sqlite')).close();
    disk.fill(64 * 1024);
    const store = SqliteStore.open(join(disk.dir, 'hearth.sqlite'), { reserveBytes: 512 * 1024 });
    expect(existsSync(`${store.path}-reserve`)).toBe(false);
    expect(store.integrityCheck()).toBe('ok');
    store.close();
  });
});
