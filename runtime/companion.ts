import { createActor, fromCallback, fromPromise, type Actor } from 'xstate';
import {
  OfflineResponder, sessionMachine, type ComposeRequest, type Listener, type ResumePoint, type ScreenResult, type SessionInput,
  type SessionOutcome, type SessionProgress, type SessionStep, type Speaker, type Story, type Utterance,
} from '../behaviors/index.js';
import { studyDay, type DeviceLog, type ParticipantRecord } from '../data/index.js';
import type { Clock } from './clock.js';
import { companionMachine, type BootResult, type SessionRequest } from './companion.machine.js';

/** Writes the robot's next line (the offline responder, or a language model behind safeguards). */
export type Compose = (request: ComposeRequest) => Promise<string>;
/** Screens a participant turn (safeguards); may speak a crisis reply itself. */
export type Screen = (utterance: Utterance, ctx: { sessionId: string; step: SessionStep }) => Promise<ScreenResult>;
/** Picks the story for a new session. */
export type ChooseStory = (ctx: { participant: ParticipantRecord; studyDay: number; heard: readonly string[]; sessionId: string }) => Story;

/** Everything the companion runtime is wired with. */
export interface CompanionOptions {
  log: DeviceLog;
  clock: Clock;
  participant: ParticipantRecord;
  speaker: Speaker;
  listener: Listener;
  stories: readonly Story[];
  /** Hardware name recorded with the device ("sim", "ros2"…). */
  hardware: string;
  hearthVersion: string;
  compose?: Compose;
  screen?: Screen;
  chooseStory?: ChooseStory;
  /** Check that speaker and microphone work again after a fault. */
  checkDevices?: () => Promise<void>;
  /** A session interrupted less than this long ago (same study day) is resumed; older ones are closed. */
  resumeWindowMs?: number;
  /** Listen-and-respond exchanges after the reflection question. */
  exchanges?: number;
  replyTimeoutMs?: number;
  deviceRetryMs?: number;
}

/** A running companion. */
export interface Companion {
  readonly actor: Actor<typeof companionMachine>;
  /** Ask for a session now. */
  requestSession(request?: SessionRequest): void;
  /** Stop: an open session is closed as interrupted first. */
  shutdown(reason?: string): void;
  /** The companion's top-level state name. */
  state(): string;
}

const DEFAULT_RESUME_WINDOW_MS = 30 * 60_000;

/** FNV-1a hash for deterministic choices. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Default story choice: a deterministic draw among stories this participant has not heard. */
function drawFrom(stories: readonly Story[], participantId: string, day: number, heard: readonly string[]): Story {
  const seen = new Set(heard);
  const fresh = stories.filter((s) => !seen.has(s.id));
  const pool = fresh.length ? fresh : stories; // a month longer than the library repeats, never silently fails
  return pool[hashString(`${participantId}|${day}`) % pool.length]!;
}

/** Build and start the companion runtime on the given adapters. */
export function createCompanion(o: CompanionOptions): Companion {
  const { log, clock, participant } = o;
  const offline = new OfflineResponder();
  const tz = participant.tz;
  const dayOf = (ms: number) => studyDay(ms, participant.startDate, tz);
  const firstSessionOf = (id: string) => !log.sessions(participant.participantId).some((s) => s.sessionId !== id && s.status === 'completed');
  const storyById = new Map(o.stories.map((s) => [s.id, s]));

  const compose: Compose =
    o.compose ??
    (async (req) => offline.compose({
      ...req,
      localHour: localHour(clock.now(), tz),
      recentLines: log.recentRobotLines(participant.participantId, 40),
    }));
  const screen: Screen = o.screen ?? (async () => ({ route: 'continue' }));
  const chooseStory = o.chooseStory ?? (({ participant: p, studyDay: d, heard }) => drawFrom(o.stories, p.participantId, d, heard));

  const boot = async (): Promise<BootResult> => {
    const now = clock.now();
    log.registerDevice({ hardware: o.hardware, hearthVersion: o.hearthVersion }, now);
    let resume: SessionInput | null = null;
    for (const s of log.openSessions().reverse()) {
      const story = s.storyId ? storyById.get(s.storyId) : undefined;
      const idle = now - (s.lastActivityMs ?? 0);
      const resumable =
        resume === null && s.participantId === participant.participantId && s.studyDay === dayOf(now) &&
        idle <= (o.resumeWindowMs ?? DEFAULT_RESUME_WINDOW_MS) && story !== undefined && s.step !== null && s.step !== 'goodbye' &&
        s.resumedCount < 3;
      if (resumable) {
        log.markResumed(s.sessionId, now);
        const progress = s.progress as SessionProgress;
        resume = {
          sessionId: s.sessionId,
          participantId: s.participantId,
          studyDay: s.studyDay,
          story: story!,
          firstSession: firstSessionOf(s.sessionId),
          exchanges: o.exchanges,
          resume: { step: s.step as SessionStep, progress } satisfies ResumePoint,
        };
      } else {
        const why = s.step === 'goodbye' ? 'stopped while saying goodbye'
          : `runtime restarted ${Math.round(idle / 60_000)} min after the last activity; not resumable`;
        log.finishSession(s.sessionId, 'interrupted', why, now);
      }
    }
    return { resume };
  };

  const prepareSession = async ({ input }: { input: SessionRequest }): Promise<SessionInput> => {
    const now = clock.now();
    const day = dayOf(now);
    const n = log.sessions(participant.participantId).filter((s) => s.studyDay === day).length + 1;
    const sessionId = `${participant.participantId}-d${String(day).padStart(2, '0')}-${n}`;
    const story = chooseStory({ participant, studyDay: day, heard: log.storiesHeard(participant.participantId), sessionId });
    log.startSession({ sessionId, participantId: participant.participantId, studyDay: day, protocolHash: participant.protocolHash, condition: participant.condition }, now);
    log.setSessionStory(sessionId, story.id, now);
    if (input.instanceId) log.recordEvent('session.instance', { instanceId: input.instanceId }, now, sessionId);
    return { sessionId, participantId: participant.participantId, studyDay: day, story, firstSession: firstSessionOf(sessionId), exchanges: o.exchanges };
  };

  const closeSession = async ({ input }: { input: { session: SessionInput; outcome: SessionOutcome } }) => {
    log.finishSession(input.session.sessionId, input.outcome.status, input.outcome.reason, clock.now());
  };

  const session = sessionMachine.provide({
    actors: {
      compose: fromPromise(({ input }) => compose(input)),
      speak: fromPromise(({ input, signal }) => o.speaker.speak(input, signal)),
      listen: fromCallback(({ sendBack, input }) =>
        o.listener.listen(input, {
          spoke: (utterance) => sendBack({ type: 'participant.spoke', utterance }),
          left: () => sendBack({ type: 'participant.left' }),
          failed: (reason) => sendBack({ type: 'listener.failed', reason }),
        }),
      ),
      screen: fromPromise(({ input }) => screen(input.utterance, { sessionId: input.sessionId, step: input.step })),
    },
    actions: {
      saveProgress: ({ context }, p) => log.saveProgress(context.sessionId, p.step, p.progress, clock.now()),
      recordRobotTurn: ({ context }, p) =>
        void log.recordTurn({ sessionId: context.sessionId, speaker: 'robot', text: p.line.text, step: p.step, startMs: p.spoken.startedAt, endMs: p.spoken.endedAt }),
      recordParticipantTurn: ({ context }, p) =>
        void log.recordTurn({ sessionId: context.sessionId, speaker: 'participant', text: p.utterance.text, step: p.step, startMs: p.utterance.startedAt, endMs: p.utterance.endedAt }),
      recordRating: ({ context }, p) =>
        log.recordResponse({ sessionId: context.sessionId, instrument: 'story_relate', item: `relate:${context.story.id}`, value: p.value, rawText: p.raw, status: p.status, scoringVersion: 'relate-1to5.v1' }, clock.now()),
      recordSessionEvent: ({ context }, p) => log.recordEvent(p.kind, p.detail ?? null, clock.now(), context.sessionId),
    },
    delays: { replyTimeout: o.replyTimeoutMs ?? 20_000 },
  });

  const machine = companionMachine.provide({
    actors: {
      boot: fromPromise(boot),
      prepareSession: fromPromise(prepareSession),
      session,
      closeSession: fromPromise(closeSession),
      checkDevices: fromPromise(o.checkDevices ?? (async () => undefined)),
    },
    actions: {
      recordRuntimeEvent: ({ context }, p) => log.recordEvent(p.kind, p.detail ?? null, clock.now(), context.session?.sessionId ?? null),
    },
    delays: { deviceRetry: o.deviceRetryMs ?? 30_000 },
  });

  const actor = createActor(machine, { clock });
  let last = '';
  actor.subscribe({
    next: (snap) => {
      const value = String(snap.value);
      if (value !== last) {
        log.recordEvent('runtime.state', { from: last || null, to: value }, clock.now(), snap.context.session?.sessionId ?? null);
        last = value;
      }
    },
    error: (err) => log.recordEvent('runtime.error', { error: String(err) }, clock.now()),
  });
  actor.start();
  return {
    actor,
    requestSession: (request) => actor.send({ type: 'session.requested', request }),
    shutdown: (reason) => actor.send({ type: 'shutdown.requested', reason }),
    state: () => String(actor.getSnapshot().value),
  };
}

function localHour(ms: number, tz: string): number {
  return Number(new Intl.DateTimeFormat('en-GB', { hour: 'numeric', hourCycle: 'h23', timeZone: tz }).format(ms));
}
