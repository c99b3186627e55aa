import type { SessionOutcome } from '../behaviors/index.js';
import type { DeviceLog, Store } from '../data/index.js';
import {
  markDelivered, planSchedule, saveInstance, schedulePolicy, storedSchedule, transition, type LoadedProtocol, type ScheduledParticipant,
  type ScheduleInstance,
} from '../study-protocol/index.js';
import type { Clock } from './clock.js';

/** What the scheduler needs from the companion. */
export interface SessionStarter {
  /** The companion's state; invitations are only delivered when it is `idle`. */
  state(): string;
  requestSession(request: { instanceId: string }): void;
}

/** Options of the study scheduler. */
export interface StudySchedulerOptions {
  clock: Clock;
  store: Store;
  log: DeviceLog;
  config: ScheduledParticipant;
  protocol: LoadedProtocol;
  companion: SessionStarter;
  /** Longest wait between two checks (the device may sleep, the clock may jump). */
  maxSleepMs?: number;
}

/**
 * Runs the study's schedule on the device: records instances whose window ended as missed or
 * expired (with the reason), invites the participant inside the window and outside quiet hours
 * (re-inviting on the protocol's cadence), and marks an instance completed or expired when its
 * session closes. Invitations are sessions the robot starts; nobody answering keeps the instance
 * open for the next invitation.
 */
export class StudyScheduler {
  private readonly o: StudySchedulerOptions;
  private timer: unknown = null;
  private stopped = false;

  constructor(options: StudySchedulerOptions) {
    this.o = options;
  }

  private instances(now: number): ScheduleInstance[] {
    const { store, protocol, config, clock } = this.o;
    return storedSchedule(store.study, protocol.protocol, config, protocol.hash, now, clock.source);
  }

  /** One pass over the schedule at the clock's now; returns the milliseconds until the next pass. */
  tick(): number {
    const { clock, store, log, config, protocol, companion } = this.o;
    // Busy (booting, in a session, degraded): look again shortly, without touching the database.
    if (companion.state() !== 'idle') return 10_000;
    const now = clock.now();
    const { changes, action } = planSchedule(this.instances(now), now, schedulePolicy(protocol.protocol, config.tz));
    for (const c of changes) {
      saveInstance(store.study, config.participantId, transition(c.instance, c.to, now, c.reason), now);
      log.recordEvent(`schedule.${c.to}`, { instanceId: c.instance.id, reason: c.reason }, now);
    }
    const maxSleep = this.o.maxSleepMs ?? 10 * 60_000;
    if (action.kind === 'invite') {
      saveInstance(store.study, config.participantId, markDelivered(action.instance, now), now);
      log.recordEvent('schedule.invited', { instanceId: action.instance.id, attempt: action.attempt }, now);
      companion.requestSession({ instanceId: action.instance.id });
      return 10_000;
    }
    if (action.kind === 'wait') return Math.max(1_000, Math.min(maxSleep, action.untilMs - now));
    return maxSleep;
  }

  /** Record what became of an instance once its session closed. */
  sessionClosed(instanceId: string | null, sessionId: string, outcome: SessionOutcome): void {
    if (!instanceId) return;
    const { clock, store, log, config } = this.o;
    const now = clock.now();
    const inst = this.instances(now).find((i) => i.id === instanceId);
    if (!inst || inst.status === 'completed' || inst.status === 'expired' || inst.status === 'missed') return;
    // Nobody answered the invitation: the instance stays open for the next one.
    if (outcome.status === 'missed') return;
    const started = inst.status === 'started' ? inst : transition(inst, 'started', now);
    const done = outcome.status === 'completed' ? transition(started, 'completed', now) : transition(started, 'expired', now, outcome.reason ?? 'session interrupted');
    saveInstance(store.study, config.participantId, done, now, sessionId);
    log.recordEvent(`schedule.${done.status}`, { instanceId, sessionId }, now, sessionId);
  }

  /** Check now and then again whenever the schedule says, on the clock. */
  start(): void {
    const loop = () => {
      if (this.stopped) return;
      let next = 60_000;
      try {
        next = this.tick();
      } catch (error) {
        this.o.log.recordEvent('schedule.error', { error: (error as Error).message }, this.o.clock.now());
      }
      this.timer = this.o.clock.setTimeout(loop, next);
    };
    loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
  }
}
