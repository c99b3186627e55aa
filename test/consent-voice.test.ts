import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledStories } from '../behaviors/index.js';
import { localTimeToMs } from '../data/index.js';
import { ScriptedParticipant, SimSpeaker, type ScriptReply } from '../hardware/index.js';
import { provisionDevice } from '../study-protocol/index.js';
import { ManualClock, runUntil } from '../runtime/clock.js';
import { createCompanion } from '../runtime/companion.js';
import { openStudyDevice } from '../runtime/study-device.js';

// Consent asked by the robot itself, on a device provisioned without staff-recorded consent.
const PROTOCOL = join(import.meta.dirname, 'fixtures', 'protocols', 'storytelling.yaml');
const TZ = 'Europe/Berlin';

async function sessionWith(replies: ScriptReply[]) {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-consent-'));
  const clock = new ManualClock(localTimeToMs('2026-12-01', '10:00', TZ));
  provisionDevice({ protocolFile: PROTOCOL, participantId: 'P11', tz: TZ, startDate: '2026-12-01', deviceDir: join(dir, 'dev'), now: clock.now(), registryFile: join(dir, 'reg.sqlite') });
  const device = openStudyDevice(join(dir, 'dev'), clock);
  const speaker = new SimSpeaker(clock);
  const companion = createCompanion({
    store: device.store, log: device.log, clock, participant: device.participant, speaker, listener: new ScriptedParticipant({ replies }, clock),
    stories: bundledStories(), hardware: 'sim', hearthVersion: 'test', planFor: device.planFor, consent: device.consent,
    recordVoiceConsent: device.recordVoiceConsent, alerts: { send: async () => undefined },
  });
  await runUntil(clock, () => companion.state() === 'idle');
  companion.requestSession();
  await runUntil(clock, () => companion.state() === 'idle');
  return { device, speaker, companion, clock };
}

describe('consent asked by voice before the session', () => {
  it('asks each modality, records the answers, and the session obeys them at once', async () => {
    const { device, speaker } = await sessionWith([
      { say: 'yes', afterMs: 500 }, // audio_recording (required)
      { say: 'sure, that is fine', afterMs: 500 }, // transcripts
      { say: 'no thank you', afterMs: 500 }, // llm_processing
      { say: 'Good, I went to the market with my son.', afterMs: 800 },
      { say: 'It reminded me of my first job in Hamburg.', afterMs: 800 },
      { say: 'I was nervous every single morning.', afterMs: 800 },
      { say: 'three', afterMs: 500 },
    ]);
    const lines = speaker.lines.map((l) => l.text);
    expect(lines[1]).toMatch(/Before we start, I need to ask you 3 questions/);
    expect(lines).toContain('May I listen to you while we talk?');
    const rows = device.store.consent.list('P11').map((r) => ({ modality: r.modality, granted: r.granted ? 1 : 0, method: r.method }));
    expect(rows).toEqual([
      { modality: 'audio_recording', granted: 1, method: 'voice' },
      { modality: 'transcripts', granted: 1, method: 'voice' },
      { modality: 'llm_processing', granted: 0, method: 'voice' },
    ]);
    expect(device.consent.allows('transcripts')).toBe(true);
    expect(device.consent.allows('llm_processing')).toBe(false);
    const session = device.log.sessions('P11')[0]!;
    expect(session.status).toBe('completed');
    // The words after consent was given are kept; consent answers are not questionnaire data.
    expect(device.log.turns(session.sessionId).some((t) => t.text.includes('Hamburg'))).toBe(true);
    expect({ n: device.log.responses().filter((r) => r.instrument === 'consent').length }).toEqual({ n: 0 });
  });

  it('declining a required modality ends the session kindly, and no later session starts', async () => {
    const { device, speaker, companion, clock } = await sessionWith([{ say: "No, I don't want you listening.", afterMs: 500 }]);
    const session = device.log.sessions('P11')[0]!;
    expect(session.statusReason).toBe('required consent declined: audio_recording');
    expect(speaker.lines.at(-1)!.act).toBe('goodbye');
    expect(speaker.lines.some((l) => l.act === 'story' || l.act === 'checkin.ask')).toBe(false);
    companion.requestSession();
    await runUntil(clock, () => companion.state() === 'idle');
    expect(device.log.sessions('P11')).toHaveLength(1);
    const refused = device.log.events({ kind: 'session.not_started' })[0]!;
    expect((refused.detail as { reason: string }).reason).toMatch(/declined required consent \(audio_recording\)/);
  });
});

describe('restart after a required consent was declined', () => {
  it('closes the open session instead of failing to boot', async () => {
    const { device, clock } = await sessionWith([{ say: "No, I don't want you listening.", afterMs: 500 }]);
    // A crash left a session open; the participant had declined a required consent before it.
    device.log.startSession({ sessionId: 'P11-open', participantId: 'P11', studyDay: 1, protocolHash: null, condition: null }, clock.now());
    device.log.saveProgress('P11-open', 'checkin', { stepIndex: 1 }, clock.now());
    const companion = createCompanion({
      store: device.store, log: device.log, clock, participant: device.participant, speaker: new SimSpeaker(clock),
      listener: new ScriptedParticipant({ replies: [] }, clock), stories: bundledStories(), hardware: 'sim', hearthVersion: 'test',
      planFor: device.planFor, consent: device.consent, alerts: { send: async () => undefined },
    });
    await runUntil(clock, () => companion.state() === 'idle');
    expect(device.log.session('P11-open')?.status).toBe('interrupted');
    const why = device.log.lastEvent('session.not_resumed') as { reason: string };
    expect(why.reason).toMatch(/declined required consent/);
  });
});
