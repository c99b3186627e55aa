import { assign, fromPromise, setup } from 'xstate';
import { sessionMachine, type SessionInput, type SessionOutcome } from '../behaviors/index.js';

/** A request to start a session now (from the scheduler, the CLI, or a participant). */
export interface SessionRequest {
  /** Schedule instance this session fulfils, when there is one. */
  instanceId?: string;
}

/** What booting found: a session to resume, or nothing. */
export interface BootResult {
  resume: SessionInput | null;
}

/** Events the companion accepts. Named in the past tense, by domain. */
export type CompanionEvent =
  | { type: 'session.requested'; request?: SessionRequest }
  | { type: 'shutdown.requested'; reason?: string };

interface CompanionContext {
  session: SessionInput | null;
  outcome: SessionOutcome | null;
  /** Why the companion is degraded, when it is. */
  fault: string | null;
  stopping: boolean;
}

const unprovided = (name: string) => () => {
  throw new Error(`actor ${name} not provided`);
};

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The companion robot: booting → idle → preparing → session → closing → idle, with `degraded`
 * (a device or service failed; retried after `deviceRetry`) and `stopped` only on shutdown.
 * A device fault never stops the runtime. Every effect is an injected actor or action.
 */
export const companionMachine = setup({
  types: {
    context: {} as CompanionContext,
    events: {} as CompanionEvent,
  },
  actors: {
    boot: fromPromise<BootResult>(unprovided('boot')),
    prepareSession: fromPromise<SessionInput, SessionRequest>(unprovided('prepareSession')),
    session: sessionMachine,
    closeSession: fromPromise<void, { session: SessionInput; outcome: SessionOutcome }>(unprovided('closeSession')),
    checkDevices: fromPromise<void>(unprovided('checkDevices')),
  },
  actions: {
    /** Log a runtime event (provided by the runtime). */
    recordRuntimeEvent: (_, _params: { kind: string; detail?: unknown }) => {
      throw new Error('action recordRuntimeEvent not provided');
    },
  },
  guards: {
    deviceFault: ({ context }) => context.outcome?.deviceFault !== undefined,
    stopping: ({ context }) => context.stopping,
  },
  delays: {
    /** Wait before checking a failed device again. */
    deviceRetry: 30_000,
  },
}).createMachine({
  id: 'companion',
  context: { session: null, outcome: null, fault: null, stopping: false },
  initial: 'booting',
  on: {
    'shutdown.requested': { actions: assign({ stopping: true }) },
  },
  states: {
    booting: {
      invoke: {
        id: 'boot',
        src: 'boot',
        onDone: [
          { guard: ({ event }) => event.output.resume !== null, target: 'session', actions: assign({ session: ({ event }) => event.output.resume }) },
          { target: 'idle' },
        ],
        onError: { target: 'degraded', actions: assign({ fault: ({ event }) => `boot failed: ${errorText(event.error)}` }) },
      },
    },
    idle: {
      always: { guard: 'stopping', target: 'stopped' },
      on: {
        'session.requested': { target: 'preparing' },
        'shutdown.requested': { target: 'stopped' },
      },
    },
    preparing: {
      invoke: {
        id: 'prepareSession',
        src: 'prepareSession',
        input: ({ event }) => (event.type === 'session.requested' ? event.request ?? {} : {}),
        onDone: { target: 'session', actions: assign({ session: ({ event }) => event.output, outcome: null }) },
        onError: {
          target: 'idle',
          actions: { type: 'recordRuntimeEvent', params: ({ event }) => ({ kind: 'session.not_started', detail: { reason: errorText(event.error) } }) },
        },
      },
    },
    session: {
      invoke: {
        id: 'session',
        src: 'session',
        input: ({ context }) => context.session!,
        onDone: { target: 'closing', actions: assign({ outcome: ({ event }) => event.output }) },
        onError: {
          target: 'closing',
          actions: assign({ outcome: ({ event }) => ({ status: 'interrupted' as const, reason: `session error: ${errorText(event.error)}` }) }),
        },
      },
      on: {
        'shutdown.requested': {
          target: 'closing',
          actions: assign({ stopping: true, outcome: ({ event }) => ({ status: 'interrupted' as const, reason: event.reason ?? 'runtime shut down' }) }),
        },
      },
    },
    closing: {
      invoke: {
        id: 'closeSession',
        src: 'closeSession',
        input: ({ context }) => ({ session: context.session!, outcome: context.outcome! }),
        onDone: [
          { guard: 'stopping', target: 'stopped' },
          { guard: 'deviceFault', target: 'degraded', actions: assign({ fault: ({ context }) => context.outcome!.reason }) },
          { target: 'idle' },
        ],
        onError: { target: 'degraded', actions: assign({ fault: ({ event }) => `closing failed: ${errorText(event.error)}` }) },
      },
      exit: assign({ session: null }),
    },
    degraded: {
      entry: { type: 'recordRuntimeEvent', params: ({ context }) => ({ kind: 'runtime.degraded', detail: { fault: context.fault } }) },
      always: { guard: 'stopping', target: 'stopped' },
      after: { deviceRetry: 'recovering' },
      on: {
        'session.requested': {
          actions: { type: 'recordRuntimeEvent', params: ({ context }) => ({ kind: 'session.deferred', detail: { fault: context.fault } }) },
        },
        'shutdown.requested': { target: 'stopped' },
      },
    },
    recovering: {
      invoke: {
        id: 'checkDevices',
        src: 'checkDevices',
        onDone: {
          target: 'idle',
          actions: [
            { type: 'recordRuntimeEvent', params: ({ context }) => ({ kind: 'runtime.recovered', detail: { fault: context.fault } }) },
            assign({ fault: null }),
          ],
        },
        onError: { target: 'degraded', actions: assign({ fault: ({ event }) => `device check failed: ${errorText(event.error)}` }) },
      },
    },
    stopped: { type: 'final' },
  },
});
