import { bundledStories, type Story } from '../behaviors/index.js';
import { addDays, localTimeToMs, SqliteStore } from '../data/index.js';
import { SimSpeaker, SimulatedParticipant } from '../hardware/index.js';
import { ManualClock, runUntil } from './clock.js';
import { createCompanion, hashString } from './companion.js';

/** Options of `hearth simulate`. */
export interface SimulateOptions {
  participants: number;
  days: number;
  seed: number;
  dbFile: string;
  /** First study day (local date), YYYY-MM-DD. */
  startDate?: string;
  stories?: readonly Story[];
  hearthVersion?: string;
  /** Called after each participant's month. */
  onParticipant?: (summary: ParticipantSummary) => void;
}

/** What one simulated participant's month produced. */
export interface ParticipantSummary {
  participantId: string;
  deviceId: string;
  tz: string;
  sessions: Record<string, number>;
  turns: number;
}

/** Time zones simulated participants live in, so exports can be checked across zones and DST. */
const ZONES = ['America/New_York', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Tokyo', 'Europe/London', 'Australia/Sydney'];

/**
 * Run simulated participants through `days` daily sessions each, on a simulated clock, through the
 * same companion runtime as the live robot, into one SQLite file. Deterministic for a seed.
 */
export async function simulate(o: SimulateOptions): Promise<ParticipantSummary[]> {
  const store = SqliteStore.open(o.dbFile);
  const startDate = o.startDate ?? '2026-12-01';
  const stories = o.stories ?? bundledStories();
  const summaries: ParticipantSummary[] = [];
  try {
    for (let p = 1; p <= o.participants; p++) {
      const participantId = `SIM${String(p).padStart(3, '0')}`;
      const deviceId = `sim-device-${String(p).padStart(3, '0')}`;
      const seed = hashString(`${o.seed}|${participantId}`);
      const tz = ZONES[seed % ZONES.length]!;
      const clock = new ManualClock(localTimeToMs(startDate, '09:00', tz));
      const log = store.forDevice({ deviceId, tz, clockSource: 'simulated' });
      log.registerDevice({ hardware: 'sim', hearthVersion: o.hearthVersion ?? 'dev' }, clock.now());
      if (log.participant(participantId)) {
        throw new Error(`${o.dbFile}: already holds ${participantId}; simulate into a new database file`);
      }
      const record = log.enrollParticipant(
        { participantId, startDate, condition: null, protocolId: null, protocolVersion: null, protocolHash: null },
        clock.now(),
      );
      const participant = new SimulatedParticipant(seed, clock);
      const companion = createCompanion({
        log, clock, participant: record, speaker: new SimSpeaker(clock), listener: participant, stories,
        hardware: 'sim', hearthVersion: o.hearthVersion ?? 'dev',
      });
      await runUntil(clock, () => companion.state() === 'idle');
      for (let day = 1; day <= o.days; day++) {
        const date = addDays(startDate, day - 1);
        const minute = participant.arrivalMinute();
        const at = localTimeToMs(date, `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`, tz);
        clock.jumpTo(at);
        if (participant.skipsToday()) {
          log.recordMissedSession(
            { sessionId: `${participantId}-d${String(day).padStart(2, '0')}-1`, participantId, studyDay: day, protocolHash: null, condition: null },
            'participant did not respond to the invitation', at,
          );
          continue;
        }
        companion.requestSession();
        await runUntil(clock, () => companion.state() === 'idle');
      }
      companion.shutdown('simulation finished');
      await runUntil(clock, () => companion.state() === 'stopped');
      const sessions: Record<string, number> = {};
      for (const s of log.sessions(participantId)) sessions[s.status] = (sessions[s.status] ?? 0) + 1;
      const turns = (store.db.prepare('SELECT COUNT(*) AS n FROM turns WHERE device_id = ?').get(deviceId) as { n: number }).n;
      const summary = { participantId, deviceId, tz, sessions, turns };
      summaries.push(summary);
      o.onParticipant?.(summary);
    }
  } finally {
    store.close();
  }
  return summaries;
}
