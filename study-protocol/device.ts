/**
 * The study state of a provisioned device, read from and written to its database: schedule
 * instances with their statuses, and consent. These are what the runtime wires in.
 */
import { join, resolve } from 'node:path';
import { SqliteStore, type ClockSource, type ConsentRecords, type Store, type StudyRecords } from '../data/index.js';
import { ConsentState, type ConsentDecision } from './consent.js';
import type { ConsentModality, Protocol } from './protocol.js';
import { DEVICE_FILES, loadDevice, type DeviceConfig } from './provision.js';
import { generateSchedule, type ScheduleInstance } from './schedule.js';

/** Who a schedule is for: the parts of a device configuration it depends on. */
export type ScheduledParticipant = Pick<DeviceConfig, 'participantId' | 'deviceId' | 'tz' | 'startDate'>;

/**
 * The participant's schedule: instances generated from the protocol, with status, reason and
 * invitations taken from the database where stored. Instances missing from the database are stored,
 * stamped at `nowMs` by `clockSource` with the device's next sequence numbers.
 */
export function storedSchedule(
  study: StudyRecords, protocol: Protocol, config: ScheduledParticipant, protocolHash: string, nowMs: number, clockSource: ClockSource = 'system',
): ScheduleInstance[] {
  const generated = generateSchedule(protocol, config.startDate, config.tz);
  study.saveScheduleInstances({ deviceId: config.deviceId, tz: config.tz, clockSource }, generated.map((i) => ({
    participantId: config.participantId, instanceId: i.id, slot: i.slot, studyDay: i.studyDay, localDate: i.localDate,
    templateId: i.templateId, windowStartUtc: i.windowStartUtc, windowEndUtc: i.windowEndUtc,
    windowStartLocal: i.windowStartLocal, windowEndLocal: i.windowEndLocal, protocolHash,
  })), nowMs);
  const stored = new Map(study.loadScheduleInstances(config.participantId).map((r) => [r.instanceId, r]));
  return generated.map((i) => {
    const r = stored.get(i.id);
    return r ? { ...i, status: r.status, statusReason: r.statusReason, invitations: r.invitations, lastInvitedMs: r.lastInvitedTsUtc ? Date.parse(r.lastInvitedTsUtc) : null } : i;
  });
}

/** Persist an instance's status, reason and invitations (after `transition`/`markDelivered`); `sessionId` links the session row. */
export function saveInstance(study: StudyRecords, participantId: string, instance: ScheduleInstance, atMs: number, sessionId?: string): void {
  study.updateScheduleInstance(participantId, instance.id, {
    status: instance.status, statusReason: instance.statusReason, invitations: instance.invitations,
    lastInvitedMs: instance.lastInvitedMs, sessionId: sessionId ?? null,
  }, atMs);
}

/** The device's configuration and schedule, for `hearth schedule`. */
export function deviceSchedule(deviceDir: string, nowMs = Date.now()): { config: DeviceConfig; instances: ScheduleInstance[] } {
  const { config, protocol } = loadDevice(deviceDir);
  const store: Store = SqliteStore.open(join(resolve(deviceDir), DEVICE_FILES.database), { create: false });
  try {
    return { config, instances: storedSchedule(store.study, protocol.protocol, config, protocol.hash, nowMs) };
  } finally {
    store.close();
  }
}

/** The participant's consent under the protocol's current version (check `allows`, `needsReconsent`). */
export function consentStateFor(consent: ConsentRecords, protocol: Protocol, participantId: string): ConsentState {
  const decisions: ConsentDecision[] = consent.list(participantId).map((r) => ({
    consentVersion: r.consentVersion, modality: r.modality as ConsentModality, granted: r.granted, atMs: r.atMs, method: r.method,
  }));
  return new ConsentState(protocol.consent, decisions);
}

/** Record answers to consent questions of the current version (by voice with the robot, or with staff); one new row per answer. */
export function recordConsentAnswers(
  consent: ConsentRecords,
  protocol: Protocol,
  config: Pick<DeviceConfig, 'participantId' | 'deviceId' | 'tz'>,
  protocolHash: string,
  answers: readonly { modality: ConsentModality; granted: boolean }[],
  method: 'voice' | 'staff',
  atMs: number,
  clockSource: ClockSource = 'system',
): void {
  const version = protocol.consent.versions.find((v) => v.version === protocol.consent.current_version)!;
  consent.record({ deviceId: config.deviceId, tz: config.tz, clockSource }, answers.map((a) => {
    const spec = version.modalities[a.modality];
    if (!spec) throw new RangeError(`consent version ${version.version} does not ask about ${a.modality}`);
    return {
      participantId: config.participantId, consentVersion: version.version, modality: a.modality, granted: a.granted,
      method, prompt: spec.prompt, protocolHash,
    };
  }), atMs);
}
