/**
 * A device database holding a simulated month, written through data/'s store API as the runtime
 * writes it (each day's session in one transaction, `crash` durability, so 50 devices take seconds):
 * participant, consent, schedule, per day a session with turns, affect samples, safeguard checks
 * naming a turn, answers, a memory and an inferred value; incidents on the days asked for. Shared by
 * the server load test and `bench:server`.
 */
import { SqliteStore, type DeviceIdentity, type Store } from '../../data/index.js';

/** 2026-12-01 14:30 UTC: day 1 of every simulated device. */
export const MONTH_T0 = Date.UTC(2026, 11, 1, 14, 30);
export const DAY_MS = 86_400_000;

/** The shape of one simulated day. */
export interface DayShape {
  /** Turns per session (alternating robot and participant). */
  turns: number;
  /** Affect samples per session, one a second from the session's start. */
  affectSamples: number;
  /** Questionnaire answers per session. */
  responses: number;
}

/** A device that has lived through `days` days; its store stays open for the caller. */
export class SimulatedDevice {
  readonly identity: DeviceIdentity;
  readonly store: Store;
  readonly incidents: string[] = [];

  constructor(readonly file: string, readonly deviceId: string, readonly pid: string) {
    this.identity = { deviceId, tz: 'America/New_York', clockSource: 'simulated' };
    this.store = SqliteStore.open(file, { durability: 'crash' });
  }

  get log() {
    return this.store.forDevice(this.identity);
  }

  get lastSeq(): number {
    return this.store.stats.lastSeq(this.deviceId) ?? 0;
  }

  /** Write the month: enrollment on day 1, then one session a day; an incident on each day in `incidentDays`. */
  liveMonth(days: number, shape: DayShape, incidentDays: readonly number[] = []): this {
    const log = this.log;
    this.store.transaction(() => {
      log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, MONTH_T0);
      log.enrollParticipant({ participantId: this.pid, startDate: '2026-12-01', condition: 'matched', protocolId: 'es', protocolVersion: '1', protocolHash: 'h1' }, MONTH_T0);
      this.store.consent.record(this.identity, [{ participantId: this.pid, consentVersion: 1, modality: 'transcripts', granted: true, method: 'staff', prompt: 'May I keep your words?', protocolHash: 'h1' }], MONTH_T0);
      this.store.study.saveScheduleInstances(this.identity, Array.from({ length: days }, (_, i) => ({
        participantId: this.pid, instanceId: `${this.pid}-i${i + 1}`, slot: 'daily', studyDay: i + 1,
        localDate: new Date(MONTH_T0 + i * DAY_MS).toISOString().slice(0, 10), templateId: 'daily',
        windowStartUtc: new Date(MONTH_T0 + i * DAY_MS).toISOString(), windowEndUtc: new Date(MONTH_T0 + i * DAY_MS + 3_600_000).toISOString(),
        windowStartLocal: '09:30', windowEndLocal: '10:30', protocolHash: 'h1',
      })), MONTH_T0);
    });
    for (let day = 1; day <= days; day++) this.store.transaction(() => this.day(day, shape, incidentDays.includes(day)));
    return this;
  }

  private day(day: number, shape: DayShape, incident: boolean): void {
    const log = this.log;
    const at = MONTH_T0 + (day - 1) * DAY_MS;
    const sid = `${this.pid}-d${day}`;
    log.startSession({ sessionId: sid, participantId: this.pid, studyDay: day, protocolHash: 'h1', condition: 'matched' }, at);
    let lastParticipantTurn = 0;
    for (let t = 0; t < shape.turns; t++) {
      const robot = t % 2 === 0;
      const start = at + 10_000 * t;
      const text = robot ? `Question ${t} of day ${day}: how was your afternoon?` : `day ${day}, turn ${t}: I walked to the shop and called my sister`;
      const turnId = log.recordTurn({ sessionId: sid, speaker: robot ? 'robot' : 'participant', text, step: 'checkin', startMs: start, endMs: start + 4_000 });
      log.recordSafeguardEvents([{
        atMs: start + 4_001, sessionId: sid, turnId, direction: robot ? 'output' : 'input', checkName: 'crisis', checkVersion: '1',
        score: (day * 7 + t) % 10 / 100, threshold: 0.5, decision: 'pass', evidence: null,
      }]);
      if (!robot) lastParticipantTurn = turnId;
    }
    log.recordAffectSamples(Array.from({ length: shape.affectSamples }, (_, i) => ({
      atMs: at + 1_000 * i, sessionId: sid, valence: Math.sin(day + i / 30), arousal: 0.4, label: i % 3 === 0 ? 'calm' : 'content',
      confidence: 0.9, sources: { face: 0.9, voice: 0.6 },
    })));
    for (let r = 0; r < shape.responses; r++) {
      log.recordResponse({ sessionId: sid, instrument: 'mood', item: `item${r + 1}`, value: (day + r) % 7 + 1, rawText: 'about five', status: 'answered', scoringVersion: 'm1' }, at + 600_000 + r);
    }
    const words = `day ${day}: I called my sister`;
    this.store.memories(this.identity).add({
      participantId: this.pid, sessionId: sid, saidAtMs: at + 5_000, tz: this.identity.tz, studyDay: day, summary: words,
      people: ['sister'], places: ['shop'], feelings: [], topics: ['family'], method: 'extractive',
    });
    this.store.safeguards(log).saveValues(this.pid, [{ value: 'family', confidence: Math.min(0.99, 0.5 + day / 100), evidence: { text: words } }],
      { sessionId: sid, turnId: lastParticipantTurn || null, version: 'v1' }, at + 5_500);
    if (incident && lastParticipantTurn) {
      const incidentId = `inc-${this.deviceId}-d${day}`;
      this.store.safeguards(log).recordIncident({
        incidentId, kind: 'crisis', severity: 'serious', participantId: this.pid, sessionId: sid, turnId: lastParticipantTurn,
        description: 'crisis language', robotAction: 'gave 988', harm: 'unknown', causality: 'not yet assessed', reportDueBy: null,
        checks: [{ check: 'crisis', version: '1', score: 0.9, threshold: 0.5, decision: 'block', evidence: 'I do not want to be here', evidenceSpan: { cue: 'crisis.not-here', text: 'I do not want to be here' } }],
      }, at + 620_000);
      this.incidents.push(incidentId);
    }
    log.finishSession(sid, 'completed', null, at + 700_000);
    this.store.study.updateScheduleInstance(this.pid, `${this.pid}-i${day}`, { status: 'completed', statusReason: null, sessionId: sid }, at + 700_000);
  }

  /** Withdraw the participant as `hearth withdraw` does: incidents kept without words, every other row purged, a tombstone. */
  withdraw(atMs: number): void {
    const scope = this.store.withdrawal.participantScope(this.pid, [this.deviceId]);
    this.store.withdrawal.retainIncidentsWithoutWords(scope, atMs);
    this.store.withdrawal.purgeParticipant(scope, { studyId: 'es', protocolHash: 'h1', identity: this.identity, atMs, filesPurged: 0 });
  }
}
