// Disk, clock and time-zone checks. Free space is read from this machine's real filesystem, and the
// database is a real file; the OS answers this machine cannot give (timedatectl without systemd, a
// nearly full disk) are supplied, and each such test says so in its title.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clockCheck, diskCheck, systemParts, timeZoneCheck, TIMESYNC_MARKER, type SystemParts } from './system.js';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'hearth-doctor-sys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const now = Date.parse('2026-12-10T15:00:00Z');
const parts = (p: Partial<SystemParts>): SystemParts => ({ ...systemParts, now: () => now, ...p });

describe('disk check', () => {
  const db = join(dir, 'hearth.sqlite');
  writeFileSync(db, Buffer.alloc(10_000_000));
  const logging = { dbFile: db, sinceMs: now - 10 * DAY, studyDaysLeft: 20 };

  it('reads real free space and works out days of logging left from the database growth', () => {
    const r = diskCheck(parts({}), dir, logging);
    expect(r.detail).toMatch(/free in .*; the database grows about 1\.0 MB\/day \(10 MB in 10\.0 days\), so [\d,]+ days of logging left; 20 study days to go/);
  });

  it('fails when the disk fills before the study ends (free space supplied: this disk is not full)', () => {
    const r = diskCheck(parts({ freeBytes: () => 300e6 }), dir, { ...logging, dbFile: db, sinceMs: now - 0.5 * DAY });
    // 10 MB over one day (the floor) → 30 days left at 300 MB, more than 20: but only just, so warn.
    expect(r.status).toBe('warn');
    const full = diskCheck(parts({ freeBytes: () => 150e6 }), dir, logging);
    expect(full).toMatchObject({ status: 'fail', detail: expect.stringMatching(/150 MB free .* the disk fills before the study ends$/), fix: expect.stringMatching(/free space/) });
  });
});

describe('clock check (timedatectl answers supplied: this machine has no systemd)', () => {
  it('is ok when timedatectl says synchronised, warns when it says not', async () => {
    expect((await clockCheck(parts({ timedatectl: async () => 'Timezone=UTC\nNTPSynchronized=yes\n' }), 0)).status).toBe('ok');
    const no = await clockCheck(parts({ timedatectl: async () => 'NTPSynchronized=no\n' }), 0);
    expect(no).toMatchObject({ status: 'warn', detail: expect.stringMatching(/not NTP synchronised \(timedatectl\)/), fix: expect.stringMatching(/timedatectl set-ntp true/) });
  });

  it('falls back to timesyncd\'s marker, and warns when neither can tell', async () => {
    const marker = await clockCheck(parts({ timedatectl: async () => null, exists: (p) => p === TIMESYNC_MARKER }), 0);
    expect(marker.detail).toContain(TIMESYNC_MARKER);
    const neither = await clockCheck(parts({ timedatectl: async () => null, exists: () => false }), 0);
    expect(neither).toMatchObject({ status: 'warn', detail: expect.stringMatching(/cannot confirm NTP synchronisation/) });
  });

  it('fails a clock that reads earlier than the device was provisioned (a Pi booted without network)', async () => {
    const r = await clockCheck(parts({ now: () => Date.parse('1970-01-01T00:01:00Z'), timedatectl: async () => 'NTPSynchronized=no\n' }), now - DAY);
    expect(r).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^system clock reads 1970-01-01T00:01:00\.000Z, earlier than 2026-12-09/) });
  });
});

describe('time zone check (the system zone supplied)', () => {
  it('accepts another name for the same hours, warns about different hours with the command to fix it', () => {
    expect(timeZoneCheck(parts({ systemTimeZone: () => 'Etc/UTC' }), 'UTC').status).toBe('ok');
    const r = timeZoneCheck(parts({ systemTimeZone: () => 'Etc/UTC' }), 'America/New_York');
    expect(r).toMatchObject({ status: 'warn', fix: 'set the system zone to match: `sudo timedatectl set-timezone America/New_York`' });
    // Same offset in winter, different in summer: still told apart.
    expect(timeZoneCheck(parts({ systemTimeZone: () => 'America/Bogota' }), 'America/New_York').status).toBe('warn');
  });
});
