/** Public surface of `study-protocol/`: protocol files, enrollment, schedule, instruments, consent, withdrawal (see README). */
export { allocationSequence, assignSlot, block, newAllocationSeed, stratumKey, type SlotAssignment } from './allocation.js';
export { ConsentState, needsReconsent, type ConsentDecision, type ConsentQuestion } from './consent.js';
export { consentStateFor, deviceSchedule, recordConsentAnswers, saveInstance, storedSchedule, type ScheduledParticipant } from './device.js';
export { notRegularFile, readRegularFile, writeFileAtomic } from './files.js';
export { formatProblem, ProtocolError, StudyError, type ProtocolProblem } from './errors.js';
export {
  instrumentOf, instrumentsOf, normaliseAnswer, parseScaleAnswer, parseYesNo, repromptFor, responseFor, scoredValue, scoreInstrument,
  type Instrument, type Item, type ItemResponse, type ResponseScale, type ScaleAnswer, type Score, type UnclearReason, type YesNoAnswer,
} from './instruments.js';
export { bundledProtocolPath, packageRoot, protocolSchemaPath } from './paths.js';
export { sessionPlanFor, type SessionPlan } from './plan.js';
export {
  BEHAVIOURS, CONSENT_MODALITIES, checkProtocol, loadProtocol, parseProtocol, protocolHash,
  type Behaviour, type ConsentModality, type ConsentVersionSpec, type DaysSpec, type InstrumentSpec, type ItemSpec,
  type LoadedProtocol, type Protocol, type ScaleSpec, type ScoreSpec, type SessionSpec, type StepSpec, type TemplateSpec,
  type TimeSpan,
} from './protocol.js';
export {
  checkParticipantId, checkStartDate, checkTimeZone, defaultRegistryPath, DEVICE_FILES, latestStartDate, loadDevice, provisionDevice, readDeviceConfig,
  type DeviceConfig, type ProvisionOptions,
} from './provision.js';
export {
  endOfQuietHours, FINAL_STATUSES, generateSchedule, inQuietHours, instanceOpenAt, markDelivered, planSchedule, runsOnDay, scheduleRows,
  schedulePolicy, templateFor, transition, type InstanceStatus, type ScheduleAction, type ScheduleInstance, type SchedulePolicy, type StatusChange,
} from './schedule.js';
export { scanDevice, withdrawParticipant, type FileHit, type ScanResult, type WithdrawalReport, type WithdrawnDevice } from './withdrawal.js';
import { bundledProtocolPath } from './paths.js';

/** Absolute path of the bundled 30-day storytelling protocol, resolved from the package root. */
export const BUNDLED_PROTOCOL: string = bundledProtocolPath();
