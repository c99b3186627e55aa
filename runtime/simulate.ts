import { bundledStories, fnv1a, type AlertChannel, type IncidentReport, type LanguageModel, type Story } from '../behaviors/index.js';
import { addDays, localDate, localTimeToMs, SqliteStore, type Store } from '../data/index.js';
import { SimSpeaker, SimulatedParticipant } from '../hardware/index.js';
import { allocationSequence, BUNDLED_PROTOCOL, loadProtocol, sessionPlanFor, stratumKey } from '../study-protocol/index.js';
import { ManualClock, runUntil, type Clock } from './clock.js';
import { createCompanion, type SessionPlanInput } from './companion.js';
import { StudyScheduler } from './scheduler.js';
import { toSurveyInstrument } from './study-device.js';

/** Options of `hearth simulate`. */
export interface SimulateOptions {
  participants: number;
  days: number;
  seed: number;
  dbFile: string;
  /** The study protocol (default: the bundled 30-day storytelling study). */
  protocolFile?: string;
  /** First study day (local date), YYYY-MM-DD. */
  startDate?: string;
  stories?: readonly Story[];
  hearthVersion?: string;
  /**
   * A language model, used exactly as the live runtime uses it (simulated participants consent to it).
   * Its calls are real I/O: the simulated clock waits for them in real time. Shared by every participant.
   */
  llm?: LanguageModel;
  /**
   * A language model per participant, made on that participant's simulated clock (give an `LlmClient`
   * `now: () => clock.now()`, so its breaker cools down in simulated time, as on a device). Wins over `llm`.
   */
  llmFor?: (clock: Clock) => LanguageModel;
  /** Number of the first participant (default 1): `P007` on `sim-device-007` for 7, so separate runs make distinct devices. */
  firstParticipant?: number;
  /** Called after each participant's month. */
  onParticipant?: (summary: ParticipantSummary) => void;
}

/** What one simulated participant's month produced. */
export interface ParticipantSummary {
  participantId: string;
  deviceId: string;
  tz: string;
  condition: string;
  sessions: Record<string, number>;
  /** Schedule instances by status (completed, expired, missed). */
  instances: Record<string, number>;
  turns: number;
  responses: number;
}

/** Time zones simulated participants live in, so exports can be checked across zones and DST. */
const ZONES = ['America/New_York', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Tokyo', 'Europe/London', 'Australia/Sydney'];

/** Alerts of simulated participants go to the device log only. */
function logAlerts(record: (report: IncidentReport) => void): AlertChannel {
  return { send: async (report) => record(report) };
}

/**
 * A language model whose calls the simulated clock knows are pending: while one is, simulated time
 * passes only as fast as real time (see `runUntil`), so the session waits for the reply, its timeouts
 * and its fallback exactly as long as a live session would, and never runs on for days meanwhile.
 */
export function trackedModel(llm: LanguageModel, clock: ManualClock): LanguageModel {
  return {
    get chatModel() { return llm.chatModel; },
    get embeddingModel() { return llm.embeddingModel; },
    reply: (req) => clock.track(llm.reply(req)),
    embedder: (onRecord) => {
      const embed = llm.embedder(onRecord);
      return (texts, signal) => clock.track(embed(texts, signal));
    },
  };
}

/**
 * Run simulated participants through `days` daily sessions each, on a simulated clock, through the
 * same companion runtime as the live robot, into one SQLite file. Conditions come from the
 * protocol's seeded allocation; the session of each day from its templates. Deterministic for a seed.
 */
export async function simulate(o: SimulateOptions): Promise<ParticipantSummary[]> {
  const loaded = loadProtocol(o.protocolFile ?? BUNDLED_PROTOCOL);
  const { protocol } = loaded;
  // A simulation is re-runnable from its seed, so it need not fsync every commit against power loss.
  const store: Store = SqliteStore.open(o.dbFile, { durability: 'crash' });
  const startDate = o.startDate ?? '2026-12-01';
  const stories = o.stories ?? bundledStories();
  const allocationSeed = `simulation-${o.seed}`;
  const stratum = stratumKey(protocol, Object.fromEntries((protocol.allocation?.stratify_by ?? []).map((f) => [f, protocol.allocation!.strata![f]![0]!])));
  const first = o.firstParticipant ?? 1;
  const allocation = allocationSequence(protocol, allocationSeed, stratum, first - 1 + o.participants);
  const summaries: ParticipantSummary[] = [];
  try {
    for (let p = first; p < first + o.participants; p++) {
      const participantId = `P${String(p).padStart(3, '0')}`;
      const deviceId = `sim-device-${String(p).padStart(3, '0')}`;
      const seed = fnv1a(`${o.seed}|${participantId}`);
      const tz = ZONES[seed % ZONES.length]!;
      const condition = allocation[p - 1]!.condition;
      const clock = new ManualClock(localTimeToMs(startDate, '09:00', tz));
      const log = store.forDevice({ deviceId, tz, clockSource: 'simulated' });
      log.registerDevice({ hardware: 'sim', hearthVersion: o.hearthVersion ?? 'dev' }, clock.now());
      if (log.participant(participantId)) throw new Error(`${o.dbFile}: already holds ${participantId}; simulate into a new database file`);
      const record = log.enrollParticipant(
        { participantId, startDate, condition, protocolId: protocol.study.id, protocolVersion: protocol.study.version, protocolHash: loaded.hash },
        clock.now(),
      );
      log.recordEvent('study.allocated', { condition, stratum, slot: p - 1, seed: allocationSeed }, clock.now());
      const planFor = (day: number): SessionPlanInput | null => {
        const plan = sessionPlanFor(protocol, { condition }, day);
        return plan && { steps: plan.steps, instruments: Object.fromEntries(plan.instruments.map((i) => [i.id, toSurveyInstrument(i)])), storySelection: plan.storySelection, slot: plan.slot };
      };
      const model = o.llmFor?.(clock) ?? o.llm;
      const participant = new SimulatedParticipant(seed, clock, (ms) => localDate(ms, tz));
      let scheduler: StudyScheduler | null = null;
      const companion = createCompanion({
        store, log, clock, participant: record, speaker: new SimSpeaker(clock), listener: participant, stories,
        hardware: 'sim', hearthVersion: o.hearthVersion ?? 'dev', planFor, storySeed: `${allocationSeed}|${participantId}`,
        // Simulated participants consent to everything, language-model processing included.
        consent: { allows: () => true }, llm: model && trackedModel(model, clock), region: 'US',
        alerts: logAlerts((report) => log.recordEvent('safeguard.alert', { incidentId: report.incidentId, kind: report.kind }, clock.now())),
        onSessionClosed: (c) => scheduler?.sessionClosed(c.instanceId, c.sessionId, c.outcome),
      });
      // The study's own schedule drives the month: invitations inside each window, outside quiet hours.
      // A simulated clock never jumps behind the scheduler's back, so it may sleep until the next window.
      scheduler = new StudyScheduler({ clock, store, log, config: { participantId, deviceId, tz, startDate }, protocol: loaded, companion, maxSleepMs: 24 * 3_600_000 });
      scheduler.start();
      const end = localTimeToMs(addDays(startDate, o.days), '00:00', tz);
      // Done once the companion is idle and nothing is due before the end of the last day: stepping on
      // to the next timer would start day days+1's session.
      await runUntil(clock, () => companion.state() === 'idle' && (clock.now() >= end || (clock.nextAt ?? end) >= end));
      scheduler.stop();
      companion.shutdown('simulation finished');
      await runUntil(clock, () => companion.state() === 'stopped');
      const sessions: Record<string, number> = {};
      for (const s of log.sessions(participantId)) sessions[s.status] = (sessions[s.status] ?? 0) + 1;
      const instances = store.stats.instancesByStatus(participantId, o.days);
      const counts = store.stats.counts(deviceId);
      const summary = { participantId, deviceId, tz, condition, sessions, instances, turns: counts.turns, responses: counts.responses };
      summaries.push(summary);
      o.onParticipant?.(summary);
    }
  } finally {
    store.close();
  }
  return summaries;
}
