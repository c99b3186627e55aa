import type { ResumePoint, SessionInput, SessionOutcome, SessionProgress } from '../../behaviors/index.js';
import type { BootResult, SessionRequest } from '../companion.machine.js';
import type { CompanionCore } from './core.js';
import type { SafeguardGate, SessionPlanInput } from './options.js';
import { SessionServices } from './session-services.js';

const DEFAULT_RESUME_WINDOW_MS = 30 * 60_000;

/** Where the open session's services are kept: one session at a time, from its start to its close. */
export interface SessionSlot {
  open(services: SessionServices): void;
  close(sessionId: string): SessionServices | null;
}

/** Starting, resuming and closing sessions: the resume policy on boot, the safeguard gate, the session plan. */
export function createSessionLifecycle(core: CompanionCore, slot: SessionSlot) {
  const { o, log, clock, pid, safeguards } = core;

  /** Register the device; resume a session a crash interrupted (same study day, within the window), close the others. */
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
        plan = core.planFor(s.studyDay);
      } catch (error) {
        log.recordEvent('session.not_resumed', { sessionId: s.sessionId, reason: (error as Error).message }, now, s.sessionId);
      }
      const resumable =
        resume === null && s.participantId === pid && s.studyDay === core.dayOf(now) && plan !== null && progress !== null &&
        typeof progress.stepIndex === 'number' && !progress.goodbyeSaid && idle <= (o.resumeWindowMs ?? DEFAULT_RESUME_WINDOW_MS) &&
        s.resumedCount < 3;
      if (resumable && plan) {
        log.markResumed(s.sessionId, now);
        resume = {
          sessionId: s.sessionId, participantId: pid, studyDay: s.studyDay, story: s.storyId ? core.storyById.get(s.storyId) ?? null : null,
          firstSession: core.firstSessionOf(s.sessionId), steps: plan.steps, instruments: plan.instruments, exchanges: o.exchanges, region: o.region,
          resume: { progress: progress! } satisfies ResumePoint,
        };
        const conversation = log.turns(s.sessionId).filter((t) => t.step !== 'story').map((t) => ({ speaker: t.speaker, text: t.text }));
        // The schedule instance the session was started for, so its close still completes it (not a second invitation that day).
        const planned = log.events({ kind: 'session.plan', sessionId: s.sessionId }).at(-1)?.detail as { instanceId?: string | null } | undefined;
        slot.open(new SessionServices(s.sessionId, s.studyDay, planned?.instanceId ?? null, conversation));
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
  const safeguardStatus = async (gate: SafeguardGate) => {
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

  /** Start a session now: the safeguard gate, the day's plan, the session record, and its services. */
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
    const day = core.dayOf(now);
    const plan = core.planFor(day);
    if (!plan) throw new Error(`no session is planned on study day ${day}`);
    const n = log.sessions(pid).filter((s) => s.studyDay === day).length + 1;
    const sessionId = `${pid}-d${String(day).padStart(2, '0')}-${n}`;
    log.startSession({ sessionId, participantId: pid, studyDay: day, protocolHash: o.participant.protocolHash, condition: o.participant.condition }, now);
    log.recordEvent('session.plan', { steps: plan.steps, storySelection: plan.storySelection, slot: plan.slot ?? null, instanceId: input.instanceId ?? null }, now, sessionId);
    slot.open(new SessionServices(sessionId, day, input.instanceId ?? null));
    return {
      sessionId, participantId: pid, studyDay: day, story: null, firstSession: core.firstSessionOf(sessionId), invitation: input.instanceId !== undefined,
      steps: plan.steps, instruments: plan.instruments, exchanges: o.exchanges, region: o.region,
    };
  };

  /** Record how the session ended, drop its services, and tell the scheduler. */
  const closeSession = async ({ input }: { input: { session: SessionInput; outcome: SessionOutcome } }) => {
    const { sessionId } = input.session;
    // The session's end and its schedule instance's commit together: a crash between them left the
    // session completed and the instance open, and the scheduler invited the participant again that day.
    o.store.transaction(() => {
      log.finishSession(sessionId, input.outcome.status, input.outcome.reason, clock.now());
      const closed = slot.close(sessionId);
      o.onSessionClosed?.({ sessionId, instanceId: closed?.instanceId ?? null, outcome: input.outcome });
    });
  };

  return { boot, prepareSession, closeSession };
}
