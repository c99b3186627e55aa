import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledStories, type Listener } from '../behaviors/index.js';
import { localTimeToMs } from '../data/index.js';
import { SimSpeaker } from '../hardware/index.js';
import { provisionDevice } from '../study-protocol/index.js';
import { ManualClock, runUntil } from './clock.js';
import { createCompanion, type Companion } from './companion.js';
import { StudyScheduler } from './scheduler.js';
import { openStudyDevice, type StudyDevice } from './study-device.js';

// What the fault soak found (test/soak): a session's close and its schedule instance must survive a
// crash together, and a session resumed after a crash still completes the instance it was started for.
const PROTOCOL = join(import.meta.dirname, '..', 'test', 'soak', 'soak-study.yaml');
const TZ = 'UTC';

/** A participant who answers every question after 1.5 s. */
function answering(clock: ManualClock): Listener {
  return {
    listen(_request, events) {
      const h = clock.setTimeout(() => events.spoke({ text: 'It reminded me of my grandmother, she sang while she cooked.', startedAt: clock.now() - 1000, endedAt: clock.now() }), 1500);
      return () => clock.clearTimeout(h);
    },
  };
}

/** The runtime of one process on `device`: a companion and the scheduler, on its own clock. */
function boot(device: StudyDevice, clock: ManualClock, onClosed?: () => void): { companion: Companion; scheduler: StudyScheduler } {
  let scheduler: StudyScheduler | null = null;
  const companion = createCompanion({
    store: device.store, log: device.log, clock, participant: device.participant, speaker: new SimSpeaker(clock), listener: answering(clock),
    stories: bundledStories(), hardware: 'sim', hearthVersion: 'test', planFor: device.planFor, consent: device.consent, alerts: { send: async () => undefined },
    onSessionClosed: (c) => {
      onClosed?.();
      scheduler?.sessionClosed(c.instanceId, c.sessionId, c.outcome);
    },
  });
  scheduler = new StudyScheduler({ clock, store: device.store, log: device.log, config: device.config, protocol: device.protocol, companion });
  scheduler.start();
  return { companion, scheduler };
}

function provisioned(): StudyDevice {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-close-'));
  const t = localTimeToMs('2026-12-01', '08:00', TZ);
  provisionDevice({
    protocolFile: PROTOCOL, participantId: 'P01', tz: TZ, startDate: '2026-12-01', deviceDir: join(dir, 'dev'), now: t,
    registryFile: join(dir, 'registry.sqlite'), consentGranted: ['audio_recording', 'transcripts'],
  });
  return openStudyDevice(join(dir, 'dev'), new ManualClock(t));
}

describe('closing a session and its schedule instance', () => {
  it('a session resumed after a crash completes the instance it was invited for: one session that day, not a second invitation', async () => {
    const device = provisioned();
    const first = new ManualClock(localTimeToMs('2026-12-01', '08:00', TZ));
    const a = boot(device, first);
    // Run into the session, a few turns in, then the process "dies": its clock never moves again.
    await runUntil(first, () => a.companion.state() === 'session' && device.log.turns(`P01-d01-1`).length >= 4);
    a.scheduler.stop();
    const second = new ManualClock(first.now() + 60_000);
    const b = boot(device, second);
    const end = localTimeToMs('2026-12-02', '00:30', TZ);
    await runUntil(second, () => second.now() >= end && b.companion.state() === 'idle');
    b.scheduler.stop();
    const sessions = device.log.sessions('P01').filter((s) => s.studyDay === 1);
    expect(sessions.map((s) => [s.sessionId, s.status, s.resumedCount])).toEqual([['P01-d01-1', 'completed', 1]]);
    const day1 = device.store.study.loadScheduleInstances('P01').find((i) => i.studyDay === 1)!;
    expect([day1.status, day1.sessionId, day1.invitations]).toEqual(['completed', 'P01-d01-1', 1]);
    device.store.close();
  }, 60_000);

  it('commit together: when recording the instance fails, the session is not recorded as ended either (the next start resumes or closes it)', async () => {
    const device = provisioned();
    const clock = new ManualClock(localTimeToMs('2026-12-01', '08:00', TZ));
    const a = boot(device, clock, () => {
      throw new Error('the process died between the two writes');
    });
    await runUntil(clock, () => a.companion.state() === 'degraded');
    a.scheduler.stop();
    expect(device.log.session('P01-d01-1')?.status).toBe('started');
    expect(device.store.study.loadScheduleInstances('P01').find((i) => i.studyDay === 1)?.status).toBe('delivered');
    device.store.close();
  }, 60_000);
});
