import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteMemoryRecords } from './memory-records.js';
import { SqliteSafeguardRecords } from './safeguard-records.js';
import { sqliteHandle, SqliteStore } from './sqlite-store.js';
import type { DeviceIdentity } from './store.js';
import {
  allocateOnce, allocationSeed, participantScope, purgeParticipant, recordConsent, saveScheduleInstances, setTombstoneFiles,
  updateScheduleInstance, userTables,
} from './study-records.js';
import { isValidTimeZone, localTimeToMs } from './time.js';

// Issue 2: every row carries ts_utc, tz, ts_local, study_day, device_id and a per-device monotonic seq.
// This writes through every module that writes device rows, then checks every table with a device_id column.

const stores: SqliteStore[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));
const open = (): SqliteStore => {
  const s = SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'hearth-common-')), 'hearth.sqlite'));
  stores.push(s);
  return s;
};

type Row = Record<string, unknown>;
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const ISO_LOCAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$/;
/** The seq counter itself: it has a device_id but is bookkeeping, not a row of data. */
const COUNTER = 'device_seq';

/** One participant's month in miniature on one device, written through DeviceLog and the three record modules. */
function writeEverything(store: SqliteStore, identity: DeviceIdentity, participantId: string, startDate: string): string {
  const at = (day: number, time: string) => localTimeToMs(`2026-03-0${day}`, time, identity.tz);
  const log = store.forDevice(identity);
  log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, at(1, '08:00'));
  log.enrollParticipant({ participantId, startDate, condition: 'matched', protocolId: 'study', protocolVersion: '1', protocolHash: 'h' }, at(1, '08:00'));
  const schedule = [1, 2].map((day) => ({
    participantId, instanceId: `d0${day}-evening`, slot: 'evening', studyDay: day, localDate: `2026-03-0${day}`, templateId: 'daily',
    windowStartUtc: new Date(at(day, '17:00')).toISOString(), windowEndUtc: new Date(at(day, '21:00')).toISOString(),
    windowStartLocal: `2026-03-0${day}T17:00`, windowEndLocal: `2026-03-0${day}T21:00`, protocolHash: 'h',
  }));
  saveScheduleInstances(sqliteHandle(store), identity, schedule, at(1, '08:00'));
  recordConsent(sqliteHandle(store), identity, ['audio_recording', 'transcripts'].map((modality) => ({
    participantId, consentVersion: 1, modality, granted: true, method: 'staff' as const, prompt: `May I keep ${modality}?`, protocolHash: 'h',
  })), at(1, '08:01'));

  const sessionId = `${identity.deviceId}-d01`;
  log.startSession({ sessionId, participantId, studyDay: 1, protocolHash: 'h', condition: 'matched' }, at(1, '17:05'));
  updateScheduleInstance(sqliteHandle(store), participantId, 'd01-evening', { status: 'started', statusReason: null, sessionId }, at(1, '17:05'));
  const turnId = log.recordTurn({ sessionId, speaker: 'participant', text: 'My sister came to visit.', step: 'checkin', startMs: at(1, '17:06'), endMs: at(1, '17:07') });
  log.recordResponse({ sessionId, instrument: 'mood', item: 'valence', value: 7, rawText: 'seven', status: 'answered', scoringVersion: '1' }, at(1, '17:08'));
  log.recordAffectSamples([{ atMs: at(1, '17:08'), sessionId, valence: 0.3, arousal: 0.2, label: 'happy', confidence: 0.7, sources: ['face'] }]);
  log.recordSafeguardEvents([{ atMs: at(1, '17:07'), sessionId, turnId, direction: 'input', checkName: 'crisis', checkVersion: '1', score: 0, threshold: 0.5, decision: 'pass', evidence: null }]);

  const memories = new SqliteMemoryRecords(sqliteHandle(store), identity);
  const m = memories.add({
    participantId, sessionId, saidAtMs: at(1, '17:07'), tz: identity.tz, studyDay: 1, summary: 'your sister came to visit',
    people: ['your sister'], places: [], feelings: [], topics: ['family'], method: 'extractive',
  });
  memories.markRecalled(m.memoryId, at(2, '17:10'));

  const safeguards = new SqliteSafeguardRecords(sqliteHandle(store), log);
  safeguards.recordIncident({
    incidentId: `inc-${identity.deviceId}`, kind: 'check-failure', severity: 'info', participantId, sessionId, turnId, description: 'check timed out',
    robotAction: 'safe reply', checks: [], harm: 'none', causality: 'unrelated', reportDueBy: null,
  }, at(1, '17:09'));
  safeguards.markAlert(`inc-${identity.deviceId}`, 'sent', at(1, '17:10'));
  safeguards.saveValues(participantId, [{ value: 'family', confidence: 0.6, evidence: { text: 'My sister came to visit.' } }], { sessionId, turnId, version: '1' }, at(1, '17:07'));
  safeguards.saveValues(participantId, [{ value: 'family', confidence: 0.9, evidence: { text: 'Family is everything.' } }], { sessionId, turnId, version: '1' }, at(1, '17:09'));
  log.finishSession(sessionId, 'completed', null, at(1, '17:30'));
  log.recordMissedSession({ sessionId: `${identity.deviceId}-d02`, participantId, studyDay: 2, protocolHash: 'h', condition: 'matched' }, 'device off', at(2, '21:00'));
  updateScheduleInstance(sqliteHandle(store), participantId, 'd02-evening', { status: 'missed', statusReason: 'device off' }, at(2, '21:00'));
  return sessionId;
}

describe('common columns across every writer', () => {
  it('every row of every device table has ts_utc, tz, ts_local, device_id and a seq unique per device across all tables', () => {
    const store = open();
    const a: DeviceIdentity = { deviceId: 'dev-a', tz: 'America/New_York', clockSource: 'simulated' };
    const b: DeviceIdentity = { deviceId: 'dev-b', tz: 'Europe/Berlin', clockSource: 'system' };
    writeEverything(store, a, 'P01', '2026-03-01');
    writeEverything(store, b, 'P02', '2026-03-01');
    // A withdrawal on dev-b leaves its tombstone (and consent records) behind, stamped like any other row.
    purgeParticipant(sqliteHandle(store), participantScope(sqliteHandle(store), 'P02', ['dev-b']), {
      studyId: 'study', protocolHash: 'h', identity: b, atMs: localTimeToMs('2026-03-03', '12:00', b.tz), filesPurged: 0,
    });
    setTombstoneFiles(sqliteHandle(store), 'P02', 0, localTimeToMs('2026-03-03', '12:01', b.tz));
    // dev-a writes again after the purge: its sequence is untouched by dev-b's withdrawal.
    store.forDevice(a).recordEvent('device.heartbeat', null, localTimeToMs('2026-03-03', '09:00', a.tz));

    const deviceTables = userTables(sqliteHandle(store)).filter((t) =>
      t !== COUNTER && (sqliteHandle(store).prepare(`PRAGMA table_info("${t}")`).all() as { name: string }[]).some((c) => c.name === 'device_id'));
    // Every table this release defines with device data; a new one must be written above to be covered.
    expect(deviceTables.sort()).toEqual([
      'affect_samples', 'consent_records', 'devices', 'events', 'memories', 'participant_values', 'participants', 'responses',
      'safeguard_events', 'safeguard_incidents', 'schedule_instances', 'sessions', 'tombstones', 'turns',
    ]);

    const seqs = new Map<string, { table: string; seq: number }[]>();
    for (const t of deviceTables) {
      const rows = sqliteHandle(store).prepare(`SELECT * FROM "${t}"`).all() as Row[];
      expect(rows.length, `${t} has no rows: write it in writeEverything`).toBeGreaterThan(0);
      for (const r of rows) {
        const where = `${t} row ${JSON.stringify(r).slice(0, 120)}`;
        for (const c of ['ts_utc', 'tz', 'ts_local', 'device_id', 'seq', 'clock_source']) expect(r[c], `${where}: ${c}`).not.toBeNull();
        expect(r.ts_utc, where).toMatch(ISO_UTC);
        expect(r.ts_local, where).toMatch(ISO_LOCAL);
        expect(Date.parse(r.ts_local as string), `${where}: ts_local is the same instant as ts_utc`).toBe(Date.parse(r.ts_utc as string));
        expect(isValidTimeZone(r.tz as string), where).toBe(true);
        expect(r.tz, where).toBe(r.device_id === 'dev-a' ? a.tz : b.tz);
        expect(Number.isInteger(r.seq) && (r.seq as number) > 0, where).toBe(true);
        if ('updated_ts_utc' in r) expect(r.updated_ts_utc, where).toMatch(ISO_UTC);
        const list = seqs.get(r.device_id as string) ?? [];
        list.push({ table: t, seq: r.seq as number });
        seqs.set(r.device_id as string, list);
      }
    }

    expect([...seqs.keys()].sort()).toEqual(['dev-a', 'dev-b']);
    const counters = new Map((sqliteHandle(store).prepare(`SELECT device_id, last_seq FROM ${COUNTER}`).all() as { device_id: string; last_seq: number }[]).map((r) => [r.device_id, r.last_seq]));
    for (const [device, list] of seqs) {
      const numbers = list.map((x) => x.seq);
      const dupes = numbers.filter((n, i) => numbers.indexOf(n) !== i);
      expect(dupes.map((n) => list.filter((x) => x.seq === n).map((x) => x.table)), `${device}: duplicated seq`).toEqual([]);
      expect(Math.max(...numbers), `${device}: no seq beyond the counter`).toBeLessThanOrEqual(counters.get(device)!);
    }
    // dev-a kept everything: its rows use every number it handed out (updates did not renumber or skip).
    const aSeqs = seqs.get('dev-a')!.map((x) => x.seq).sort((x, y) => x - y);
    const aDeleted = 1; // the weaker participant_values row, replaced by stronger evidence
    expect(aSeqs.length + aDeleted).toBe(counters.get('dev-a'));
    // dev-b after withdrawal: only the kept rows, and the tombstone is its newest row.
    const bTables = new Set(seqs.get('dev-b')!.map((x) => x.table));
    expect([...bTables].sort()).toEqual(['consent_records', 'tombstones']);
    const tomb = seqs.get('dev-b')!.find((x) => x.table === 'tombstones')!;
    expect(tomb.seq).toBe(counters.get('dev-b'));
  });

  it('allocation registry rows (no device) carry UTC, zone and local time', () => {
    const registry = open();
    const at = { atMs: Date.parse('2026-03-01T13:00:00Z'), tz: 'Asia/Kolkata', clockSource: 'system' as const };
    const seed = allocationSeed(sqliteHandle(registry), 'study', () => 'seed', at);
    allocateOnce(sqliteHandle(registry), { studyId: 'study', participantId: 'P01', stratum: 'all', seed, protocolHash: 'h', ...at }, () => ({ condition: 'matched', method: 'simple', blockIndex: null, blockSize: null }));
    for (const t of ['allocation_seeds', 'allocations']) {
      const rows = sqliteHandle(registry).prepare(`SELECT * FROM ${t}`).all() as Row[];
      expect(rows, t).toHaveLength(1);
      expect(rows[0], t).toMatchObject({ ts_utc: '2026-03-01T13:00:00.000Z', tz: 'Asia/Kolkata', ts_local: '2026-03-01T18:30:00.000+05:30', clock_source: 'system' });
    }
    // Writing the registry hands out no device sequence numbers.
    expect(sqliteHandle(registry).prepare(`SELECT * FROM ${COUNTER}`).all()).toEqual([]);
  });
});
