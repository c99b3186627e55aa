import type { AlertChannel, ExpressionCue, LanguageModel, LearnedLayer, Listener, Pronounce, SessionOutcome, Speaker, Story, SurveyInstrument } from '../../behaviors/index.js';
import type { DeviceLog, ParticipantRecord, Store } from '../../data/index.js';
import type { Presence } from '../../perception/index.js';
import type { ConsentModality } from '../../study-protocol/index.js';
import type { Clock } from '../clock.js';

/** The consent questions the runtime enforces on the device. */
export interface ConsentCheck {
  allows(modality: ConsentModality): boolean;
}

/** What a study day's session should contain (from the protocol's template). */
export interface SessionPlanInput {
  steps: readonly string[];
  instruments: Readonly<Record<string, SurveyInstrument>>;
  /** How stories are chosen: matched to what was shared, or a seeded random draw. */
  storySelection: 'matched' | 'random';
  /** Schedule instance or slot this session belongs to, for the log. */
  slot?: string;
}

/** What the safeguard gate says before a session: the learned layer to check with, or why it is missing. */
export interface SafeguardGate {
  learned: LearnedLayer | null;
  failure: string | null;
  policy: 'block' | 'rules_only';
}

/** Everything the companion runtime is wired with. */
export interface CompanionOptions {
  store: Store;
  log: DeviceLog;
  clock: Clock;
  participant: ParticipantRecord;
  speaker: Speaker;
  listener: Listener;
  stories: readonly Story[];
  /** Hardware name recorded with the device ("sim", "ros2"…). */
  hardware: string;
  hearthVersion: string;
  /** Where safeguard incidents are sent to study staff. */
  alerts: AlertChannel;
  /** Region of the study, for crisis resources ("US", "GB"…). */
  region?: string;
  /** Per-modality consent; without it nothing optional is allowed (no model calls, no transcripts kept). */
  consent?: ConsentCheck;
  /** The session plan for a study day; default: the storytelling session of issue 2. */
  planFor?: (studyDay: number) => SessionPlanInput | null;
  /** Record consent given or declined by voice (answers of the `survey:consent` step). */
  recordVoiceConsent?: (answers: readonly { modality: ConsentModality; granted: boolean }[], atMs: number) => void;
  /** Seed of the participant's random story draw. */
  storySeed?: string;
  /** A language model for empathic replies (used only where consent allows): an `LlmClient` over a `ChatModel` port. */
  llm?: LanguageModel;
  /** The participant's current fused affect, when perception runs; shapes the robot's expression. */
  affect?: () => { valence?: number; arousal?: number; confidence: number } | undefined;
  /**
   * Who the camera sees now (`PerceptionService.presence()`, fed by `PersonRecognition`), read only with
   * consent for video: memories and values stay unsaid when someone else is in view, and a survey answer
   * heard while no enrolled face is in view is not stored as the participant's. Without it (no camera,
   * no consent) the session behaves as it does without recognition.
   */
  presence?: () => Presence | undefined;
  /**
   * Pronunciations for the sound-alike crisis check on recognised speech (behaviors/safeguards/sounds-like.ts);
   * default the recogniser's dictionary (`sphinxPronouncer`), read at the first spoken turn.
   */
  pronounce?: Pronounce;
  /** Called with the expression and gesture for each line (the simulator prints them). */
  onExpression?: (cue: ExpressionCue, line: { text: string; act: string }) => void;
  /** Called when a session has been closed and logged (the scheduler updates its instance). */
  onSessionClosed?: (closed: { sessionId: string; instanceId: string | null; outcome: SessionOutcome }) => void;
  /** Check that speaker and microphone work again after a fault. */
  checkDevices?: () => Promise<void>;
  /** A session interrupted less than this long ago (same study day) is resumed; older ones are closed. */
  resumeWindowMs?: number;
  /** Listen-and-respond exchanges in the empathy step. */
  exchanges?: number;
  replyTimeoutMs?: number;
  /** Longest session (the protocol's `max_session_minutes`); the robot then closes at the next step. */
  maxSessionMs?: number;
  deviceRetryMs?: number;
  /**
   * Asked before each session: the learned safeguard layer to check with, or why no session may
   * start (the sentence encoder did not load and the protocol does not allow rules only).
   */
  safeguardGate?: () => Promise<SafeguardGate>;
}
