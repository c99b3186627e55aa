import { createActor, fromCallback, fromPromise, type Actor, type EventObject } from 'xstate';
import {
  chooseStory as chooseStoryFor, choiceLogDetail, DEFAULT_STEPS, detectMemoryIntent, empathicReply, expressionFor, LongitudinalMemory,
  OfflineResponder, SafeguardLayer, sayLineMachine, sessionMachine, type AlertChannel, type CheckedLine, type CheckRequest, type SayLineEvent, type ComposeRequest, type ConversationLine, type ExpressionCue, type LearnedLayer,
  type LanguageModel, type Listener, type ResumePoint, type ScreenResult, type SessionInput, type SessionOutcome, type SessionProgress,
  type SessionStep, type Speaker, type Story, type SurveyInstrument, type Utterance, toSafeguardEvents, wantsToStop,
} from '../behaviors/index.js';
import { studyDay, type DeviceLog, type ParticipantRecord, type Store } from '../data/index.js';
import type { ConsentModality } from '../study-protocol/index.js';
import type { Clock } from './clock.js';
import { companionMachine, type BootResult, type SessionRequest } from './companion.machine.js';

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
  safeguardGate?: () => Promise<{ learned: LearnedLayer | null; failure: string | null; policy: 'block' | 'rules_only' }>;
}

/** A running companion. */
export interface Companion {
  readonly actor: Actor<typeof companionMachine>;
  readonly safeguards: SafeguardLayer;
  /** Ask for a session now. */
  requestSession(request?: SessionRequest): void;
  /** Stop: an open session is closed as interrupted first. */
  shutdown(reason?: string): void;
  /** The companion's top-level state name. */
  state(): string;
}

const DEFAULT_RESUME_WINDOW_MS = 30 * 60_000;
/** What is stored instead of the participant's words when transcripts are not consented. */
export const WITHHELD_TEXT = '[not kept: no consent for transcripts]';

/** Build and start the companion runtime on the given adapters. */
export function createCompanion(o: CompanionOptions): Companion {
  const { log, clock, participant } = o;
  const pid = participant.participantId;
  const tz = participant.tz;
  const allows = (m: Parameters<ConsentCheck['allows']>[0]) => o.consent?.allows(m) ?? false;
  const offline = new OfflineResponder();
  const dayOf = (ms: number) => studyDay(ms, participant.startDate, tz);
  const firstSessionOf = (id: string) => !log.sessions(pid).some((s) => s.sessionId !== id && s.status === 'completed');
  const storyById = new Map(o.stories.map((s) => [s.id, s]));
  const records = o.store.safeguards(log);
  const safeguards = new SafeguardLayer({
    log, alerts: o.alerts, deviceId: log.identity.deviceId, participantId: pid, region: o.region, now: () => clock.now(),
    values: records, incidents: records, newId: () => `inc-${log.identity.deviceId}-${clock.now().toString(36)}`,
    // Encoding failed on a turn (checked by the rules; the event is logged): staff hear of it once per run.
    onLearnedFailure: (error) => {
      if (encodeFailureReported) return;
      encodeFailureReported = true;
      void safeguards.reportDegraded(`encoding a turn failed: ${error.message}`, 'turn');
    },
  });
  let encodeFailureReported = false;
  const memory = new LongitudinalMemory(o.store.memories(log.identity), log);
  const memoryContext = (sessionId: string | null, day: number | null) => ({
    participantId: pid, tz, nowMs: clock.now(), sessionId, studyDay: day, consent: allows('transcripts'),
  });
  const planFor = o.planFor ?? ((): SessionPlanInput => ({ steps: DEFAULT_STEPS, instruments: {}, storySelection: 'random' }));
  const conversation = new Map<string, ConversationLine[]>();
  const turnIds = new Map<string, number>();
  const instanceOf = new Map<string, string>();

  /** The offline responder's line for a request. */
  const offlineLine = (req: ComposeRequest) => offline.compose({ ...req, localHour: localHour(clock.now(), tz), recentLines: log.recentRobotLines(pid, 40) });
  const placeOf = (sessionId: string) => ({ sessionId, turnId: turnIds.get(sessionId) ?? null, studyDay: log.session(sessionId)?.studyDay ?? null });

  /** The robot's next line in Hearth's own words: the responder, with something recalled after the check-in. */
  const compose = async (req: ComposeRequest): Promise<string> => {
    if (req.act === 'checkin.ack' && req.scripted === undefined) {
      // Recall something from an earlier day, only with consent, after acknowledging today's mood.
      const recall = req.firstSession ? undefined : memory.recall(memoryContext(req.sessionId, req.studyDay), req.lastUtterance ?? '');
      return recall ? `${offlineLine(req)} ${recall.line} ${recall.question}` : offlineLine(req);
    }
    return offlineLine(req);
  };

  /** The output safeguards on every line before it is spoken; the learned layer reads what a model wrote. */
  const check = async (r: CheckRequest): Promise<CheckedLine> => {
    const checked = await safeguards.beforeSpeaking(r.line, placeOf(r.sessionId), { ctx: { narration: r.narration }, vetted: !r.fromModel });
    return { text: checked.line.text, replaced: checked.replaced };
  };

  /**
   * An empathic reply, sent as `robot.sentence` events: a model's reply sentence by sentence as it
   * streams (where consented), otherwise the offline responder's; then `robot.replied`. Stopping the
   * actor (the line is over, a sentence was flagged, the participant spoke) stops the model.
   */
  const replyStream = (req: ComposeRequest, send: (e: SayLineEvent) => void): (() => void) => {
    const controller = new AbortController();
    const sendBack = (e: SayLineEvent) => {
      if (!controller.signal.aborted) send(e);
    };
    const turn = {
      story: req.story ? { title: req.story.title, mainEvent: storyById.get(req.story.id)?.mainEvent } : null,
      history: conversation.get(req.sessionId) ?? [],
      memoryNotes: allows('llm_processing') ? memory.promptNotes(memoryContext(req.sessionId, req.studyDay)) : '',
      finalExchange: req.finalExchange,
    };
    const logReply = (reply: { source: string; fallbackReason?: string; record?: unknown }) => {
      if (reply.record || reply.fallbackReason) {
        log.recordEvent('dialogue.reply', { source: reply.source, fallbackReason: reply.fallbackReason ?? null, call: reply.record ?? null }, clock.now(), req.sessionId);
      }
    };
    const options = { client: o.llm, modelConsent: allows('llm_processing'), logText: allows('transcripts'), fallback: () => offlineLine(req) };
    const run = async () => {
      if (o.llm && allows('llm_processing')) {
        // Each sentence is spoken as soon as it arrives, checked by the safeguards first (as a model's words).
        let sentences = 0;
        await empathicReply(turn, { ...options, signal: controller.signal, onSentence: (text) => (sentences++, sendBack({ type: 'robot.sentence', text, fromModel: true })) })
          .then(logReply, (error: unknown) => log.recordEvent('dialogue.failed', { error: String(error) }, clock.now(), req.sessionId));
        if (sentences === 0) sendBack({ type: 'robot.sentence', text: offlineLine(req), fromModel: false });
      } else {
        const reply = await empathicReply(turn, options);
        logReply(reply);
        sendBack({ type: 'robot.sentence', text: reply.text, fromModel: reply.source !== 'offline' });
      }
      sendBack({ type: 'robot.replied' });
    };
    run().catch((error: unknown) => sendBack({ type: 'robot.reply_failed', error: error instanceof Error ? error.message : String(error) }));
    return () => controller.abort();
  };

  /** Safeguards, memory requests and memory notes for every participant turn, in every step. */
  const screen = async (utterance: Utterance, ctx: { sessionId: string; step: SessionStep; tentative: boolean }): Promise<ScreenResult> => {
    const day = log.session(ctx.sessionId)?.studyDay ?? null;
    const place = { sessionId: ctx.sessionId, turnId: turnIds.get(ctx.sessionId) ?? null, studyDay: day };
    // Earlier turns as "robot: …" / "participant: …"; the turn being screened is already the last line.
    const lines = [...(conversation.get(ctx.sessionId) ?? [])];
    if (lines.at(-1)?.speaker === 'participant' && lines.at(-1)?.text === utterance.text) lines.pop();
    const checkCtx = safeguards.context({ previousTurns: lines.slice(-4).map((l) => `${l.speaker}: ${l.text}`) });
    let tentativeVerdict;
    if (ctx.tentative) {
      // The robot will ask again: only a crisis, harm or medical signal is acted on now. The checks
      // are logged, but nothing else happens on words the recogniser was unsure of (no deletions,
      // no memories, no values); what is said again is screened in full.
      tentativeVerdict = await safeguards.checkTurn(utterance.text, place, checkCtx);
      if (tentativeVerdict.safe) {
        log.recordSafeguardEvents(toSafeguardEvents(tentativeVerdict, 'input', { atMs: clock.now(), ...place }));
        return { route: 'continue' };
      }
    }
    const decision = await safeguards.onParticipantTurn(utterance.text, place, checkCtx, tentativeVerdict);
    if (decision.leaveStory && decision.reply) return { route: 'crisis', line: { ...decision.reply, act: 'crisis' } };
    if (decision.reply) return { route: 'reply', line: decision.reply };
    const mctx = memoryContext(ctx.sessionId, day);
    const intent = detectMemoryIntent(utterance.text);
    if (intent) {
      const handled = memory.handle(mctx, utterance.text);
      if (handled) return { route: 'reply', line: { text: handled.line, act: 'safe' } };
    }
    // A request to stop is not something to remember about the participant.
    if ((ctx.step === 'reflection' || ctx.step === 'empathy' || ctx.step === 'checkin') && !wantsToStop(utterance.text)) memory.remember(mctx, utterance.text);
    return { route: 'continue' };
  };

  const boot = async (): Promise<BootResult> => {
    const now = clock.now();
    log.registerDevice({ hardware: o.hardware, hearthVersion: o.hearthVersion }, now);
    let resume: SessionInput | null = null;
    for (const s of log.openSessions().reverse()) {
      const idle = now - (s.lastActivityMs ?? 0);
      const progress = s.progress as SessionProgress | null;
      // A plan that cannot be made (consent since declined, say) means the session is not resumed.
      let plan: SessionPlanInput | null = null;
      try {
        plan = planFor(s.studyDay);
      } catch (error) {
        log.recordEvent('session.not_resumed', { sessionId: s.sessionId, reason: (error as Error).message }, now, s.sessionId);
      }
      const resumable =
        resume === null && s.participantId === pid && s.studyDay === dayOf(now) && plan !== null && progress !== null &&
        typeof progress.stepIndex === 'number' && !progress.goodbyeSaid && idle <= (o.resumeWindowMs ?? DEFAULT_RESUME_WINDOW_MS) &&
        s.resumedCount < 3;
      if (resumable && plan) {
        log.markResumed(s.sessionId, now);
        resume = {
          sessionId: s.sessionId, participantId: pid, studyDay: s.studyDay, story: s.storyId ? storyById.get(s.storyId) ?? null : null,
          firstSession: firstSessionOf(s.sessionId), steps: plan.steps, instruments: plan.instruments, exchanges: o.exchanges, region: o.region,
          resume: { progress: progress! } satisfies ResumePoint,
        };
        conversation.set(s.sessionId, log.turns(s.sessionId).filter((t) => t.step !== 'story').map((t) => ({ speaker: t.speaker, text: t.text })));
      } else {
        const why = progress?.goodbyeSaid ? 'stopped after saying goodbye'
          : `runtime restarted ${Math.round(idle / 60_000)} min after the last activity; not resumable`;
        log.finishSession(s.sessionId, progress?.goodbyeSaid ? 'completed' : 'interrupted', why, now);
      }
    }
    return { resume };
  };

  /** Log a change of the learned layer's state; a new failure also alerts staff. */
  let lastSafeguardState: string | null = null;
  const safeguardStatus = async (gate: { learned: LearnedLayer | null; failure: string | null; policy: 'block' | 'rules_only' }) => {
    const state = gate.failure ? `degraded|${gate.failure}` : `ready|${gate.learned?.encoder.id}|${gate.learned?.model.version}`;
    if (state === lastSafeguardState) return;
    const wasDegraded = lastSafeguardState?.startsWith('degraded') ?? false;
    lastSafeguardState = state;
    const now = clock.now();
    if (gate.failure) {
      log.recordEvent('safeguards.degraded', { stage: 'load', message: gate.failure, policy: gate.policy, checking: gate.policy === 'block' ? 'no new sessions' : 'rules only' }, now);
      await safeguards.reportDegraded(gate.failure, gate.policy);
    } else {
      log.recordEvent(wasDegraded ? 'safeguards.recovered' : 'safeguards.ready', { encoder: gate.learned?.encoder.id ?? null, model: gate.learned?.model.version ?? null }, now);
    }
  };

  const prepareSession = async ({ input }: { input: SessionRequest }): Promise<SessionInput> => {
    if (o.safeguardGate) {
      const gate = await o.safeguardGate();
      safeguards.useLearned(gate.learned);
      await safeguardStatus(gate);
      if (gate.failure && gate.policy === 'block') {
        throw new Error(`the learned safeguard layer is unavailable (${gate.failure}); no session starts until it is fixed (protocol safeguards.on_model_failure: block)`);
      }
    }
    const now = clock.now();
    const day = dayOf(now);
    const plan = planFor(day);
    if (!plan) throw new Error(`no session is planned on study day ${day}`);
    const n = log.sessions(pid).filter((s) => s.studyDay === day).length + 1;
    const sessionId = `${pid}-d${String(day).padStart(2, '0')}-${n}`;
    log.startSession({ sessionId, participantId: pid, studyDay: day, protocolHash: participant.protocolHash, condition: participant.condition }, now);
    log.recordEvent('session.plan', { steps: plan.steps, storySelection: plan.storySelection, slot: plan.slot ?? null, instanceId: input.instanceId ?? null }, now, sessionId);
    conversation.set(sessionId, []);
    if (input.instanceId) instanceOf.set(sessionId, input.instanceId);
    return {
      sessionId, participantId: pid, studyDay: day, story: null, firstSession: firstSessionOf(sessionId), invitation: input.instanceId !== undefined,
      steps: plan.steps, instruments: plan.instruments, exchanges: o.exchanges, region: o.region,
    };
  };

  const pickStory = async ({ input }: { input: { sessionId: string; shared: readonly string[] } }): Promise<Story> => {
    const day = log.session(input.sessionId)?.studyDay ?? dayOf(clock.now());
    const heard = log.storiesHeard(pid);
    const condition = planFor(day)?.storySelection ?? 'random';
    // Words are matched on the device; they leave it only through an embeddings call, which needs model consent.
    const embed = o.llm && allows('llm_processing') && o.llm.embeddingModel ? o.llm.embedder((r) => log.recordEvent('llm.call', r, clock.now(), input.sessionId)) : undefined;
    const choice = (await chooseStoryFor({ condition, participantId: pid, studyDay: day, shared: input.shared.join(' '), heard, stories: o.stories, seed: o.storySeed, embed }))
      ?? (await chooseStoryFor({ condition: 'random', participantId: pid, studyDay: day, shared: '', heard: [], stories: o.stories, seed: `${o.storySeed ?? ''}|repeat` }));
    if (!choice) throw new Error('the story library is empty');
    log.recordEvent('story.chosen', choiceLogDetail(choice), clock.now(), input.sessionId);
    return choice.story;
  };

  const closeSession = async ({ input }: { input: { session: SessionInput; outcome: SessionOutcome } }) => {
    const { sessionId } = input.session;
    log.finishSession(sessionId, input.outcome.status, input.outcome.reason, clock.now());
    conversation.delete(sessionId);
    turnIds.delete(sessionId);
    o.onSessionClosed?.({ sessionId, instanceId: instanceOf.get(sessionId) ?? null, outcome: input.outcome });
    instanceOf.delete(sessionId);
  };

  const remember = (sessionId: string, line: ConversationLine) => conversation.get(sessionId)?.push(line);

  const sayLine = sayLineMachine.provide({
    actors: {
      compose: fromPromise(({ input }) => compose(input)),
      check: fromPromise(({ input }) => check(input)),
      replyStream: fromCallback<EventObject, ComposeRequest>(({ input, sendBack }) => replyStream(input, sendBack)),
      speak: fromPromise(async ({ input, signal }) => {
        const affect = o.affect?.();
        o.onExpression?.(expressionFor(input.act, affect && { valence: affect.valence ?? null, arousal: affect.arousal ?? null, confidence: affect.confidence }), input);
        return o.speaker.speak(input, signal);
      }),
    },
    actions: {
      recordRobotTurn: (_, p) => {
        log.recordTurn({ sessionId: p.sessionId, speaker: 'robot', text: p.line.text, step: p.step, startMs: p.spoken.startedAt, endMs: p.spoken.endedAt });
        if (p.step !== 'story') remember(p.sessionId, { speaker: 'robot', text: p.line.text });
      },
      recordSessionEvent: (_, p) => log.recordEvent(p.kind, p.detail ?? null, clock.now(), p.sessionId),
    },
  });

  const session = sessionMachine.provide({
    actors: {
      sayLine,
      listen: fromCallback(({ sendBack, input }) =>
        o.listener.listen(input, {
          spoke: (utterance) => sendBack({ type: 'participant.spoke', utterance }),
          left: () => sendBack({ type: 'participant.left' }),
          failed: (reason) => sendBack({ type: 'listener.failed', reason }),
        }),
      ),
      screen: fromPromise(({ input }) => screen(input.utterance, { sessionId: input.sessionId, step: input.step, tentative: input.tentative })),
      chooseStory: fromPromise(pickStory),
      watchBargeIn: fromCallback(({ sendBack }) => o.listener.watchBargeIn?.(() => sendBack({ type: 'participant.interrupted' })) ?? (() => undefined)),
    },
    actions: {
      saveProgress: ({ context }, p) => log.saveProgress(context.input.sessionId, p.step, p.progress, clock.now()),
      recordParticipantTurn: ({ context }, p) => {
        const id = context.input.sessionId;
        // The participant's words are kept only with consent for transcripts; the turn itself is always logged.
        const text = allows('transcripts') ? p.utterance.text : WITHHELD_TEXT;
        turnIds.set(id, log.recordTurn({ sessionId: id, speaker: 'participant', text, step: p.step, startMs: p.utterance.startedAt, endMs: p.utterance.endedAt }));
        remember(id, { speaker: 'participant', text: p.utterance.text });
      },
      recordResponse: ({ context }, p) => {
        if (p.instrument.records === 'consent') {
          // Consent answers are consent records, not questionnaire data; a skipped question stays pending.
          if (p.status === 'answered' && p.item.modality) o.recordVoiceConsent?.([{ modality: p.item.modality, granted: p.value === 1 }], clock.now());
          log.recordEvent('consent.answered', { modality: p.item.code, status: p.status, granted: p.status === 'answered' ? p.value === 1 : null }, clock.now(), context.input.sessionId);
          return;
        }
        log.recordResponse({
          sessionId: context.input.sessionId, instrument: p.instrument.id, item: p.item.code, value: p.value,
          rawText: allows('transcripts') ? p.raw : p.raw === null ? null : WITHHELD_TEXT, status: p.status, scoringVersion: p.instrument.scoringVersion,
        }, clock.now());
      },
      recordStory: ({ context }, p) => log.setSessionStory(context.input.sessionId, p.story.id, clock.now()),
      recordSessionEvent: ({ context }, p) => log.recordEvent(p.kind, p.detail ?? null, clock.now(), context.input.sessionId),
    },
    delays: { replyTimeout: o.replyTimeoutMs ?? 20_000, sessionLimit: o.maxSessionMs ?? 45 * 60_000 },
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
    safeguards,
    requestSession: (request) => actor.send({ type: 'session.requested', request }),
    shutdown: (reason) => actor.send({ type: 'shutdown.requested', reason }),
    state: () => String(actor.getSnapshot().value),
  };
}

function localHour(ms: number, tz: string): number {
  return Number(new Intl.DateTimeFormat('en-GB', { hour: 'numeric', hourCycle: 'h23', timeZone: tz }).format(ms));
}
