import type { ClockSource } from './time.js';

/** Status of a session row. */
export type SessionStatus = 'scheduled' | 'started' | 'completed' | 'interrupted' | 'missed';
/** Who spoke a turn. */
export type TurnSpeaker = 'robot' | 'participant';
/** How an item was answered. */
export type ResponseStatus = 'answered' | 'skipped' | 'unanswered';

/** Which device a log belongs to, and how its timestamps are made. */
export interface DeviceIdentity {
  deviceId: string;
  /** IANA time zone of the device's participant. */
  tz: string;
  clockSource: ClockSource;
}

/** A participant as enrolled on a device (pseudonymous id only). */
export interface ParticipantRecord {
  participantId: string;
  deviceId: string;
  startDate: string;
  tz: string;
  condition: string | null;
  protocolId: string | null;
  protocolVersion: string | null;
  protocolHash: string | null;
  status: 'active' | 'withdrawn';
}

/** Fields needed to enroll a participant. */
export type NewParticipant = Omit<ParticipantRecord, 'deviceId' | 'tz' | 'status'>;

/** One session row. */
export interface SessionRecord {
  sessionId: string;
  participantId: string;
  studyDay: number;
  status: SessionStatus;
  statusReason: string | null;
  step: string | null;
  progress: unknown;
  protocolHash: string | null;
  condition: string | null;
  storyId: string | null;
  startedTsUtc: string | null;
  endedTsUtc: string | null;
  lastActivityMs: number | null;
  resumedCount: number;
}

/** A session about to start. */
export interface NewSession {
  sessionId: string;
  participantId: string;
  studyDay: number;
  protocolHash: string | null;
  condition: string | null;
}

/** One utterance. */
export interface NewTurn {
  sessionId: string;
  speaker: TurnSpeaker;
  text: string;
  step: string | null;
  startMs: number;
  endMs: number;
}

/** One answered (or skipped) item. */
export interface NewResponse {
  sessionId: string;
  instrument: string;
  item: string;
  value: number | null;
  rawText: string | null;
  status: ResponseStatus;
  scoringVersion: string;
}

/** One fused affect estimate. */
export interface NewAffectSample {
  atMs: number;
  sessionId: string | null;
  valence: number | null;
  arousal: number | null;
  label: string | null;
  confidence: number;
  sources: unknown;
}

/** One safeguard check result. */
export interface NewSafeguardEvent {
  atMs: number;
  sessionId: string | null;
  turnId: number | null;
  direction: 'input' | 'output';
  checkName: string;
  checkVersion: string;
  score: number | null;
  threshold: number | null;
  decision: string;
  evidence: string | null;
  /** Which parts fired, when the learned layer ran on this check. */
  firedParts?: '' | 'rules' | 'model' | 'rules+model' | null;
  modelScore?: number | null;
  modelThreshold?: number | null;
  modelVia?: 'whole' | 'window' | 'part' | null;
}

/** A turn as stored. */
export interface TurnRecord {
  turnId: number;
  sessionId: string;
  speaker: TurnSpeaker;
  text: string;
  step: string | null;
  startTsUtc: string;
  endTsUtc: string;
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
  startSession(s: NewSession, atMs: number): SessionRecord;
  saveProgress(sessionId: string, step: string, progress: unknown, atMs: number): void;
  setSessionStory(sessionId: string, storyId: string, atMs: number): void;
  markResumed(sessionId: string, atMs: number): void;
  finishSession(sessionId: string, status: Exclude<SessionStatus, 'started' | 'scheduled'>, reason: string | null, atMs: number): void;
  session(sessionId: string): SessionRecord | undefined;
  /** Sessions of this device still marked `started`: interrupted by a crash or power cut. */
  openSessions(): SessionRecord[];
  sessions(participantId: string): SessionRecord[];
  recordTurn(t: NewTurn): number;
  turns(sessionId: string): TurnRecord[];
  recordEvent(kind: string, detail: unknown, atMs: number, sessionId?: string | null): void;
  /** The detail of this device's latest event of a kind, or null when there is none. */
  lastEvent(kind: string): unknown;
  recordResponse(r: NewResponse, atMs: number): void;
  recordAffectSamples(samples: readonly NewAffectSample[]): void;
  recordSafeguardEvents(events: readonly NewSafeguardEvent[]): void;
  /** Record a session that was due but did not take place, with the reason. */
  recordMissedSession(s: NewSession, reason: string, atMs: number): void;
  /** The robot's most recent lines to this participant, newest first (for varied wording). */
  recentRobotLines(participantId: string, limit: number): string[];
  /** Story ids this participant has already been read, oldest first. */
  storiesHeard(participantId: string): string[];
}
