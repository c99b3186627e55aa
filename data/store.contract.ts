/**
 * The contract of the store ports: every adapter (`SqliteStore` on a real file, `MemoryStore`) runs it
 * from its own test file with `describeStoreContract(name, makeStore)`. It checks what a caller can
 * observe through the ports: append and read back, ordering, sequence numbers, consent state, the
 * alert outbox, withdrawal purge and scan, stats, and transactions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StoreError } from './errors.js';
import { SCHEMA_VERSION } from './migrations.js';
import type { DeviceLog, Store } from './ports.js';
import type { IncidentInput } from './safeguard-records.js';
import type { DeviceIdentity } from './store.js';
import { localTimeToMs } from './time.js';

const TZ = 'America/New_York';
const DEV: DeviceIdentity = { deviceId: 'dev-1', tz: TZ, clockSource: 'simulated' };
const at = (date: string, time = '09:00') => localTimeToMs(date, time, TZ);
const T0 = at('2026-12-01');
const DAY = 86_400_000;

/** A device with participant P01 (day 1 = 2026-12-01) and one open session S1 on day 1. */
function seeded(store: Store, identity: DeviceIdentity = DEV, participantId = 'P01', sessionId = 'S1'): DeviceLog {
  const log = store.forDevice(identity);
  log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, T0);
  log.enrollParticipant({ participantId, startDate: '2026-12-01', condition: 'matched', protocolId: 'es', protocolVersion: '1', protocolHash: 'h1' }, T0);
  log.startSession({ sessionId, participantId, studyDay: 1, protocolHash: 'h1', condition: 'matched' }, T0 + 1000);
  return log;
}

const incident = (id: string, over: Partial<IncidentInput> = {}): IncidentInput => ({
  incidentId: id, kind: 'crisis', severity: 'serious', participantId: 'P01', sessionId: 'S1', turnId: null, description: 'crisis language',
  robotAction: 'gave 988', checks: [{ check: 'crisis', version: '1', score: 0.9, threshold: 0.5, decision: 'flag', evidenceSpan: { text: 'I want to die', cue: 'crisis.want-die' } }],
  harm: 'unknown', causality: 'not yet assessed', reportDueBy: null, ...over,
});

/** Run the store contract against an adapter; `makeStore` gives a new, empty store each time. */
export function describeStoreContract(name: string, makeStore: () => Store): void {
  describe(`store contract: ${name}`, () => {
    const open: Store[] = [];
    const fresh = (): Store => {
      const s = makeStore();
      open.push(s);
      return s;
    };
    afterEach(() => {
      for (const s of open.splice(0)) s.close();
    });

    describe('DeviceLog', () => {
      it('enrolls a participant once, on one device only', () => {
        const store = fresh();
        const log = seeded(store);
        expect(log.participant('P01')).toEqual({
          participantId: 'P01', deviceId: 'dev-1', startDate: '2026-12-01', tz: TZ, condition: 'matched', protocolId: 'es', protocolVersion: '1',
          protocolHash: 'h1', status: 'active',
        });
        expect(log.participant('nobody')).toBeUndefined();
        const again = log.enrollParticipant({ participantId: 'P01', startDate: '2027-01-01', condition: 'random', protocolId: null, protocolVersion: null, protocolHash: null }, T0);
        expect(again.startDate).toBe('2026-12-01');
        const other = store.forDevice({ ...DEV, deviceId: 'dev-2' });
        other.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, T0);
        expect(() => other.enrollParticipant({ participantId: 'P01', startDate: '2026-12-01', condition: null, protocolId: null, protocolVersion: null, protocolHash: null }, T0))
          .toThrow(StoreError);
      });

      it('updates the participant protocol in place without taking a sequence number', () => {
        const store = fresh();
        const log = seeded(store);
        const before = store.stats.lastSeq('dev-1');
        log.updateParticipantProtocol('P01', '2', 'h2');
        expect(log.participant('P01')).toMatchObject({ protocolVersion: '2', protocolHash: 'h2' });
        expect(store.stats.lastSeq('dev-1')).toBe(before);
      });

      it('runs a session: progress, story, resume, finish, each change an event in sequence', () => {
        const store = fresh();
        const log = seeded(store);
        log.saveProgress('S1', 'story', { paragraph: 2 }, T0 + 2000);
        log.setSessionStory('S1', 'story-7', T0 + 3000);
        log.markResumed('S1', T0 + 4000);
        expect(log.openSessions().map((s) => s.sessionId)).toEqual(['S1']);
        log.finishSession('S1', 'completed', null, T0 + 5000);
        expect(log.session('S1')).toMatchObject({
          sessionId: 'S1', participantId: 'P01', studyDay: 1, status: 'completed', statusReason: null, step: 'story', progress: { paragraph: 2 },
          storyId: 'story-7', resumedCount: 1, lastActivityMs: T0 + 5000, endedTsUtc: new Date(T0 + 5000).toISOString(), startedTsUtc: new Date(T0 + 1000).toISOString(),
        });
        expect(log.openSessions()).toEqual([]);
        expect(() => log.finishSession('S1', 'interrupted', 'again', T0 + 6000)).toThrow(StoreError);
        expect(log.events({ sessionId: 'S1' }).map((e) => e.kind)).toEqual(['session.started', 'session.resumed', 'session.completed']);
        expect(log.session('nope')).toBeUndefined();
      });

      it('lists sessions by study day, records missed ones with the reason, and remembers stories heard', () => {
        const store = fresh();
        const log = seeded(store);
        log.setSessionStory('S1', 'a', T0);
        log.startSession({ sessionId: 'S3', participantId: 'P01', studyDay: 3, protocolHash: 'h1', condition: 'matched' }, T0 + 2 * DAY);
        log.setSessionStory('S3', 'b', T0 + 2 * DAY);
        log.recordMissedSession({ sessionId: 'S2', participantId: 'P01', studyDay: 2, protocolHash: 'h1', condition: 'matched' }, 'nobody answered', T0 + 3 * DAY);
        expect(log.sessions('P01').map((s) => [s.sessionId, s.studyDay, s.status])).toEqual([['S1', 1, 'started'], ['S2', 2, 'missed'], ['S3', 3, 'started']]);
        expect(log.session('S2')).toMatchObject({ statusReason: 'nobody answered', startedTsUtc: null });
        expect(log.events({ kind: 'session.missed' }).map((e) => e.detail)).toEqual([{ reason: 'nobody answered' }]);
        expect(log.storiesHeard('P01')).toEqual(['a', 'b']);
        expect(log.openSessions().map((s) => s.sessionId)).toEqual(['S1', 'S3']);
      });

      it('stamps rows with UTC, local time, study day and one monotonic sequence across tables', () => {
        const store = fresh();
        const log = seeded(store);
        const turnId = log.recordTurn({ sessionId: 'S1', speaker: 'robot', text: 'Hello', step: 'greeting', startMs: T0 + 2000, endMs: T0 + 4000 });
        log.recordEvent('test.event', { a: 1 }, T0 + 5000, 'S1');
        log.recordEvent('device.note', null, T0 + DAY);
        const [turn] = log.turns('S1');
        expect(turn).toEqual({
          turnId, sessionId: 'S1', speaker: 'robot', text: 'Hello', step: 'greeting', startTsUtc: new Date(T0 + 2000).toISOString(),
          endTsUtc: new Date(T0 + 4000).toISOString(), seq: turn!.seq,
        });
        const events = log.events();
        expect(events.map((e) => e.kind)).toEqual(['session.started', 'test.event', 'device.note']);
        expect(events[1]).toMatchObject({ sessionId: 'S1', detail: { a: 1 }, tsLocal: '2026-12-01T09:00:05.000-05:00', studyDay: 1 });
        // An event without a session takes the device participant's study day.
        expect(events[2]).toMatchObject({ sessionId: null, detail: null, studyDay: 2 });
        const seqs = [turn!.seq, ...events.map((e) => e.seq)].sort((a, b) => a - b);
        expect(new Set(seqs).size).toBe(seqs.length);
        expect(events[1]!.seq).toBeGreaterThan(turn!.seq);
        expect(store.stats.lastSeq('dev-1')).toBe(Math.max(...seqs));
        expect(log.session('S1')!.lastActivityMs).toBe(T0 + 4000);
      });

      it('reads back the latest event of a kind, of this device only', () => {
        const store = fresh();
        const log = seeded(store);
        expect(log.lastEvent('alerts.webhook')).toBeNull();
        log.recordEvent('alerts.webhook', { url: 'a' }, T0);
        log.recordEvent('alerts.webhook', { url: 'b' }, T0 + 1);
        const other = store.forDevice({ ...DEV, deviceId: 'dev-2' });
        other.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, T0);
        other.recordEvent('alerts.webhook', { url: 'c' }, T0 + 2);
        expect(log.lastEvent('alerts.webhook')).toEqual({ url: 'b' });
        expect(log.events({ kind: 'alerts.webhook' }).map((e) => e.detail)).toEqual([{ url: 'a' }, { url: 'b' }]);
      });

      it('keeps turns in order and offers the robot recent lines (not the story) and nothing of other participants', () => {
        const store = fresh();
        const log = seeded(store);
        const say = (speaker: 'robot' | 'participant', text: string, step: string | null, ms: number) =>
          log.recordTurn({ sessionId: 'S1', speaker, text, step, startMs: ms, endMs: ms + 10 });
        say('robot', 'one', 'greeting', T0 + 100);
        say('participant', 'hi', 'greeting', T0 + 200);
        say('robot', 'once upon a time', 'story', T0 + 300);
        say('robot', 'two', 'reflection', T0 + 400);
        say('robot', 'unstepped', null, T0 + 500);
        say('robot', 'three', 'goodbye', T0 + 600);
        expect(log.turns('S1').map((t) => t.text)).toEqual(['one', 'hi', 'once upon a time', 'two', 'unstepped', 'three']);
        expect(log.recentRobotLines('P01', 2)).toEqual(['three', 'two']);
        expect(log.recentRobotLines('P01', 10)).toEqual(['three', 'two', 'one']);
        expect(log.recentRobotLines('P02', 10)).toEqual([]);
      });

      it('reads back responses, affect samples and safeguard check results in sequence', () => {
        const store = fresh();
        const log = seeded(store);
        log.recordResponse({ sessionId: 'S1', instrument: 'mood', item: 'valence', value: 4, rawText: 'four', status: 'answered', scoringVersion: 'm1' }, T0 + 10);
        log.recordResponse({ sessionId: 'S1', instrument: 'mood', item: 'arousal', value: null, rawText: null, status: 'skipped', scoringVersion: 'm1' }, T0 + 20);
        log.recordAffectSamples([]);
        log.recordAffectSamples([
          { atMs: T0 + 30, sessionId: 'S1', valence: 0.2, arousal: 0.5, label: 'calm', confidence: 0.7, sources: { voice: 1 } },
          { atMs: T0 + 40, sessionId: null, valence: null, arousal: null, label: null, confidence: 0, sources: [] },
        ]);
        const turnId = log.recordTurn({ sessionId: 'S1', speaker: 'participant', text: 'x', step: 'checkin', startMs: T0 + 45, endMs: T0 + 46 });
        log.recordSafeguardEvents([{
          atMs: T0 + 50, sessionId: 'S1', turnId, direction: 'input', checkName: 'crisis', checkVersion: '2', score: 0.1, threshold: 0.5, decision: 'pass',
          evidence: null, firedParts: '', modelScore: 0.05, modelThreshold: 0.4, modelVia: 'whole',
        }, { atMs: T0 + 60, sessionId: 'S1', turnId: null, direction: 'output', checkName: 'flattery', checkVersion: '1', score: null, threshold: null, decision: 'flag', evidence: 'you are amazing' }]);
        expect(log.responses('S1').map((r) => [r.item, r.value, r.rawText, r.status, r.studyDay])).toEqual([['valence', 4, 'four', 'answered', 1], ['arousal', null, null, 'skipped', 1]]);
        expect(log.responses()).toHaveLength(2);
        expect(log.responses('other')).toEqual([]);
        expect(log.affectSamples()).toEqual([
          expect.objectContaining({ sessionId: 'S1', valence: 0.2, arousal: 0.5, label: 'calm', confidence: 0.7, sources: { voice: 1 }, tsUtc: new Date(T0 + 30).toISOString() }),
          expect.objectContaining({ sessionId: null, valence: null, label: null, confidence: 0, sources: [] }),
        ]);
        expect(log.safeguardEvents()).toEqual([
          expect.objectContaining({ sessionId: 'S1', turnId, direction: 'input', checkName: 'crisis', decision: 'pass', firedParts: '', modelScore: 0.05, modelVia: 'whole', studyDay: 1 }),
          expect.objectContaining({ turnId: null, direction: 'output', checkName: 'flattery', score: null, evidence: 'you are amazing', firedParts: null, modelScore: null }),
        ]);
      });

      it('refuses a turn of an unknown session and gives its sequence number back', () => {
        const store = fresh();
        const log = seeded(store);
        const before = store.stats.lastSeq('dev-1');
        expect(() => log.recordTurn({ sessionId: 'ghost', speaker: 'robot', text: 'x', step: null, startMs: T0, endMs: T0 })).toThrow(StoreError);
        expect(store.stats.lastSeq('dev-1')).toBe(before);
        expect(log.turns('ghost')).toEqual([]);
      });
    });

    describe('StudyRecords', () => {
      const stampAt = { atMs: T0, tz: TZ, clockSource: 'system' as const };
      it('creates a study seed once and allocates each participant once, slot by slot per stratum', () => {
        const { study } = fresh();
        let made = 0;
        const seed = study.allocationSeed('es', () => `seed-${++made}`, stampAt);
        expect(study.allocationSeed('es', () => `seed-${++made}`, stampAt)).toBe(seed);
        expect(made).toBe(1);
        const choose = (slot: number) => ({ condition: slot % 2 ? 'random' : 'matched', method: 'blocked' as const, blockIndex: 0, blockSize: 4 });
        const alloc = (participantId: string, stratum: string) => study.allocateOnce({ studyId: 'es', participantId, stratum, seed, protocolHash: 'h', ...stampAt }, choose);
        expect(alloc('P01', 'a')).toMatchObject({ created: true, record: { participantId: 'P01', stratum: 'a', slot: 0, condition: 'matched', seed, tsUtc: new Date(T0).toISOString() } });
        expect(alloc('P02', 'a').record.slot).toBe(1);
        expect(alloc('P03', 'b').record.slot).toBe(0);
        expect(alloc('P01', 'b')).toMatchObject({ created: false, record: { stratum: 'a', slot: 0 } });
        expect(study.findAllocation('es', 'P02')).toMatchObject({ condition: 'random', method: 'blocked', blockIndex: 0, blockSize: 4, protocolHash: 'h' });
        expect(study.findAllocation('other', 'P02')).toBeUndefined();
        expect(study.allocationsOf('es').map((a) => [a.stratum, a.slot, a.participantId])).toEqual([['a', 0, 'P01'], ['a', 1, 'P02'], ['b', 0, 'P03']]);
      });

      it('stores schedule instances once, lists them by window, and records status changes in place', () => {
        const store = fresh();
        const log = seeded(store);
        const inst = (day: number) => ({
          participantId: 'P01', instanceId: `d${day}`, slot: 'evening', studyDay: day, localDate: `2026-12-0${day}`, templateId: 't',
          windowStartUtc: new Date(T0 + (day - 1) * DAY).toISOString(), windowEndUtc: new Date(T0 + (day - 1) * DAY + 3_600_000).toISOString(),
          windowStartLocal: 's', windowEndLocal: 'e', protocolHash: 'h1',
        });
        expect(store.study.saveScheduleInstances(DEV, [inst(2), inst(1)], T0)).toBe(2);
        const seq = store.stats.lastSeq('dev-1');
        expect(store.study.saveScheduleInstances(DEV, [inst(1), inst(2), inst(3)], T0 + 1)).toBe(1);
        expect(store.stats.lastSeq('dev-1')).toBe(seq! + 1);
        store.study.updateScheduleInstance('P01', 'd2', { status: 'delivered', statusReason: null, invitations: 1, lastInvitedMs: T0 + DAY }, T0 + DAY);
        store.study.updateScheduleInstance('P01', 'd2', { status: 'started', statusReason: null, sessionId: 'S1' }, T0 + DAY + 5);
        const rows = store.study.loadScheduleInstances('P01');
        expect(rows.map((r) => [r.instanceId, r.studyDay, r.status])).toEqual([['d1', 1, 'scheduled'], ['d2', 2, 'started'], ['d3', 3, 'scheduled']]);
        expect(rows[1]).toMatchObject({
          deviceId: 'dev-1', tz: TZ, invitations: 1, lastInvitedTsUtc: new Date(T0 + DAY).toISOString(), sessionId: 'S1', updatedTsUtc: new Date(T0 + DAY + 5).toISOString(),
        });
        expect(rows[0]).toMatchObject({ invitations: 0, lastInvitedTsUtc: null, sessionId: null, statusReason: null, updatedTsUtc: new Date(T0).toISOString() });
        expect(() => store.study.updateScheduleInstance('P01', 'nope', { status: 'missed', statusReason: 'x' }, T0)).toThrow(StoreError);
        expect(store.study.loadScheduleInstances('P02')).toEqual([]);
        expect(log.identity.deviceId).toBe('dev-1');
      });
    });

    describe('ConsentRecords', () => {
      it('appends decisions; a change of mind is a new row, in sequence, with the study day', () => {
        const store = fresh();
        seeded(store);
        const decision = (modality: string, granted: boolean) => ({ participantId: 'P01', consentVersion: 1, modality, granted, method: 'staff' as const, prompt: `May I ${modality}?`, protocolHash: 'h1' });
        store.consent.record(DEV, [decision('audio_recording', true), decision('transcripts', true)], T0);
        store.consent.record(DEV, [decision('transcripts', false)], T0 + 2 * DAY);
        store.consent.record(DEV, [], T0 + 3 * DAY);
        const rows = store.consent.list('P01');
        expect(rows.map((r) => [r.modality, r.granted, r.studyDay])).toEqual([['audio_recording', true, 1], ['transcripts', true, 1], ['transcripts', false, 3]]);
        expect(rows[2]).toMatchObject({ deviceId: 'dev-1', method: 'staff', prompt: 'May I transcripts?', atMs: T0 + 2 * DAY, tz: TZ, clockSource: 'simulated', consentVersion: 1 });
        expect(rows[0]!.seq).toBeLessThan(rows[1]!.seq);
        expect(store.consent.list('P02')).toEqual([]);
        // Someone not enrolled here: recorded without a study day.
        store.consent.record(DEV, [{ ...decision('audio_recording', true), participantId: 'P09' }], T0);
        expect(store.consent.list('P09')[0]!.studyDay).toBeNull();
      });
    });

    describe('MemoryRecords', () => {
      it('adds, lists oldest first, marks recalls, and deletes for real', () => {
        const store = fresh();
        seeded(store);
        const memories = store.memories(DEV);
        const note = (summary: string, saidAtMs: number) => memories.add({
          participantId: 'P01', sessionId: 'S1', saidAtMs, tz: TZ, studyDay: 1, summary, people: ['sister'], places: [], feelings: ['worried'], topics: ['health'], method: 'extractive',
        });
        const later = note('sister in hospital', T0 + 2000);
        const first = note('new job', T0 + 1000);
        expect(memories.list('P01').map((m) => m.summary)).toEqual(['new job', 'sister in hospital']);
        expect(later).toMatchObject({ participantId: 'P01', saidAtMs: T0 + 2000, saidTsLocal: '2026-12-01T09:00:02.000-05:00', people: ['sister'], recalledCount: 0, lastRecalledAtMs: null });
        memories.markRecalled(later.memoryId, T0 + DAY);
        expect(memories.list('P01')[1]).toMatchObject({ recalledCount: 1, lastRecalledAtMs: T0 + DAY });
        expect(memories.delete('P02', [first.memoryId])).toEqual([]);
        expect(memories.delete('P01', [first.memoryId, 9999])).toEqual([first.memoryId]);
        expect(memories.deleteAll('P01')).toEqual([later.memoryId]);
        expect(memories.list('P01')).toEqual([]);
        expect(() => note('  ', T0)).toThrow(StoreError);
        expect(() => memories.add({ ...later, tz: 'Europe/Berlin' })).toThrow(/time zone/);
      });
    });

    describe('SafeguardRecords', () => {
      it('records an incident with its IRB fields and logs each change', () => {
        const store = fresh();
        const log = seeded(store);
        const records = store.safeguards(log);
        records.recordIncident(incident('inc-1'), T0 + 2 * DAY);
        expect(records.incident('inc-1')).toMatchObject({
          incidentId: 'inc-1', kind: 'crisis', severity: 'serious', participantId: 'P01', sessionId: 'S1', alertStatus: 'pending', deliveryStatus: 'unsent',
          deliveryAttempts: 0, eventTsUtc: new Date(T0 + 2 * DAY).toISOString(), staffLearnedTsUtc: null, resolution: null, studyDay: 3, retainedTsUtc: null,
        });
        records.markAlert('inc-1', 'sent', T0 + 2 * DAY + 1);
        records.acknowledge('inc-1', T0 + 3 * DAY);
        records.acknowledge('inc-1', T0 + 4 * DAY);
        records.resolve('inc-1', { resolution: 'called back', harm: 'none', causality: 'unrelated' }, T0 + 5 * DAY);
        expect(records.incident('inc-1')).toMatchObject({
          alertStatus: 'sent', staffLearnedTsUtc: new Date(T0 + 3 * DAY).toISOString(), resolution: 'called back', harm: 'none', causality: 'unrelated',
          updatedTsUtc: new Date(T0 + 5 * DAY).toISOString(),
        });
        expect(log.events().map((e) => e.kind).filter((k) => k.startsWith('safeguard.'))).toEqual([
          'safeguard.incident', 'safeguard.alert-marked', 'safeguard.incident-acknowledged', 'safeguard.incident-acknowledged', 'safeguard.incident-resolved',
        ]);
        expect(() => records.markAlert('nope', 'sent', T0)).toThrow(StoreError);
        expect(records.incident('nope')).toBeUndefined();
      });

      it('keeps an outbox: due alerts serious first without the participant\'s words, retries and final states', () => {
        const store = fresh();
        const log = seeded(store);
        const records = store.safeguards(log);
        expect(records.nextAlertDueMs()).toBeNull();
        records.recordIncident(incident('inc-b', { kind: 'minor', severity: 'moderate' }), T0 + 1000);
        records.recordIncident(incident('inc-a'), T0 + 2000);
        records.recordIncident(incident('inc-c', { kind: 'harm' }), T0 + 3000);
        const due = records.dueAlerts(T0 + 5000);
        expect(due.map((d) => d.incidentId)).toEqual(['inc-a', 'inc-c', 'inc-b']);
        expect(JSON.stringify(due)).not.toContain('I want to die');
        expect(due[0]!.report).toMatchObject({ deviceId: 'dev-1', participantId: 'P01', eventDate: new Date(T0 + 2000).toISOString(), checks: [{ check: 'crisis', cue: 'crisis.want-die' }] });
        expect(records.dueAlerts(T0 + 5000, 1).map((d) => d.incidentId)).toEqual(['inc-a']);
        expect(records.nextAlertDueMs()).toBe(T0 + 1000);
        records.alertAttempted('inc-a', 1, T0 + 60_000, T0 + 5000);
        expect(records.dueAlerts(T0 + 6000).map((d) => d.incidentId)).toEqual(['inc-c', 'inc-b']);
        expect(records.dueAlerts(null).map((d) => d.incidentId)).toEqual(['inc-a', 'inc-c', 'inc-b']);
        // A planned retry beyond the horizon means the clock moved back: due now.
        expect(records.dueAlerts(T0 + 6000, 50, T0 + 30_000).map((d) => d.incidentId)).toEqual(['inc-a', 'inc-c', 'inc-b']);
        expect(records.dueAlerts(T0 + 60_000)[0]).toMatchObject({ incidentId: 'inc-a', attempts: 1 });
        records.alertFailed('inc-a', { error: 'HTTP 503', permanent: false, retryAtMs: T0 + 120_000 }, T0 + 61_000);
        records.alertDelivered('inc-c', 'acknowledged', T0 + 62_000);
        records.alertFailed('inc-b', { error: 'x'.repeat(600), permanent: true, retryAtMs: null }, T0 + 63_000);
        expect(records.incident('inc-a')).toMatchObject({ deliveryStatus: 'unsent', lastError: 'HTTP 503', nextAttemptTsUtc: new Date(T0 + 120_000).toISOString() });
        expect(records.incident('inc-c')).toMatchObject({ deliveryStatus: 'acknowledged', sentTsUtc: new Date(T0 + 62_000).toISOString(), acknowledgedTsUtc: new Date(T0 + 62_000).toISOString(), nextAttemptTsUtc: null });
        expect(records.incident('inc-b')!.lastError).toHaveLength(500);
        expect(records.incident('inc-b')!.deliveryStatus).toBe('failed');
        expect(records.unsentIncidents().map((i) => i.incidentId)).toEqual(['inc-b', 'inc-a']);
        expect(records.nextAlertDueMs()).toBe(T0 + 120_000);
        expect(records.incidents().map((i) => i.incidentId)).toEqual(['inc-b', 'inc-a', 'inc-c']);
        expect(records.incidents('P01')).toHaveLength(3);
        expect(store.stats.incidentOutbox().map((l) => [l.incidentId, l.deliveryStatus, l.attempts])).toEqual([['inc-b', 'failed', 0], ['inc-a', 'unsent', 1], ['inc-c', 'acknowledged', 0]]);
      });

      it('keeps the strongest value per name, shows them strongest first, and deletes on request', () => {
        const store = fresh();
        const log = seeded(store);
        const records = store.safeguards(log);
        const src = { sessionId: 'S1', turnId: null, version: 'v1' };
        records.saveValues('P01', [{ value: 'family', confidence: 0.6, evidence: { text: 'my family matters' } }, { value: 'faith', confidence: 0.9, evidence: { text: 'my faith', cue: 'faith.my' } }], src, T0);
        records.saveValues('P01', [{ value: 'family', confidence: 0.4, evidence: { text: 'weaker' } }], src, T0 + 1);
        records.saveValues('P01', [{ value: 'family', confidence: 0.8, evidence: { text: 'stronger' } }], src, T0 + 2);
        records.saveValues('P01', [], src, T0 + 3);
        expect(records.values('P01').map((v) => [v.value, v.confidence, v.evidence])).toEqual([['faith', 0.9, 'my faith'], ['family', 0.8, 'stronger']]);
        expect(records.values('P01')[1]).toMatchObject({ sessionId: 'S1', turnId: null, tsUtc: new Date(T0 + 2).toISOString() });
        expect(records.deleteValues('P01', 'faith', T0 + 4)).toBe(1);
        expect(records.deleteValues('P01', null, T0 + 5)).toBe(1);
        expect(records.values('P01')).toEqual([]);
        expect(log.events({ kind: 'safeguard.values-deleted' }).map((e) => e.detail)).toEqual([{ count: 1, scope: 'one' }, { count: 1, scope: 'all' }]);
        expect(JSON.stringify(log.events())).not.toContain('stronger');
      });

      it('counts attachment flags per study day', () => {
        const store = fresh();
        const log = seeded(store);
        log.startSession({ sessionId: 'S2', participantId: 'P01', studyDay: 2, protocolHash: null, condition: null }, T0 + DAY);
        const flag = (sessionId: string, ms: number, decision = 'flag') => log.recordSafeguardEvents([{
          atMs: ms, sessionId, turnId: null, direction: 'input', checkName: 'attachment', checkVersion: '1', score: 0.9, threshold: 0.5, decision, evidence: null,
        }]);
        flag('S1', T0 + 10);
        flag('S1', T0 + 20, 'pass');
        flag('S2', T0 + DAY + 10);
        flag('S2', T0 + DAY + 20);
        expect(store.safeguards(log).attachmentByDay('P01')).toEqual([{ studyDay: 1, count: 1 }, { studyDay: 2, count: 2 }]);
        expect(store.safeguards(log).attachmentByDay('P02')).toEqual([]);
      });
    });

    describe('WithdrawalRecords', () => {
      it('purges every row of the participant, keeps consent, incidents without words and a tombstone, and the scan finds nothing else', () => {
        const store = fresh();
        const log = seeded(store);
        log.recordTurn({ sessionId: 'S1', speaker: 'participant', text: 'I told my sister about the hospital', step: 'checkin', startMs: T0 + 10, endMs: T0 + 20 });
        log.recordResponse({ sessionId: 'S1', instrument: 'mood', item: 'valence', value: 5, rawText: 'five', status: 'answered', scoringVersion: 'm1' }, T0 + 30);
        log.recordEvent('device.heartbeat', { ok: true }, T0 + 40);
        store.consent.record(DEV, [{ participantId: 'P01', consentVersion: 1, modality: 'transcripts', granted: true, method: 'staff', prompt: 'May I?', protocolHash: 'h1' }], T0);
        store.memories(DEV).add({ participantId: 'P01', sessionId: 'S1', saidAtMs: T0, tz: TZ, studyDay: 1, summary: 'sister in hospital', people: [], places: [], feelings: [], topics: [], method: 'extractive' });
        const records = store.safeguards(log);
        records.recordIncident(incident('inc-1'), T0 + 50);
        // Another participant on another device is untouched.
        const other = seeded(store, { ...DEV, deviceId: 'dev-2' }, 'P02', 'S9');
        other.recordTurn({ sessionId: 'S9', speaker: 'participant', text: 'hello', step: null, startMs: T0, endMs: T0 });

        const scope = store.withdrawal.participantScope('P01', ['dev-1']);
        expect(scope).toEqual({ participantId: 'P01', sessionIds: ['S1'], deviceIds: ['dev-1'] });
        expect(store.withdrawal.scanParticipant(scope).filter((t) => t.rows > 0 && !t.kept).length).toBeGreaterThan(5);
        const kept = store.withdrawal.retainIncidentsWithoutWords(scope, T0 + 4 * DAY);
        expect(kept).toEqual([expect.objectContaining({ incidentId: 'inc-1', withoutWords: true, deliveryStatus: 'unsent', retainedTsUtc: new Date(T0 + 4 * DAY).toISOString() })]);
        const seqBefore = store.stats.lastSeq('dev-1')!;
        const counts = store.withdrawal.purgeParticipant(scope, { studyId: 'es', protocolHash: 'h1', identity: { ...DEV, clockSource: 'system' }, atMs: T0 + 4 * DAY, filesPurged: 2 });
        expect(counts).toMatchObject({ participants: 1, sessions: 1, turns: 1, responses: 1, memories: 1, devices: 1 });
        expect(counts.events).toBeGreaterThanOrEqual(3);
        expect(counts.safeguard_incidents).toBeUndefined();
        store.withdrawal.setTombstoneFiles('P01', 3, T0 + 4 * DAY + 1000);
        expect(store.withdrawal.tombstoneOf('P01')).toMatchObject({
          participant_id: 'P01', study_id: 'es', files_purged: 3, seq: seqBefore + 1, study_day: 5, clock_source: 'system',
          withdrawn_ts_utc: new Date(T0 + 4 * DAY).toISOString(), updated_ts_utc: new Date(T0 + 4 * DAY + 1000).toISOString(),
        });
        expect(JSON.parse(store.withdrawal.tombstoneOf('P01')!.rows_purged_json as string)).toEqual(counts);
        expect(store.stats.lastSeq('dev-1')).toBe(seqBefore + 1);
        const scan = store.withdrawal.scanParticipant(scope);
        expect(scan.filter((t) => t.rows > 0).map((t) => `${t.table}:${t.kept}`)).toEqual(['consent_records:true', 'safeguard_incidents:false', 'tombstones:true']);
        expect(store.withdrawal.retainedIncidents('P01', ['dev-1'])).toEqual(kept);
        expect(store.consent.list('P01')).toHaveLength(1);
        expect(log.participant('P01')).toBeUndefined();
        expect(JSON.stringify(store.safeguards(log).incidents('P01'))).not.toContain('I want to die');
        expect(other.participant('P02')).toBeDefined();
        expect(other.turns('S9')).toHaveLength(1);
        expect(store.withdrawal.tombstoneOf('P02')).toBeUndefined();
      });

      it('keeps device rows of a device someone else also used', () => {
        const store = fresh();
        const log = seeded(store);
        log.enrollParticipant({ participantId: 'P02', startDate: '2026-12-01', condition: null, protocolId: null, protocolVersion: null, protocolHash: null }, T0);
        log.recordEvent('device.heartbeat', null, T0 + 5);
        const scope = store.withdrawal.participantScope('P01');
        expect(scope).toEqual({ participantId: 'P01', sessionIds: ['S1'], deviceIds: [] });
        store.withdrawal.purgeParticipant(scope, { studyId: null, protocolHash: null, identity: DEV, atMs: T0 + DAY, filesPurged: 0 });
        expect(log.participant('P02')).toBeDefined();
        expect(log.events({ kind: 'device.heartbeat' })).toHaveLength(1);
        expect(log.sessions('P01')).toEqual([]);
      });
    });

    describe('StoreStats', () => {
      it('counts sessions, rows, the latest events, schedule instances and sequence numbers', () => {
        const store = fresh();
        expect(store.stats.schemaVersion).toBe(SCHEMA_VERSION);
        expect(store.stats.integrityCheck()).toBe('ok');
        expect(store.stats.lastEventTsUtc()).toBeNull();
        expect(store.stats.lastSeq('dev-1')).toBeNull();
        expect(store.stats.latestEvent(['alerts.webhook'])).toBeNull();
        const log = seeded(store);
        log.recordMissedSession({ sessionId: 'S2', participantId: 'P01', studyDay: 2, protocolHash: null, condition: null }, 'nobody answered', T0 + DAY);
        log.recordTurn({ sessionId: 'S1', speaker: 'robot', text: 'hi', step: 'greeting', startMs: T0 + 2000, endMs: T0 + 3000 });
        log.recordEvent('alerts.no-webhook', { where: 'x' }, T0 + 2 * DAY);
        log.recordEvent('alerts.webhook', { url: 'https://a' }, T0 + 3 * DAY);
        log.recordEvent('safeguards.ready', null, T0 + 3 * DAY + 1);
        const other = seeded(store, { ...DEV, deviceId: 'dev-2' }, 'P02', 'S9');
        other.finishSession('S9', 'completed', null, T0 + 5000);
        expect(store.stats.sessionsByStatus()).toEqual({ completed: 1, missed: 1, started: 1 });
        expect(Object.keys(store.stats.sessionsByStatus())).toEqual(['completed', 'missed', 'started']);
        expect(store.stats.counts()).toEqual({ devices: 2, participants: 2, sessions: 3, turns: 1, responses: 0 });
        expect(store.stats.counts('dev-2')).toEqual({ devices: 1, participants: 1, sessions: 1, turns: 0, responses: 0 });
        expect(store.stats.lastEventTsUtc()).toBe(new Date(T0 + 3 * DAY + 1).toISOString());
        expect(store.stats.latestEvent(['alerts.webhook', 'alerts.no-webhook'])).toEqual({ kind: 'alerts.webhook', detail: { url: 'https://a' }, tsUtc: new Date(T0 + 3 * DAY).toISOString() });
        expect(store.stats.latestEvent(['safeguards.ready'])).toEqual({ kind: 'safeguards.ready', detail: null, tsUtc: new Date(T0 + 3 * DAY + 1).toISOString() });
        const inst = (day: number) => ({
          participantId: 'P01', instanceId: `d${day}`, slot: 'evening', studyDay: day, localDate: 'x', templateId: 't',
          windowStartUtc: new Date(T0 + day * DAY).toISOString(), windowEndUtc: new Date(T0 + day * DAY + 1).toISOString(), windowStartLocal: 's', windowEndLocal: 'e', protocolHash: 'h',
        });
        store.study.saveScheduleInstances(DEV, [1, 2, 3, 4].map(inst), T0);
        store.study.updateScheduleInstance('P01', 'd1', { status: 'completed', statusReason: null }, T0);
        store.study.updateScheduleInstance('P01', 'd2', { status: 'missed', statusReason: 'x' }, T0);
        expect(store.stats.instancesByStatus('P01', 3)).toEqual({ completed: 1, missed: 1, scheduled: 1 });
        expect(store.stats.lastSeq('dev-1')).toBeGreaterThan(5);
      });
    });

    describe('transaction', () => {
      it('commits writes to several ports together, and a throw undoes all of them and their sequence numbers', () => {
        const store = fresh();
        const log = seeded(store);
        const seq = store.stats.lastSeq('dev-1');
        expect(() => store.transaction(() => {
          log.recordEvent('a', null, T0 + 10);
          store.consent.record(DEV, [{ participantId: 'P01', consentVersion: 1, modality: 'transcripts', granted: true, method: 'voice', prompt: 'p', protocolHash: 'h' }], T0 + 10);
          store.safeguards(log).recordIncident(incident('inc-x'), T0 + 10);
          throw new Error('power cut');
        })).toThrow(/power cut/);
        expect(log.events({ kind: 'a' })).toEqual([]);
        expect(store.consent.list('P01')).toEqual([]);
        expect(store.safeguards(log).incident('inc-x')).toBeUndefined();
        expect(store.stats.lastSeq('dev-1')).toBe(seq);
        const out = store.transaction(() => {
          log.recordEvent('b', null, T0 + 20);
          store.consent.record(DEV, [{ participantId: 'P01', consentVersion: 1, modality: 'transcripts', granted: false, method: 'voice', prompt: 'p', protocolHash: 'h' }], T0 + 20);
          return 'done';
        });
        expect(out).toBe('done');
        expect(log.events({ kind: 'b' })).toHaveLength(1);
        expect(store.consent.list('P01')).toHaveLength(1);
        expect(store.stats.lastSeq('dev-1')).toBe(seq! + 2);
      });
    });
  });
}
