import { join } from 'node:path';
import type { SurveyInstrument } from '../behaviors/index.js';
import { SqliteStore, type DeviceLog, type ParticipantRecord } from '../data/index.js';
import {
  consentStateFor, loadDevice, sessionPlanFor, StudyError, type DeviceConfig, type Instrument, type LoadedProtocol,
} from '../study-protocol/index.js';
import type { Clock } from './clock.js';
import type { ConsentCheck, SessionPlanInput } from './companion.js';

/** A provisioned device folder opened for the runtime. */
export interface StudyDevice {
  dir: string;
  config: DeviceConfig;
  protocol: LoadedProtocol;
  store: SqliteStore;
  log: DeviceLog;
  participant: ParticipantRecord;
  /** Consent as recorded now (re-read on every question, so a new decision applies at once). */
  consent: ConsentCheck;
  planFor(studyDay: number): SessionPlanInput | null;
}

/** A protocol instrument as the session machine administers it. */
export function toSurveyInstrument(i: Instrument): SurveyInstrument {
  return { id: i.id, intro: i.intro, scoringVersion: i.scoringVersion, items: i.items.map((it) => ({ code: it.code, prompt: it.prompt, scale: it.scale })) };
}

/**
 * Open a device folder made by `hearth provision`: the configuration, the frozen protocol (hash
 * checked), the database, the participant, consent and the session plan of each study day.
 */
export function openStudyDevice(dir: string, clock: Clock): StudyDevice {
  const { config, protocol } = loadDevice(dir);
  if (config.status === 'withdrawn') throw new StudyError(`${dir}: participant ${config.participantId} has withdrawn; this device runs no sessions`);
  const store = SqliteStore.open(join(dir, 'hearth.sqlite'), { create: false });
  const log = store.forDevice({ deviceId: config.deviceId, tz: config.tz, clockSource: clock.source });
  const participant = log.participant(config.participantId);
  if (!participant) {
    store.close();
    throw new StudyError(`${join(dir, 'hearth.sqlite')}: participant ${config.participantId} is not enrolled; provision the device again`);
  }
  return {
    dir, config, protocol, store, log, participant,
    consent: { allows: (m) => consentStateFor(store.db, protocol.protocol, config.participantId).allows(m) },
    planFor: (day) => {
      const plan = sessionPlanFor(protocol.protocol, config, day);
      if (!plan) return null;
      return {
        steps: plan.steps,
        instruments: Object.fromEntries(plan.instruments.map((i) => [i.id, toSurveyInstrument(i)])),
        storySelection: plan.storySelection,
        slot: plan.slot,
      };
    },
  };
}
