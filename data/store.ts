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
