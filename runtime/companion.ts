import { createActor, fromCallback, fromPromise, type Actor, type EventObject } from 'xstate';
import { expressionFor, sayLineMachine, sessionMachine, type ComposeRequest, type SafeguardLayer } from '../behaviors/index.js';
import { isDiskFull } from '../data/index.js';
import { companionMachine, type SessionRequest } from './companion.machine.js';
import { createSessionLifecycle } from './companion/boot.js';
import { createCore } from './companion/core.js';
import { createDialogue } from './companion/dialogue.js';
import type { CompanionOptions } from './companion/options.js';
import { createPersistence } from './companion/persistence.js';
import { createScreening } from './companion/screening.js';
import type { SessionServices } from './companion/session-services.js';
import { createStoryChoice } from './companion/stories.js';

export type { CompanionOptions, ConsentCheck, SafeguardGate, SessionPlanInput } from './companion/options.js';
export { WITHHELD_TEXT } from './companion/persistence.js';

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

/**
 * A record of what the runtime itself is doing (not the participant's data): on a full disk it is
 * dropped rather than stopping the companion, which the store's `onDiskFull` listener shuts down calmly.
 */
function telemetry(write: () => void): void {
  try {
    write();
  } catch (error) {
    if (!isDiskFull(error)) throw error;
  }
}

/**
 * Build and start the companion runtime on the given adapters. Each concern is its own module under
 * `companion/`: what the robot says (`dialogue`), the safeguards on both sides (`screening`), what is
 * stored (`persistence`), story choice (`stories`), and starting, resuming and closing sessions
 * (`boot`); the open session's services are made when it starts and dropped when it closes.
 */
export function createCompanion(o: CompanionOptions): Companion {
  // One session is open at a time: its services live from its start (or resumption) to its close.
  let open: SessionServices | null = null;
  const core = createCore(o, (sessionId) => (open?.sessionId === sessionId ? open : null));
  const { log, clock } = core;
  const dialogue = createDialogue(core);
  const screening = createScreening(core);
  const store = createPersistence(core);
  const chooseStory = createStoryChoice(core);
  const lifecycle = createSessionLifecycle(core, {
    open: (services) => void (open = services),
    close: (sessionId) => {
      const closed = open?.sessionId === sessionId ? open : null;
      if (closed) open = null;
      return closed;
    },
  });

  const sayLine = sayLineMachine.provide({
    actors: {
      compose: fromPromise(({ input }) => dialogue.compose(input)),
      replyStream: fromCallback<EventObject, ComposeRequest>(({ input, sendBack }) => dialogue.replyStream(input, sendBack)),
      check: fromPromise(({ input }) => screening.check(input)),
      speak: fromPromise(async ({ input, signal }) => {
        const affect = o.affect?.();
        o.onExpression?.(expressionFor(input.act, affect && { valence: affect.valence ?? null, arousal: affect.arousal ?? null, confidence: affect.confidence }), input);
        return o.speaker.speak(input, signal);
      }),
    },
    actions: {
      recordRobotTurn: (_, p) => store.recordRobotTurn(p),
      recordSessionEvent: (_, p) => store.recordSessionEvent(p.sessionId, p),
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
      screen: fromPromise(({ input }) => screening.screen(input)),
      chooseStory: fromPromise(({ input }) => chooseStory(input)),
      watchBargeIn: fromCallback(({ sendBack }) => o.listener.watchBargeIn?.(() => sendBack({ type: 'participant.interrupted' })) ?? (() => undefined)),
    },
    actions: {
      saveProgress: ({ context }, p) => store.saveProgress(context.input.sessionId, p),
      recordParticipantTurn: ({ context }, p) => store.recordParticipantTurn(context.input.sessionId, p),
      recordResponse: ({ context }, p) => store.recordResponse(context.input.sessionId, p),
      recordStory: ({ context }, p) => store.recordStory(context.input.sessionId, p),
      recordSessionEvent: ({ context }, p) => store.recordSessionEvent(context.input.sessionId, p),
    },
    delays: { replyTimeout: o.replyTimeoutMs ?? 20_000, sessionLimit: o.maxSessionMs ?? 45 * 60_000 },
  });
  const machine = companionMachine.provide({
    actors: {
      boot: fromPromise(lifecycle.boot),
      prepareSession: fromPromise(lifecycle.prepareSession),
      session,
      closeSession: fromPromise(lifecycle.closeSession),
      checkDevices: fromPromise(o.checkDevices ?? (async () => undefined)),
    },
    actions: {
      recordRuntimeEvent: ({ context }, p) => telemetry(() => store.recordSessionEvent(context.session?.sessionId ?? null, p)),
    },
    delays: { deviceRetry: o.deviceRetryMs ?? 30_000 },
  });

  const actor = createActor(machine, { clock });
  let last = '';
  actor.subscribe({
    next: (snap) => {
      const value = String(snap.value);
      if (value !== last) {
        const from = last || null;
        last = value;
        telemetry(() => log.recordEvent('runtime.state', { from, to: value }, clock.now(), snap.context.session?.sessionId ?? null));
      }
    },
    error: (err) => telemetry(() => log.recordEvent('runtime.error', { error: String(err) }, clock.now())),
  });
  actor.start();
  return {
    actor,
    safeguards: core.safeguards,
    requestSession: (request) => actor.send({ type: 'session.requested', request }),
    shutdown: (reason) => actor.send({ type: 'shutdown.requested', reason }),
    state: () => String(actor.getSnapshot().value),
  };
}
