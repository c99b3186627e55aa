import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.js';
import {
  checksWithoutWords, incidentOutbox, incidentReportWithoutWords, RETAINED_REASON, retainedIncidents, retainIncidentsWithoutWords, SqliteSafeguardRecords,
} from './safeguard-records.js';
import { sqliteHandle, SqliteStore } from './sqlite-store.js';
import type { DeviceLog } from './ports.js';
import { participantScope, purgeParticipant } from './study-records.js';
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
  records = new SqliteSafeguardRecords(sqliteHandle(store), log);
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
    const got = new SqliteSafeguardRecords(sqliteHandle(store), log).incident('inc-1')!;
    expect(got).toMatchObject({
      kind: 'crisis', alertStatus: 'sent', studyDay: 2, eventTsUtc: '2026-03-02T15:00:00.000Z', eventTsLocal: '2026-03-02T10:00:00.000-05:00',
      staffLearnedTsUtc: '2026-03-02T16:00:00.000Z', resolution: 'Staff called the participant; safe with family.', causality: 'unrelated',
    });
    const kinds = sqliteHandle(store).prepare("SELECT kind FROM events WHERE kind LIKE 'safeguard.%' ORDER BY seq").all().map((r) => (r as { kind: string }).kind);
    expect(kinds).toEqual(['safeguard.incident', 'safeguard.alert-marked', 'safeguard.incident-acknowledged', 'safeguard.incident-resolved']);
    // Common columns: stamped when recorded, with the device seq; later changes move updated_ts_utc, not seq.
    const row = sqliteHandle(store).prepare('SELECT * FROM safeguard_incidents').get() as Record<string, unknown>;
    const incidentEvent = sqliteHandle(store).prepare("SELECT seq FROM events WHERE kind = 'safeguard.incident'").get() as { seq: number };
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
    const stored = sqliteHandle(store).prepare('SELECT value, seq, ts_utc, tz, ts_local, study_day, device_id, clock_source FROM participant_values ORDER BY seq').all() as Record<string, unknown>[];
    expect(stored.map((r) => r.value)).toEqual(['family', 'faith']);
    for (const r of stored) expect(r).toMatchObject({ ts_utc: '2026-03-02T15:00:00.000Z', tz: TZ, ts_local: '2026-03-02T10:00:00.000-05:00', study_day: 2, device_id: 'dev-1', clock_source: 'simulated' });
    const firstFamilyEvent = (sqliteHandle(store).prepare("SELECT MIN(seq) AS m FROM events WHERE kind = 'safeguard.values-inferred'").get() as { m: number }).m;
    expect(stored[0]!.seq as number).toBeGreaterThan(firstFamilyEvent);
    expect(records.deleteValues('p1', 'faith', t0)).toBe(1);
    expect(records.deleteValues('p1', null, t0)).toBe(1);
    expect(records.values('p1')).toEqual([]);
    const detail = sqliteHandle(store).prepare("SELECT detail_json FROM events WHERE kind = 'safeguard.values-deleted'").all().map((r) => (r as { detail_json: string }).detail_json);
    expect(detail.join(' ')).not.toMatch(/pray|faith|kids/);
  });

  it('counts attachment flags per study day from safeguard_events', () => {
    const ev = (atMs: number, decision: string) => ({ atMs, sessionId: 's1', turnId: null, direction: 'input' as const, checkName: 'attachment', checkVersion: '1', score: 0.8, threshold: 0.5, decision, evidence: null });
    log.recordSafeguardEvents([ev(t0, 'flag'), ev(t0 + 1, 'flag'), ev(t0 + 2, 'pass')]);
    expect(records.attachmentByDay('p1')).toEqual([{ studyDay: 2, count: 2 }]);
  });
});

describe('the alert outbox in safeguard_incidents', () => {
  const WORDS = 'the pills are counted out on the kitchen table';
  const withWords = (id: string, severity: 'serious' | 'info' = 'serious') => ({
    ...incident, incidentId: id, severity,
    checks: [{ check: 'crisis', version: '3', score: 0.9, threshold: 0.5, decision: 'flag', evidenceSpan: { start: 0, end: 10, text: WORDS, cue: 'crisis.means' }, parts: { rules: { score: 0.9 } } }],
  });

  it('queues every new incident as unsent and due now, serious ones first, and keeps the delivery history', () => {
    records.recordIncident(withWords('inc-info', 'info'), t0);
    records.recordIncident(withWords('inc-serious'), t0 + 1000);
    expect(records.dueAlerts(t0 + 1000).map((e) => e.incidentId)).toEqual(['inc-serious', 'inc-info']);
    expect(records.nextAlertDueMs()).toBe(t0);
    const [first] = records.dueAlerts(t0 + 1000);
    expect(first).toMatchObject({ attempts: 0, kind: 'crisis', report: { incidentId: 'inc-serious', deviceId: 'dev-1', participantId: 'p1', sessionId: 's1', eventDate: '2026-03-02T15:00:01.000Z' } });
    // What goes over the network carries check names, scores and rule ids, never the participant's words.
    expect(first!.report.checks).toEqual([{ check: 'crisis', version: '3', score: 0.9, threshold: 0.5, decision: 'flag', cue: 'crisis.means' }]);
    expect(JSON.stringify(first)).not.toContain('pills');

    records.alertAttempted('inc-serious', 1, t0 + 60_000, t0 + 2000);
    expect(records.dueAlerts(t0 + 2000).map((e) => e.incidentId)).toEqual(['inc-info']);
    expect(records.dueAlerts(null).map((e) => e.incidentId)).toEqual(['inc-serious', 'inc-info']);
    records.alertFailed('inc-serious', { error: 'HTTP 503 Service Unavailable', permanent: false, retryAtMs: t0 + 30_000 }, t0 + 3000);
    expect(records.nextAlertDueMs()).toBe(t0);
    records.alertDelivered('inc-info', 'sent', t0 + 4000);
    expect(records.nextAlertDueMs()).toBe(t0 + 30_000);
    records.alertDelivered('inc-serious', 'acknowledged', t0 + 31_000);
    expect(records.incident('inc-serious')).toMatchObject({
      deliveryStatus: 'acknowledged', deliveryAttempts: 1, lastError: 'HTTP 503 Service Unavailable', nextAttemptTsUtc: null,
      sentTsUtc: '2026-03-02T15:00:31.000Z', acknowledgedTsUtc: '2026-03-02T15:00:31.000Z', updatedTsUtc: '2026-03-02T15:00:31.000Z',
    });
    expect(records.nextAlertDueMs()).toBeNull();
    expect(incidentOutbox(sqliteHandle(store)).map((l) => [l.incidentId, l.deliveryStatus, l.attempts])).toEqual([['inc-info', 'sent', 0], ['inc-serious', 'acknowledged', 1]]);
  });

  it('a permanent failure is kept as failed with its reason and is no longer due', () => {
    records.recordIncident(withWords('inc-1'), t0);
    records.alertAttempted('inc-1', 1, t0 + 5000, t0);
    records.alertFailed('inc-1', { error: 'HTTP 404 Not Found', permanent: true, retryAtMs: null }, t0);
    expect(records.dueAlerts(null)).toEqual([]);
    expect(records.nextAlertDueMs()).toBeNull();
    expect(records.unsentIncidents().map((i) => [i.incidentId, i.deliveryStatus, i.lastError])).toEqual([['inc-1', 'failed', 'HTTP 404 Not Found']]);
  });

  it('upgrading a version-4 file puts its incidents in the outbox as unsent (alerts.jsonl was all they had)', () => {
    const file = join(dir, 'old.sqlite');
    const raw = new Database(file);
    for (let v = 0; v < 4; v++) raw.exec(MIGRATIONS[v]!);
    raw.pragma('user_version = 4');
    raw.prepare(`INSERT INTO safeguard_incidents (incident_id, kind, severity, event_ts_utc, event_ts_local, description, robot_action, checks_json, harm, causality,
      alert_status, updated_ts_utc, ts_utc, tz, ts_local, device_id, seq, clock_source) VALUES ('inc-old', 'crisis', 'serious', '2026-03-01T10:00:00.000Z', 'x', 'd', 'a', '[]',
      'unknown', 'not yet assessed', 'sent', '2026-03-01T10:00:00.000Z', '2026-03-01T10:00:00.000Z', 'UTC', 'x', 'dev-1', 1, 'system')`).run();
    raw.close();
    const upgraded = SqliteStore.open(file);
    try {
      expect(incidentOutbox(sqliteHandle(upgraded))).toMatchObject([{ incidentId: 'inc-old', deliveryStatus: 'unsent', attempts: 0, nextAttemptTsUtc: null }]);
    } finally {
      upgraded.close();
    }
  });

  it('withdrawal keeps each incident without the participant\'s words, survives the purge, and leaves undelivered ones in the outbox', () => {
    records.recordIncident(withWords('inc-unsent'), t0);
    records.recordIncident(withWords('inc-done'), t0 + 1000);
    records.alertDelivered('inc-done', 'acknowledged', t0 + 2000);
    const scope = participantScope(sqliteHandle(store), 'p1', ['dev-1']);
    const kept = retainIncidentsWithoutWords(sqliteHandle(store), scope, t0 + 86_400_000);
    expect(kept.map((k) => [k.incidentId, k.deliveryStatus, k.withoutWords, k.reason])).toEqual([
      ['inc-unsent', 'unsent', true, RETAINED_REASON], ['inc-done', 'acknowledged', true, RETAINED_REASON],
    ]);
    const counts = purgeParticipant(sqliteHandle(store), scope, { studyId: null, protocolHash: null, atMs: t0 + 86_400_000, filesPurged: 0, identity: log.identity });
    expect(counts.safeguard_incidents).toBeUndefined();
    expect(counts.sessions).toBe(1);
    expect(retainedIncidents(sqliteHandle(store), 'p1').map((r) => r.incidentId)).toEqual(['inc-unsent', 'inc-done']);
    // Still in the outbox, with the report it will carry: no words, no session, check names and scores kept.
    const [due] = records.dueAlerts(null);
    expect(due!.report).toMatchObject({
      incidentId: 'inc-unsent', participantId: 'p1', deviceId: 'dev-1', sessionId: null, turnId: null, kind: 'crisis', severity: 'serious',
      checks: [{ check: 'crisis', version: '3', score: 0.9, threshold: 0.5, decision: 'flag' }], retained: { date: '2026-03-03T15:00:00.000Z', reason: RETAINED_REASON },
    });
    expect(JSON.stringify(sqliteHandle(store).prepare('SELECT * FROM safeguard_incidents').all())).not.toContain('pills');
    store.close();
    expect(readFileSync(join(dir, 'hearth.db')).includes('pills')).toBe(false);
    store = SqliteStore.open(join(dir, 'hearth.db'));
  });

  it('strips words from a report by copying only named fields', () => {
    const report = { incidentId: 'i', kind: 'crisis', severity: 'serious', participantId: 'p1', deviceId: 'd', sessionId: 's1', turnId: 4, eventDate: '2026-03-02T15:00:00.000Z',
      staffLearnedDate: null, description: 'desc', robotAction: 'said', checks: withWords('x').checks, resolution: null, harm: 'h', causality: 'c', reportDueBy: null, note: WORDS };
    const kept = incidentReportWithoutWords(report, t0)!;
    expect(JSON.stringify(kept)).not.toContain('pills');
    expect(kept).toMatchObject({ sessionId: null, turnId: null, participantId: 'p1', checks: [{ check: 'crisis', score: 0.9 }], retained: { date: '2026-03-02T15:00:00.000Z' } });
    expect(incidentReportWithoutWords('nonsense', t0)).toBeNull();
    expect(checksWithoutWords([{ check: 'crisis', evidenceSpan: { text: WORDS, cue: 'crisis.means' } }, { nope: 1 }, { check: 'harm', cue: WORDS }])).toEqual([
      { check: 'crisis', version: null, score: null, threshold: null, decision: null, cue: 'crisis.means' },
      { check: 'harm', version: null, score: null, threshold: null, decision: null, cue: null },
    ]);
    const once = checksWithoutWords(withWords('x').checks);
    expect(checksWithoutWords(once)).toEqual(once);
  });
});
