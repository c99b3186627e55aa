import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteSafeguardRecords } from './safeguard-records.js';
import { SqliteStore } from './sqlite-store.js';
import type { DeviceLog } from './store.js';
import { localTimeToMs } from './time.js';

const TZ = 'America/New_York';
let dir: string;
let store: SqliteStore;
let log: DeviceLog;
let records: SqliteSafeguardRecords;
const t0 = localTimeToMs('2026-03-02', '10:00', TZ);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-sg-'));
  store = SqliteStore.open(join(dir, 'hearth.db'));
  log = store.forDevice({ deviceId: 'dev-1', tz: TZ, clockSource: 'simulated' });
  log.registerDevice({ hardware: 'test', hearthVersion: '0.1.0' }, t0);
  log.enrollParticipant({ participantId: 'p1', startDate: '2026-03-01', condition: null, protocolId: null, protocolVersion: null, protocolHash: null }, t0);
  log.startSession({ sessionId: 's1', participantId: 'p1', studyDay: 2, protocolHash: null, condition: null }, t0);
  records = new SqliteSafeguardRecords(store.db, log);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const incident = {
  incidentId: 'inc-1', kind: 'crisis' as const, severity: 'serious' as const, participantId: 'p1', sessionId: 's1', turnId: null,
  description: 'crisis disclosure', robotAction: 'Thank you for telling me…', checks: [{ check: 'crisis', score: 0.9 }],
  harm: 'unknown', causality: 'not yet assessed', reportDueBy: '2026-03-09T15:00:00.000Z',
};

describe('SqliteSafeguardRecords', () => {
  it('keeps an incident with IRB fields, the study day, and an audit event, across reopening the file', () => {
    records.recordIncident(incident, t0);
    records.markAlert('inc-1', 'sent', t0 + 1000);
    records.acknowledge('inc-1', t0 + 3_600_000);
    records.resolve('inc-1', { resolution: 'Staff called the participant; safe with family.', harm: 'none', causality: 'unrelated' }, t0 + 7_200_000);
    store.close();
    store = SqliteStore.open(join(dir, 'hearth.db'));
    log = store.forDevice({ deviceId: 'dev-1', tz: TZ, clockSource: 'simulated' });
    const got = new SqliteSafeguardRecords(store.db, log).incident('inc-1')!;
    expect(got).toMatchObject({
      kind: 'crisis', alertStatus: 'sent', studyDay: 2, eventTsUtc: '2026-03-02T15:00:00.000Z', eventTsLocal: '2026-03-02T10:00:00.000-05:00',
      staffLearnedTsUtc: '2026-03-02T16:00:00.000Z', resolution: 'Staff called the participant; safe with family.', causality: 'unrelated',
    });
    const kinds = store.db.prepare("SELECT kind FROM events WHERE kind LIKE 'safeguard.%' ORDER BY seq").all().map((r) => (r as { kind: string }).kind);
    expect(kinds).toEqual(['safeguard.incident', 'safeguard.alert-marked', 'safeguard.incident-acknowledged', 'safeguard.incident-resolved']);
    // Common columns: stamped when recorded, with the device seq; later changes move updated_ts_utc, not seq.
    const row = store.db.prepare('SELECT * FROM safeguard_incidents').get() as Record<string, unknown>;
    const incidentEvent = store.db.prepare("SELECT seq FROM events WHERE kind = 'safeguard.incident'").get() as { seq: number };
    expect(row).toMatchObject({
      ts_utc: '2026-03-02T15:00:00.000Z', tz: TZ, ts_local: '2026-03-02T10:00:00.000-05:00', study_day: 2, device_id: 'dev-1', clock_source: 'simulated',
      seq: incidentEvent.seq - 1, updated_ts_utc: '2026-03-02T17:00:00.000Z',
    });
    expect(got).toMatchObject({ seq: incidentEvent.seq - 1, updatedTsUtc: '2026-03-02T17:00:00.000Z' });
  });

  it('lists incidents whose alert failed for retry, and rejects updates to unknown incidents', () => {
    records.recordIncident(incident, t0);
    records.markAlert('inc-1', 'failed', t0);
    expect(records.unsentIncidents().map((i) => i.incidentId)).toEqual(['inc-1']);
    expect(() => records.acknowledge('nope', t0)).toThrow(/no incident nope/);
  });

  it('shows inferred values with evidence, keeps the strongest, and deletes one or all without logging content', () => {
    records.saveValues('p1', [{ value: 'family', confidence: 0.7, evidence: { text: 'Family comes first.' } }], { sessionId: 's1', turnId: null, version: '1' }, t0);
    records.saveValues('p1', [{ value: 'family', confidence: 0.9, evidence: { text: 'My kids mean everything to me.' } }, { value: 'faith', confidence: 0.7, evidence: { text: 'I pray every morning.' } }], { sessionId: 's1', turnId: null, version: '1' }, t0);
    records.saveValues('p1', [{ value: 'family', confidence: 0.5, evidence: { text: 'weaker' } }], { sessionId: 's1', turnId: null, version: '1' }, t0);
    expect(records.values('p1').map((v) => [v.value, v.evidence])).toEqual([['family', 'My kids mean everything to me.'], ['faith', 'I pray every morning.']]);
    // Stronger evidence replaces the row as a new fact with a new seq; each row has the common columns.
    const stored = store.db.prepare('SELECT value, seq, ts_utc, tz, ts_local, study_day, device_id, clock_source FROM participant_values ORDER BY seq').all() as Record<string, unknown>[];
    expect(stored.map((r) => r.value)).toEqual(['family', 'faith']);
    for (const r of stored) expect(r).toMatchObject({ ts_utc: '2026-03-02T15:00:00.000Z', tz: TZ, ts_local: '2026-03-02T10:00:00.000-05:00', study_day: 2, device_id: 'dev-1', clock_source: 'simulated' });
    const firstFamilyEvent = (store.db.prepare("SELECT MIN(seq) AS m FROM events WHERE kind = 'safeguard.values-inferred'").get() as { m: number }).m;
    expect(stored[0]!.seq as number).toBeGreaterThan(firstFamilyEvent);
    expect(records.deleteValues('p1', 'faith', t0)).toBe(1);
    expect(records.deleteValues('p1', null, t0)).toBe(1);
    expect(records.values('p1')).toEqual([]);
    const detail = store.db.prepare("SELECT detail_json FROM events WHERE kind = 'safeguard.values-deleted'").all().map((r) => (r as { detail_json: string }).detail_json);
    expect(detail.join(' ')).not.toMatch(/pray|faith|kids/);
  });

  it('counts attachment flags per study day from safeguard_events', () => {
    const ev = (atMs: number, decision: string) => ({ atMs, sessionId: 's1', turnId: null, direction: 'input' as const, checkName: 'attachment', checkVersion: '1', score: 0.8, threshold: 0.5, decision, evidence: null });
    log.recordSafeguardEvents([ev(t0, 'flag'), ev(t0 + 1, 'flag'), ev(t0 + 2, 'pass')]);
    expect(records.attachmentByDay('p1')).toEqual([{ studyDay: 2, count: 2 }]);
  });
});
