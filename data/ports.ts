import type { DiskFullError } from './errors.js';
/**
 * The record ports `data/` offers. Callers outside `data/` depend on these interfaces only; the SQLite
 * file (`SqliteStore`) and the in-memory adapter (`MemoryStore`) implement them, and both run the one
 * contract suite in `store.contract.ts`. No port exposes a driver, a handle or SQL.
 */
import type {
  DeviceIdentity, NewAffectSample, NewParticipant, NewResponse, NewSafeguardEvent, NewSession, NewTurn, ParticipantRecord,
  SessionRecord, SessionStatus, TurnRecord,
} from './store.js';
import type {
  AllocationRecord, ConsentRecordRow, InstanceRowStatus, NewConsentRecord, NewScheduleInstance, ParticipantScope, PurgeCounts, RegistryStamp,
  ScheduleInstanceRecord, TableScan,
} from './study-records.js';
import type { IncidentInput, IncidentRecord, OutboxEntry, OutboxLine, RetainedIncident, ValueInput, ValueRecord } from './safeguard-records.js';
import type { MemoryRecord, NewMemoryRecord } from './memory-records.js';

/** An `events` row as read back. */
export interface EventRecord {
  eventId: number;
  sessionId: string | null;
  kind: string;
  /** The parsed `detail_json`, or null. */
  detail: unknown;
  tsUtc: string;
  tsLocal: string;
  studyDay: number | null;
  seq: number;
}

/** A `responses` row as read back. */
export interface ResponseRecord extends NewResponse {
  tsUtc: string;
  studyDay: number | null;
  seq: number;
}

/** An `affect_samples` row as read back. */
export interface AffectSampleRecord extends Omit<NewAffectSample, 'atMs'> {
  tsUtc: string;
  seq: number;
}

/** A `safeguard_events` row as read back. */
export interface SafeguardEventRecord extends Omit<NewSafeguardEvent, 'atMs'> {
  tsUtc: string;
  studyDay: number | null;
  seq: number;
}

/**
 * The durable log of one device. Every write is committed before the call returns, stamped with
 * UTC and local time, the study day and the device's next sequence number.
 */
export interface DeviceLog {
  readonly identity: DeviceIdentity;
  registerDevice(info: { hardware: string; hearthVersion: string }, atMs: number): void;
  enrollParticipant(p: NewParticipant, atMs: number): ParticipantRecord;
  participant(participantId: string): ParticipantRecord | undefined;
  /** A new protocol version was provisioned: update the participant's row in place (no new `seq`). */
  updateParticipantProtocol(participantId: string, protocolVersion: string, protocolHash: string): void;
  startSession(s: NewSession, atMs: number): SessionRecord;
  saveProgress(sessionId: string, step: string, progress: unknown, atMs: number): void;
  setSessionStory(sessionId: string, storyId: string, atMs: number): void;
  markResumed(sessionId: string, atMs: number): void;
  finishSession(sessionId: string, status: Exclude<SessionStatus, 'started' | 'scheduled'>, reason: string | null, atMs: number): void;
  session(sessionId: string): SessionRecord | undefined;
  /** Sessions of this device still marked `started`: interrupted by a crash or power cut. */
  openSessions(): SessionRecord[];
  /** A participant's sessions by study day, then sequence. */
  sessions(participantId: string): SessionRecord[];
  recordTurn(t: NewTurn): number;
  /** A session's turns in sequence order. */
  turns(sessionId: string): TurnRecord[];
  recordEvent(kind: string, detail: unknown, atMs: number, sessionId?: string | null): void;
  /** The detail of this device's latest event of a kind, or null when there is none. */
  lastEvent(kind: string): unknown;
  /** This device's events in sequence order, optionally of one kind and/or one session. */
  events(filter?: { kind?: string; sessionId?: string }): EventRecord[];
  recordResponse(r: NewResponse, atMs: number): void;
  /** This device's responses in sequence order, optionally of one session. */
  responses(sessionId?: string): ResponseRecord[];
  recordAffectSamples(samples: readonly NewAffectSample[]): void;
  /** This device's affect samples in sequence order. */
  affectSamples(): AffectSampleRecord[];
  recordSafeguardEvents(events: readonly NewSafeguardEvent[]): void;
  /** This device's safeguard check results in sequence order. */
  safeguardEvents(): SafeguardEventRecord[];
  /** Record a session that was due but did not take place, with the reason. */
  recordMissedSession(s: NewSession, reason: string, atMs: number): void;
  /** The robot's most recent lines to this participant, newest first (for varied wording). */
  recentRobotLines(participantId: string, limit: number): string[];
  /** Story ids this participant has already been read, oldest first. */
  storiesHeard(participantId: string): string[];
}

/**
 * The study's records: the allocation registry (a staff file: rows carry no device `seq`) and the
 * schedule instances of a device.
 */
export interface StudyRecords {
  /** The allocation seed of a study, created with `makeSeed()` the first time it is asked for. */
  allocationSeed(studyId: string, makeSeed: () => string, at: RegistryStamp): string;
  /** A participant's allocation in a study, if any. */
  findAllocation(studyId: string, participantId: string): AllocationRecord | undefined;
  /** All allocations of a study, in slot order per stratum. */
  allocationsOf(studyId: string): AllocationRecord[];
  /**
   * Allocate atomically: an existing allocation is returned unchanged; otherwise `choose(slot)` picks
   * the condition for the stratum's next slot and it is recorded.
   */
  allocateOnce(
    a: { studyId: string; participantId: string; stratum: string; seed: string; protocolHash: string } & RegistryStamp,
    choose: (slot: number) => { condition: string; method: 'blocked' | 'simple'; blockIndex: number | null; blockSize: number | null },
  ): { record: AllocationRecord; created: boolean };
  /** Store instances not stored yet (existing ones keep their status and `seq`); returns how many were added. */
  saveScheduleInstances(identity: DeviceIdentity, instances: readonly NewScheduleInstance[], atMs: number): number;
  /** A participant's stored instances, by window start. */
  loadScheduleInstances(participantId: string): ScheduleInstanceRecord[];
  /** Record an instance's new status in place (stamps `updated_ts_utc`); throws when the instance is unknown. */
  updateScheduleInstance(
    participantId: string,
    instanceId: string,
    change: { status: InstanceRowStatus; statusReason: string | null; invitations?: number; lastInvitedMs?: number | null; sessionId?: string | null },
    atMs: number,
  ): void;
}

/** Consent decisions: append-only, the latest row per modality wins. */
export interface ConsentRecords {
  /** Append decisions of `identity`'s device in one transaction, each with the next `seq`. */
  record(identity: DeviceIdentity, records: readonly NewConsentRecord[], atMs: number): void;
  /** A participant's decisions, oldest first. */
  list(participantId: string): ConsentRecordRow[];
}

/** Persistence of memories: the port the memory behaviour uses. */
export interface MemoryRecords {
  add(m: NewMemoryRecord): MemoryRecord;
  /** A participant's memories, oldest first. */
  list(participantId: string): MemoryRecord[];
  markRecalled(memoryId: number, atMs: number): void;
  /** Delete these memories of the participant; returns the ids actually deleted. */
  delete(participantId: string, memoryIds: readonly number[]): number[];
  /** Delete all of the participant's memories; returns the ids deleted. */
  deleteAll(participantId: string): number[];
}

/** Safeguard incidents (each also its alert-outbox entry) and inferred values, for one device. */
export interface SafeguardRecords {
  recordIncident(r: IncidentInput, atMs: number): void;
  markAlert(incidentId: string, status: 'sent' | 'failed', atMs: number): void;
  acknowledge(incidentId: string, atMs: number): void;
  resolve(incidentId: string, outcome: { resolution: string; harm: string; causality: string }, atMs: number): void;
  incident(incidentId: string): IncidentRecord | undefined;
  /** Incidents of this device (or of one participant), oldest first. */
  incidents(participantId?: string): IncidentRecord[];
  /** Incidents whose alert has not reached staff: unsent or failed, oldest first. */
  unsentIncidents(): IncidentRecord[];
  /** Unsent incidents due at `atMs` (null: all), serious first, then oldest; reports without the participant's words. */
  dueAlerts(atMs: number | null, limit?: number, horizonMs?: number | null): OutboxEntry[];
  /** When the next unsent incident is due (ms), or null. */
  nextAlertDueMs(): number | null;
  alertAttempted(incidentId: string, attempt: number, retryAtMs: number, atMs: number): void;
  alertDelivered(incidentId: string, outcome: 'sent' | 'acknowledged', atMs: number): void;
  alertFailed(incidentId: string, failure: { error: string; permanent: boolean; retryAtMs: number | null }, atMs: number): void;
  saveValues(participantId: string, values: readonly ValueInput[], source: { sessionId: string | null; turnId: number | null; version: string }, atMs: number): void;
  /** Inferred values, strongest first. */
  values(participantId: string): ValueRecord[];
  /** Delete one value, or all (`value` null); returns how many went. */
  deleteValues(participantId: string, value: string | null, atMs: number): number;
  /** Attachment flags per study day, from the safeguard check results. */
  attachmentByDay(participantId: string): { studyDay: number; count: number }[];
}

/** A participant's withdrawal: find their rows, keep incident records without words, purge, prove it. */
export interface WithdrawalRecords {
  /** Collect a participant's session ids and sole-use devices. */
  participantScope(participantId: string, extraDeviceIds?: readonly string[]): ParticipantScope;
  /** Before the purge: reduce every incident in scope to a record without the participant's words, kept by the purge. */
  retainIncidentsWithoutWords(scope: ParticipantScope, atMs: number): RetainedIncident[];
  /** Delete every row of the participant except the kept tables, write the tombstone, and erase deleted bytes. */
  purgeParticipant(
    scope: ParticipantScope,
    tombstone: { studyId: string | null; protocolHash: string | null; identity: DeviceIdentity; atMs: number; filesPurged: number },
  ): PurgeCounts;
  /** Update the tombstone's file count (stamps `updated_ts_utc`). */
  setTombstoneFiles(participantId: string, filesPurged: number, atMs: number): void;
  /** The tombstone row of a withdrawn participant (column names as in the file), if any. */
  tombstoneOf(participantId: string): Record<string, unknown> | undefined;
  /** Look everywhere for the participant; after a withdrawal only kept tables may match. */
  scanParticipant(scope: ParticipantScope): TableScan[];
  /** Incidents a withdrawal kept, each checked to hold no words. */
  retainedIncidents(participantId: string, deviceIds?: readonly string[]): RetainedIncident[];
}

/** The latest event of some kinds (any device). */
export interface LatestEvent {
  kind: string;
  detail: unknown;
  tsUtc: string;
}

/** Whole-store figures for `hearth status` and `hearth simulate` (every device in the store). */
export interface StoreStats {
  readonly schemaVersion: number;
  /** "ok" when healthy. */
  integrityCheck(): string;
  /** Sessions per status. */
  sessionsByStatus(): Record<string, number>;
  /** Row counts, of one device or of the whole store. */
  counts(deviceId?: string): { devices: number; participants: number; sessions: number; turns: number; responses: number };
  /** `ts_utc` of the latest event, or null. */
  lastEventTsUtc(): string | null;
  /** The latest event of one of `kinds` (by time, then insertion), or null. */
  latestEvent(kinds: readonly string[]): LatestEvent | null;
  /** A participant's schedule instances per status, up to and including `throughStudyDay`. */
  instancesByStatus(participantId: string, throughStudyDay: number): Record<string, number>;
  /** The alert outbox of every device, oldest first. */
  incidentOutbox(): OutboxLine[];
  /** The last sequence number a device has given out (kept through a withdrawal), or null before its first row. */
  lastSeq(deviceId: string): number | null;
}

/** A Hearth store: every port, per device where rows belong to one. */
export interface Store {
  /** Where the store lives (a file path, or a name for an in-memory store). */
  readonly path: string;
  /** The log of one device in this store. */
  forDevice(identity: DeviceIdentity): DeviceLog;
  /** Memories written as `identity`'s device. */
  memories(identity: DeviceIdentity): MemoryRecords;
  /** Safeguard records of `log`'s device (changes are also logged to it). */
  safeguards(log: DeviceLog): SafeguardRecords;
  readonly study: StudyRecords;
  readonly consent: ConsentRecords;
  readonly withdrawal: WithdrawalRecords;
  readonly stats: StoreStats;
  /** Run `fn` in one transaction spanning every port: all its writes commit together or none do. */
  transaction<T>(fn: () => T): T;
  /** Hear once when a write first finds the disk full (a file store; the in-memory store never fills). */
  onDiskFull?(listener: (e: DiskFullError) => void): void;
  close(): void;
}
