import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledStories, type Listener } from '../behaviors/index.js';
import { localDate, localTimeToMs } from '../data/index.js';
import { SimSpeaker } from '../hardware/index.js';
import { inQuietHours, provisionDevice } from '../study-protocol/index.js';
import { ManualClock, runUntil } from './clock.js';
import { createCompanion } from './companion.js';
import { StudyScheduler } from './scheduler.js';
import { openStudyDevice } from './study-device.js';

// A provisioned device runs three study days on a simulated clock: the scheduler invites inside the
// evening window, never in quiet hours, re-invites, and records what became of every instance.
const PROTOCOL = join(import.meta.dirname, '..', 'study-protocol', 'examples', 'empathic-stories-30d.yaml');
const TZ = 'America/New_York';

describe('study scheduler on a provisioned device (simulated clock)', () => {
  it('invites proactively inside the window, records unanswered days as expired, completes answered ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-sched-'));
    const clock = new ManualClock(localTimeToMs('2026-12-01', '08:00', TZ));
    provisionDevice({
      protocolFile: PROTOCOL, participantId: 'P05', tz: TZ, startDate: '2026-12-01', deviceDir: join(dir, 'dev'), now: clock.now(),
      registryFile: join(dir, 'registry.sqlite'), strata: { household: 'lives_alone' }, consentGranted: ['audio_recording', 'transcripts'],
    });
    const device = openStudyDevice(join(dir, 'dev'), clock);
    const away = (ms: number) => localDate(ms, TZ) === '2026-12-02'; // nobody home on study day 2
    const replies: Record<string, string[]> = {
      checkin: ["I'm fine, thanks."], reflection: ['It reminded me of my mother and her bakery.'], empathy: ['She worked so hard every day.'],
      survey: ['five', 'four', 'three', 'two', 'four', 'five', 'three', 'four', 'two', 'three'],
    };
    let k = 0;
    const listener: Listener = {
      listen(request, events) {
        if (away(clock.now())) return () => undefined;
        const options = replies[request.step] ?? ['four'];
        const h = clock.setTimeout(() => events.spoke({ text: options[k++ % options.length]!, startedAt: clock.now() - 1000, endedAt: clock.now() }), 1500);
        return () => clock.clearTimeout(h);
      },
    };
    let scheduler: StudyScheduler | null = null;
    const companion = createCompanion({
      store: device.store, log: device.log, clock, participant: device.participant, speaker: new SimSpeaker(clock), listener,
      stories: bundledStories(), hardware: 'sim', hearthVersion: 'test', planFor: device.planFor, consent: device.consent,
      alerts: { send: async () => undefined }, onSessionClosed: (c) => scheduler?.sessionClosed(c.instanceId, c.sessionId, c.outcome),
    });
    scheduler = new StudyScheduler({ clock, store: device.store, log: device.log, config: device.config, protocol: device.protocol, companion });
    scheduler.start();
    const end = localTimeToMs('2026-12-03', '23:00', TZ);
    await runUntil(clock, () => clock.now() >= end && companion.state() === 'idle');
    scheduler.stop();

    const instances = device.store.study.loadScheduleInstances(device.config.participantId).filter((i) => i.studyDay <= 3).sort((a, b) => a.studyDay - b.studyDay)
      .map((i) => ({ instance_id: i.instanceId, study_day: i.studyDay, status: i.status, status_reason: i.statusReason, invitations: i.invitations }));
    expect(instances.map((i) => [i.study_day, i.status])).toEqual([[1, 'completed'], [2, 'expired'], [3, 'completed']]);
    expect(instances[1]!.invitations).toBe(3);
    expect(instances[1]!.status_reason).toMatch(/invited 3 times/);

    const invited = device.log.events({ kind: 'schedule.invited' }).map((e) => ({ ts_local: e.tsLocal, ts_utc: e.tsUtc }));
    expect(invited.length).toBe(5);
    for (const e of invited) {
      const hour = Number(e.ts_local.slice(11, 13));
      expect(hour).toBeGreaterThanOrEqual(17);
      expect(hour).toBeLessThan(21);
      expect(inQuietHours(Date.parse(e.ts_utc), device.protocol.protocol.schedule.quiet_hours ?? null, TZ)).toBe(false);
    }
    const sessions = device.log.sessions(device.config.participantId).map((s) => ({ study_day: s.studyDay, status: s.status, status_reason: s.statusReason }));
    expect(sessions.filter((s) => s.study_day === 2)).toEqual(Array(3).fill({ study_day: 2, status: 'missed', status_reason: 'nobody answered' }));
    expect(sessions.filter((s) => s.status === 'completed').map((s) => s.study_day)).toEqual([1, 3]);
    // Day 1 ran the first-day template: the baseline questionnaire was asked and answered item by item.
    expect(device.log.responses().filter((r) => r.instrument === 'baseline' && r.studyDay === 1).length).toBeGreaterThan(0);
    device.store.close();
  }, 60_000);
});
