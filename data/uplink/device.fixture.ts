/**
 * A device database written through the store API as the runtime writes it, for the uplink tests: a
 * participant, consent, a schedule, and per day a session with turns, safeguard checks naming a turn,
 * affect samples, an answer, a memory and an inferred value; plus the changes made in place later
 * (incident delivered, memory recalled or forgotten, value replaced, withdrawal).
 */
import { SqliteStore } from '../sqlite-store.js';
import type { DeviceIdentity } from '../store.js';

export const T0 = Date.UTC(2026, 11, 1, 14, 30);
export const DAY = 86_400_000;

/** One simulated device file. */
export class FixtureDevice {
  readonly identity: DeviceIdentity;
  readonly store: SqliteStore;
  day = 0;

  constructor(readonly file: string, deviceId = 'dev-a', readonly pid = 'P01', readonly samplesPerSession = 20) {
    this.identity = { deviceId, tz: 'America/New_York', clockSource: 'simulated' };
    this.store = SqliteStore.open(file);
    this.log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, T0);
    this.log.enrollParticipant({ participantId: pid, startDate: '2026-12-01', condition: 'matched', protocolId: 'es', protocolVersion: '1', protocolHash: 'h1' }, T0);
    this.store.consent.record(this.identity, [{ participantId: pid, consentVersion: 1, modality: 'transcripts', granted: true, method: 'staff', prompt: 'May I keep your words?', protocolHash: 'h1' }], T0);
    this.store.study.saveScheduleInstances(this.identity, Array.from({ length: 9 }, (_, i) => ({
      participantId: pid, instanceId: `${pid}-i${i + 1}`, slot: 'daily', studyDay: i + 1, localDate: `2026-12-0${i + 1}`, templateId: 'daily',
      windowStartUtc: new Date(T0 + i * DAY).toISOString(), windowEndUtc: new Date(T0 + i * DAY + 3_600_000).toISOString(),
      windowStartLocal: '09:30', windowEndLocal: '10:30', protocolHash: 'h1',
    })), T0);
  }

  get log() {
    return this.store.forDevice(this.identity);
  }

  get lastSeq(): number {
    return this.store.stats.lastSeq(this.identity.deviceId) ?? 0;
  }

  /** Start a day's session and write most of it; `finish` closes it (left open to change in place later). */
  session(o: { finish?: boolean; words?: string } = {}): string {
    this.day++;
    const at = T0 + (this.day - 1) * DAY;
    const sid = `${this.pid}-d${this.day}`;
    const log = this.log;
    const words = o.words ?? `day ${this.day}: I called my sister`;
    log.startSession({ sessionId: sid, participantId: this.pid, studyDay: this.day, protocolHash: 'h1', condition: 'matched' }, at);
    log.recordTurn({ sessionId: sid, speaker: 'robot', text: 'How are you today?', step: 'checkin', startMs: at + 1000, endMs: at + 2000 });
    const turn = log.recordTurn({ sessionId: sid, speaker: 'participant', text: words, step: 'checkin', startMs: at + 3000, endMs: at + 5000 });
    log.recordAffectSamples(Array.from({ length: this.samplesPerSession }, (_, i) => ({
      atMs: at + 100 * i, sessionId: sid, valence: Math.sin(this.day + i), arousal: 0.4, label: 'calm', confidence: 0.9, sources: { face: 0.9 },
    })));
    log.recordSafeguardEvents([{ atMs: at + 5001, sessionId: sid, turnId: turn, direction: 'input', checkName: 'crisis', checkVersion: '1', score: 0.1, threshold: 0.5, decision: 'pass', evidence: null }]);
    log.recordResponse({ sessionId: sid, instrument: 'mood', item: 'valence', value: 5, rawText: 'five', status: 'answered', scoringVersion: 'm1' }, at + 6000);
    this.store.memories(this.identity).add({ participantId: this.pid, sessionId: sid, saidAtMs: at + 5000, tz: this.identity.tz, studyDay: this.day, summary: words, people: ['sister'], places: [], feelings: [], topics: [], method: 'extractive' });
    this.store.safeguards(log).saveValues(this.pid, [{ value: 'family', confidence: 0.5 + this.day / 100, evidence: { text: words } }], { sessionId: sid, turnId: turn, version: 'v1' }, at + 5500);
    if (o.finish !== false) this.finish(sid, at + 7000);
    return sid;
  }

  /** Close a session and mark its schedule instance (both changes in place). */
  finish(sid: string, atMs: number): void {
    this.log.finishSession(sid, 'completed', null, atMs);
    const day = Number(/-d(\d+)$/.exec(sid)![1]);
    this.store.study.updateScheduleInstance(this.pid, `${this.pid}-i${day}`, { status: 'completed', statusReason: null, sessionId: sid }, atMs);
  }

  /** A crisis incident naming the session's last turn. */
  incident(sid: string, id: string, atMs: number): void {
    const turn = this.log.turns(sid).at(-1)!.turnId;
    this.store.safeguards(this.log).recordIncident({
      incidentId: id, kind: 'crisis', severity: 'serious', participantId: this.pid, sessionId: sid, turnId: turn,
      description: 'crisis language', robotAction: 'gave 988', harm: 'unknown', causality: 'not yet assessed', reportDueBy: null,
      checks: [{ check: 'crisis', version: '1', score: 0.9, threshold: 0.5, decision: 'block', evidence: 'I do not want to be here', evidenceSpan: { cue: 'crisis.not-here', text: 'I do not want to be here' } }],
    }, atMs);
  }

  /** Forget the oldest memory (a row deleted from a complete table). */
  forgetOldest(): void {
    const m = this.store.memories(this.identity).list(this.pid)[0];
    if (m) this.store.memories(this.identity).delete(this.pid, [m.memoryId]);
  }

  /** Withdraw the participant as `hearth withdraw` does (the same store calls). */
  withdraw(atMs: number): void {
    const scope = this.store.withdrawal.participantScope(this.pid, [this.identity.deviceId]);
    this.store.withdrawal.retainIncidentsWithoutWords(scope, atMs);
    this.store.withdrawal.purgeParticipant(scope, { studyId: 'es', protocolHash: 'h1', identity: this.identity, atMs, filesPurged: 0 });
  }
}
