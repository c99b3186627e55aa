import { join } from 'node:path';
import type { SurveyInstrument } from '../behaviors/index.js';
import { SqliteStore, type DeviceLog, type ParticipantRecord, type Store } from '../data/index.js';
import {
  consentStateFor, loadDevice, recordConsentAnswers, type ConsentModality, sessionPlanFor, StudyError, type DeviceConfig, type Instrument, type LoadedProtocol,
} from '../study-protocol/index.js';
import type { Clock } from './clock.js';
import type { ConsentCheck, SessionPlanInput } from './companion.js';

/** Disk kept aside beside a device's database (`hearth.sqlite-reserve`) for closing a session when the disk fills. */
export const DISK_RESERVE_BYTES = 512 * 1024;

/** A provisioned device folder opened for the runtime. */
export interface StudyDevice {
  dir: string;
  config: DeviceConfig;
  protocol: LoadedProtocol;
  store: Store;
  log: DeviceLog;
  participant: ParticipantRecord;
  /** Consent as recorded now (re-read on every question, so a new decision applies at once). */
  consent: ConsentCheck;
  planFor(studyDay: number): SessionPlanInput | null;
  /** Record consent answered by voice (the `survey:consent` step). */
  recordVoiceConsent(answers: readonly { modality: ConsentModality; granted: boolean }[], atMs: number): void;
}

/** The answer scale of a spoken consent question. */
export const YES_NO: SurveyInstrument['items'][number]['scale'] = {
  min: 0,
  max: 1,
  labels: { 0: 'no', 1: 'yes' },
  phrases: {
    0: ['no', 'nope', 'no thanks', 'no thank you', 'i do not agree', "i don't agree", 'i disagree', 'please don t', 'not okay'],
    1: ['yes', 'yeah', 'yep', 'sure', 'okay', 'ok', 'fine', 'i agree', 'go ahead', 'that s fine', 'of course', 'alright', 'all right'],
  },
};

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
  // The reserve is given back when the disk fills, so the open session can still be closed and the fault recorded.
  const store: Store = SqliteStore.open(join(dir, 'hearth.sqlite'), { create: false, reserveBytes: DISK_RESERVE_BYTES });
  const log = store.forDevice({ deviceId: config.deviceId, tz: config.tz, clockSource: clock.source });
  const participant = log.participant(config.participantId);
  if (!participant) {
    store.close();
    throw new StudyError(`${join(dir, 'hearth.sqlite')}: participant ${config.participantId} is not enrolled; provision the device again`);
  }
  return {
    dir, config, protocol, store, log, participant,
    consent: { allows: (m) => consentStateFor(store.consent, protocol.protocol, config.participantId).allows(m) },
    planFor: (day) => {
      const plan = sessionPlanFor(protocol.protocol, config, day);
      if (!plan) return null;
      const consent = consentStateFor(store.consent, protocol.protocol, config.participantId);
      const pending = consent.pending();
      const declined = consent.declinedRequired();
      if (declined.length > 0) {
        throw new StudyError(`no session: ${config.participantId} declined required consent (${declined.join(', ')}); study staff must follow up`);
      }
      const instruments: Record<string, SurveyInstrument> = Object.fromEntries(plan.instruments.map((i) => [i.id, toSurveyInstrument(i)]));
      let steps = plan.steps;
      if (pending.length > 0) {
        // A new consent version (or questions staff left to the robot) is asked before anything else.
        instruments.consent = {
          id: 'consent',
          records: 'consent',
          intro: `Before we start, I need to ask you ${pending.length === 1 ? 'one question' : `${pending.length} questions`} about what you agree to. You can say yes or no.`,
          scoringVersion: `consent-v${protocol.protocol.consent.current_version}`,
          items: pending.map((q) => ({ code: q.modality, modality: q.modality, prompt: q.prompt, scale: YES_NO, required: q.required })),
        };
        const at = steps.indexOf('greeting') + 1;
        steps = [...steps.slice(0, at), 'survey:consent', ...steps.slice(at)];
      }
      return { steps, instruments, storySelection: plan.storySelection, slot: plan.slot };
    },
    recordVoiceConsent: (answers, atMs) =>
      recordConsentAnswers(store.consent, protocol.protocol, config, protocol.hash, answers, 'voice', atMs, clock.source),
  };
}
