import { DEFAULT_STEPS, LongitudinalMemory, SafeguardLayer, type MemoryContext, type Story } from '../../behaviors/index.js';
import { studyDay, type DeviceLog } from '../../data/index.js';
import { memoryPresence, type Presence } from '../../perception/index.js';
import type { ConsentModality } from '../../study-protocol/index.js';
import type { Clock } from '../clock.js';
import type { CompanionOptions, SessionPlanInput } from './options.js';
import type { SessionServices } from './session-services.js';

/** What every part of the companion shares: the options, the log, the clock, consent, the safeguard layer and memory. */
export interface CompanionCore {
  readonly o: CompanionOptions;
  readonly log: DeviceLog;
  readonly clock: Clock;
  /** The participant's id and time zone. */
  readonly pid: string;
  readonly tz: string;
  allows(modality: ConsentModality): boolean;
  readonly safeguards: SafeguardLayer;
  readonly memory: LongitudinalMemory;
  readonly storyById: ReadonlyMap<string, Story>;
  planFor(studyDay: number): SessionPlanInput | null;
  /** The study day at a time. */
  dayOf(ms: number): number;
  /** Whether no other session of the participant has completed. */
  firstSessionOf(sessionId: string): boolean;
  /** Memory's context now; `presence` (who is in view, from the camera) only with consent for video and a camera. */
  memoryContext(sessionId: string | null, day: number | null): { participantId: string; tz: string; nowMs: number; sessionId: string | null; studyDay: number | null; consent: boolean; presence?: MemoryContext['presence'] };
  /** Who the camera sees now, with consent for video and a camera; undefined otherwise (or when the reading is stale). */
  presence(): Presence | undefined;
  /** The services of the open session, if `sessionId` is the open session. */
  services(sessionId: string): SessionServices | null;
}

/** Make the shared part of a companion; `services` looks up the open session's services. */
export function createCore(o: CompanionOptions, services: (sessionId: string) => SessionServices | null): CompanionCore {
  const { log, clock, participant } = o;
  const pid = participant.participantId;
  const tz = participant.tz;
  const allows = (m: ConsentModality) => o.consent?.allows(m) ?? false;
  const records = o.store.safeguards(log);
  let encodeFailureReported = false;
  const presence = () => (o.presence && allows('video_recording') ? o.presence() : undefined);
  const safeguards: SafeguardLayer = new SafeguardLayer({
    log, alerts: o.alerts, deviceId: log.identity.deviceId, participantId: pid, region: o.region, now: () => clock.now(),
    values: records, incidents: records, newId: () => `inc-${log.identity.deviceId}-${clock.now().toString(36)}`,
    // Encoding failed on a turn (checked by the rules; the event is logged): staff hear of it once per run.
    onLearnedFailure: (error) => {
      if (encodeFailureReported) return;
      encodeFailureReported = true;
      void safeguards.reportDegraded(`encoding a turn failed: ${error.message}`, 'turn');
    },
  });
  return {
    o, log, clock, pid, tz, allows, safeguards,
    memory: new LongitudinalMemory(o.store.memories(log.identity), log),
    storyById: new Map(o.stories.map((s) => [s.id, s])),
    planFor: o.planFor ?? ((): SessionPlanInput => ({ steps: DEFAULT_STEPS, instruments: {}, storySelection: 'random' })),
    dayOf: (ms) => studyDay(ms, participant.startDate, tz),
    firstSessionOf: (id) => !log.sessions(pid).some((s) => s.sessionId !== id && s.status === 'completed'),
    memoryContext: (sessionId, day) => {
      const seen = memoryPresence(presence());
      return { participantId: pid, tz, nowMs: clock.now(), sessionId, studyDay: day, consent: allows('transcripts'), ...(seen ? { presence: seen } : {}) };
    },
    presence,
    services,
  };
}
