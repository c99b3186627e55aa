import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledStories, type IncidentReport, type Story } from '../../behaviors/index.js';
import { SqliteStore, type DeviceLog, type ParticipantRecord } from '../../data/index.js';
import { ScriptedParticipant, SimSpeaker, type ParticipantScript } from '../../hardware/index.js';
import { ManualClock, runUntil } from '../../runtime/clock.js';
import { createCompanion, type Companion, type CompanionOptions } from '../../runtime/companion.js';
import { queryFile, queryFileRow } from './read-db.js';

/** A companion on simulated hardware, a simulated clock and a real SQLite file in a temp folder. */
export interface SimRig {
  /** Incidents sent to study staff. */
  alerts: IncidentReport[];
  dir: string;
  store: SqliteStore;
  log: DeviceLog;
  clock: ManualClock;
  speaker: SimSpeaker;
  participant: ScriptedParticipant;
  record: ParticipantRecord;
  companion: Companion;
  stories: Story[];
  /** Rows of a query on the rig's file, read as a researcher does (separate read-only connection). */
  rows(sql: string, ...params: unknown[]): Record<string, unknown>[];
  /** The first row of a query on the rig's file. */
  row(sql: string, ...params: unknown[]): Record<string, unknown> | undefined;
  /** Run the simulation until the companion is in `state` (and no session is running). */
  runUntilState(state: string): Promise<void>;
}

/** 2026-12-01 15:00 in New York. */
export const SIM_START_MS = Date.UTC(2026, 11, 1, 20, 0, 0);

/** Build a rig with a script; extra companion options override the defaults. */
export function simRig(script: ParticipantScript, extra: Partial<CompanionOptions> & { dbFile?: string; startMs?: number } = {}): SimRig {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-test-'));
  const store = SqliteStore.open(extra.dbFile ?? join(dir, 'hearth.sqlite'));
  const clock = new ManualClock(extra.startMs ?? SIM_START_MS);
  const log = store.forDevice({ deviceId: 'sim-01', tz: 'America/New_York', clockSource: 'simulated' });
  log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, clock.now());
  const record = log.enrollParticipant(
    { participantId: 'P01', startDate: '2026-12-01', condition: null, protocolId: null, protocolVersion: null, protocolHash: null },
    clock.now(),
  );
  const speaker = new SimSpeaker(clock);
  const participant = new ScriptedParticipant(script, clock);
  const stories = bundledStories();
  const alerts: IncidentReport[] = [];
  const companion = createCompanion({
    store, log, clock, participant: record, speaker, listener: participant, stories, hardware: 'sim', hearthVersion: 'test',
    alerts: { send: async (report) => void alerts.push(report) }, consent: { allows: () => true }, region: 'US', ...extra,
  });
  return {
    alerts, dir, store, log, clock, speaker, participant, record, companion, stories,
    rows: (sql, ...params) => queryFile(store.path, sql, ...params),
    row: (sql, ...params) => queryFileRow(store.path, sql, ...params),
    runUntilState: (state) => runUntil(clock, () => companion.state() === state),
  };
}
