import { describe, expect, it } from 'vitest';
import { POSSIBLE_CRISIS_CLARIFY } from '../behaviors/index.js';
import { ENDED_AFTER_CRISIS } from '../behaviors/session/session.machine.js';
import type { ScriptReply } from '../hardware/index.js';
import { toSurveyInstrument, YES_NO } from '../runtime/study-device.js';
import { BUNDLED_PROTOCOL, loadProtocol, sessionPlanFor } from '../study-protocol/index.js';
import { simRig, type SimRig } from './support/sim-rig.js';

// Issue 9, item 1: a disclosure said at any step of a session — not only in the check-in — reaches
// the input safeguards and is met with crisis care and an incident for study staff. Whole sessions
// through the real companion, session machine, safeguard layer and a real SQLite file.
const CRISIS = "I don't want to live anymore.";
const say = (text: string, extra: Partial<Extract<ScriptReply, { say: string }>> = {}): ScriptReply => ({ say: text, afterMs: 800, ...extra });
const quiet: ScriptReply = { silence: true };
const checkin = say("I'm doing alright today, thanks.");
const reflection = say('It reminded me of my sister and the summer we spent in Lisbon together.');
const empathy = say('We laughed the whole time. I really miss those days.');

// The bundled study's first day: the baseline questionnaire right after the greeting.
const protocol = loadProtocol(BUNDLED_PROTOCOL).protocol;
const firstDay = sessionPlanFor(protocol, { condition: protocol.conditions[0]!.id }, 1)!;
const firstDayPlan = () => ({
  steps: firstDay.steps,
  instruments: Object.fromEntries(firstDay.instruments.map((i) => [i.id, toSurveyInstrument(i)])),
  storySelection: 'random' as const,
});
// A new consent version asked by voice, as `openStudyDevice` plans it.
const consentPlan = () => ({
  steps: ['greeting', 'survey:consent', 'checkin', 'story', 'reflection', 'empathy', 'rating', 'goodbye'],
  instruments: {
    consent: {
      id: 'consent', intro: 'Before we start, I need to ask you one question about what you agree to. You can say yes or no.', scoringVersion: 'consent-v2',
      items: [{ code: 'transcripts', prompt: 'May the robot keep a written transcript of what we say to each other?', scale: YES_NO }],
    },
  },
  storySelection: 'random' as const,
});

async function run(rig: SimRig) {
  await rig.runUntilState('idle');
  rig.companion.requestSession();
  await rig.runUntilState('idle');
  const session = rig.log.sessions('P01').at(-1)!;
  return { session, turns: rig.log.turns(session.sessionId) };
}

/** The session met the disclosure with crisis care: the reply, an incident, nothing of the story flow after it. */
async function expectCrisisCare(rig: SimRig, step: string) {
  const { session, turns } = await run(rig);
  const said = turns.findIndex((t) => t.speaker === 'participant' && t.text === CRISIS);
  expect(said, 'the disclosure was heard').toBeGreaterThanOrEqual(0);
  expect(turns[said]!.step).toBe(step);
  const reply = turns[said + 1]!;
  expect(reply.speaker).toBe('robot');
  expect(reply.text).toMatch(/call or text 988/);
  expect(reply.text).toMatch(/I'm an AI/);
  expect(reply.step).toBe('crisis');
  // Nothing of the story flow after it: no "I didn't catch that", no story, no questionnaire, no cheerful goodbye.
  for (const t of turns.slice(said + 1).filter((x) => x.speaker === 'robot')) {
    expect(t.step, t.text).toBe('crisis');
    expect(t.text).not.toMatch(/didn't catch|number from|story is called|relate to this story/i);
  }
  expect(rig.alerts.map((a) => a.kind)).toEqual(['crisis']);
  const incidents = rig.rows("SELECT kind, session_id FROM safeguard_incidents WHERE kind = 'crisis'");
  expect(incidents).toEqual([{ kind: 'crisis', session_id: session.sessionId }]);
  // The answer is not stored as questionnaire data.
  expect(rig.row('SELECT COUNT(*) AS n FROM responses WHERE raw_text = ?', CRISIS)).toEqual({ n: 0 });
  expect(session).toMatchObject({ status: 'completed', statusReason: ENDED_AFTER_CRISIS });
  return { session, turns, said };
}

describe('a crisis disclosure at any step leads to crisis care and an incident', () => {
  it('in the check-in, right after the greeting', async () => {
    await expectCrisisCare(simRig({ replies: [say(CRISIS), quiet] }), 'checkin');
  });

  it('as the answer to a consent question', async () => {
    const rig = simRig({ replies: [say(CRISIS), quiet] }, { planFor: consentPlan, recordVoiceConsent: () => undefined });
    await expectCrisisCare(rig, 'survey');
    expect(rig.row("SELECT COUNT(*) AS n FROM events WHERE kind = 'consent.answered'")).toEqual({ n: 0 });
  });

  it('as the answer to a first-day questionnaire item (the bug from a live session)', async () => {
    const rig = simRig({ replies: [say(CRISIS), quiet] }, { planFor: firstDayPlan });
    const { turns, said } = await expectCrisisCare(rig, 'survey');
    expect(turns[said - 1]!.text).toMatch(/I am an empathetic person/);
  });

  it('as the answer to the story rating', async () => {
    await expectCrisisCare(simRig({ replies: [checkin, reflection, empathy, say(CRISIS), quiet] }), 'survey');
  });

  it('in reply to a repair prompt ("could you say it again?")', async () => {
    const rig = simRig({ replies: [say('fine grind mine', { confidence: 0.2 }), say(CRISIS), quiet] });
    const { turns, said } = await expectCrisisCare(rig, 'checkin');
    expect(turns[said - 1]!.text).toMatch(/say it again|once more|repeat/i);
  });

  it('said so unclearly that the robot would ask again: the disclosure is not repaired away', async () => {
    const rig = simRig({ replies: [say(CRISIS, { confidence: 0.2 }), quiet] });
    await expectCrisisCare(rig, 'checkin');
  });

  it('speaking over the story', async () => {
    const rig = simRig({ replies: [checkin, say(CRISIS, { afterMs: 20_000, bargeIn: true }), quiet] });
    await expectCrisisCare(rig, 'interruption');
  });

  it('in the reflection on the story', async () => {
    await expectCrisisCare(simRig({ replies: [checkin, say(CRISIS), quiet] }), 'reflection');
  });

  it('in empathic listening', async () => {
    await expectCrisisCare(simRig({ replies: [checkin, reflection, say(CRISIS), quiet] }), 'empathy');
  });

  it('together with a goodbye: the robot does not just say goodbye and leave', async () => {
    const bye = "I have to go. I don't want to live anymore.";
    const rig = simRig({ replies: [checkin, say(bye), quiet] });
    const { turns, session } = await run(rig);
    const i = turns.findIndex((t) => t.text === bye);
    expect(turns[i + 1]!.text).toMatch(/call or text 988/);
    expect(turns.slice(i + 1).every((t) => t.step === 'crisis')).toBe(true);
    expect(rig.alerts.map((a) => a.kind)).toEqual(['crisis']);
    expect(session.statusReason).toBe(ENDED_AFTER_CRISIS);
  });
});

describe('leaving crisis care', () => {
  it('a participant in crisis care who says goodbye is let go warmly, the resource said again; the session ended after a crisis', async () => {
    const rig = simRig({ replies: [say(CRISIS), say('Okay. Bye.')] });
    const { session, turns } = await run(rig);
    const robot = turns.filter((t) => t.speaker === 'robot');
    const last = robot.at(-1)!;
    expect(last.step).toBe('crisis');
    expect(last.text).toMatch(/call or text 988/);
    expect(last.text).toMatch(/call 911/);
    expect(last.text).toMatch(/someone you trust/);
    expect(last.text).toMatch(/study team/);
    expect(last.text).not.toMatch(/\?/); // nothing asked of someone who is leaving
    expect(session).toMatchObject({ status: 'completed', statusReason: ENDED_AFTER_CRISIS });
    // The goodbye itself was screened.
    const screened = rig.row("SELECT COUNT(*) AS n FROM safeguard_events WHERE direction = 'input' AND check_name = 'crisis'") as { n: number };
    expect(screened.n).toBe(2);
    const ended = rig.row("SELECT detail_json FROM events WHERE kind = 'crisis.ended'") as { detail_json: string };
    expect(JSON.parse(ended.detail_json)).toEqual({ how: 'goodbye' });
    expect(rig.alerts).toHaveLength(1);
  });

  it('a participant who goes away during crisis care: ended after a crisis, not "participant left"', async () => {
    const rig = simRig({ replies: [say(CRISIS)] });
    const { session } = await run(rig);
    expect(session).toMatchObject({ status: 'completed', statusReason: ENDED_AFTER_CRISIS });
    const ended = rig.row("SELECT detail_json FROM events WHERE kind = 'crisis.ended'") as { detail_json: string };
    expect(JSON.parse(ended.detail_json)).toEqual({ how: 'left' });
  });

  it('another disclosure said with a goodbye is met with the crisis reply again, not a farewell', async () => {
    const rig = simRig({ replies: [say(CRISIS), say("Bye. I'm going to kill myself tonight."), quiet] });
    const { turns } = await run(rig);
    const i = turns.findIndex((t) => t.text.startsWith('Bye. I'));
    expect(turns[i + 1]!.text).toMatch(/Thank you for telling me\. What you're going through/);
    expect(turns.at(-1)!.text).toMatch(/crisis line|someone you trust/);
  });
});

describe('a disclosure the recogniser got wrong', () => {
  // What pocketsphinx made of espeak-ng saying "I do not want to live anymore" (bench:asr).
  const MISHEARD = "i don't want to leave any more";

  it('sounds like a crisis phrase: the robot asks gently, and a yes is met with crisis care', async () => {
    const rig = simRig({ replies: [say(MISHEARD, { confidence: 0.7 }), say('yes', { confidence: 0.9 }), quiet] });
    const { turns } = await run(rig);
    const i = turns.findIndex((t) => t.text === MISHEARD);
    expect(turns[i + 1]!.text).toBe(POSSIBLE_CRISIS_CLARIFY);
    const yes = turns.findIndex((t, k) => k > i && t.text === 'yes');
    expect(turns[yes + 1]!.step).toBe('crisis');
    expect(turns[yes + 1]!.text).toMatch(/call or text 988/);
    expect(rig.alerts).toHaveLength(1);
    const asked = rig.row("SELECT detail_json FROM events WHERE kind = 'safeguards.possible-crisis'") as { detail_json: string };
    expect(JSON.parse(asked.detail_json)).toMatchObject({ source: 'sounds like', phrase: 'want to live anymore' });
    // Misheard words are not kept as a memory.
    expect((rig.row('SELECT COUNT(*) AS n FROM memories') as { n: number }).n).toBe(0);
  });

  it('after a no, the session goes on and is not asked again; the same words typed (no recogniser) are not asked about', async () => {
    const spoken = simRig({ replies: [say(MISHEARD, { confidence: 0.7 }), say("no, I said I don't want to leave the house", { confidence: 0.9 }), say(MISHEARD, { confidence: 0.7 }), quiet, quiet] });
    const a = await run(spoken);
    expect(a.turns.filter((t) => t.text === MISHEARD)).toHaveLength(2);
    expect(a.turns.filter((t) => t.text === POSSIBLE_CRISIS_CLARIFY)).toHaveLength(1);
    expect(a.turns.some((t) => t.step === 'crisis')).toBe(false);
    expect(spoken.alerts).toEqual([]);
    const typed = simRig({ replies: [say(MISHEARD), quiet, quiet] });
    const b = await run(typed);
    expect(b.turns.some((t) => t.text === POSSIBLE_CRISIS_CLARIFY)).toBe(false);
  });
});

describe('screening every turn keeps the ordinary flow', () => {
  it('a question to the robot during a questionnaire is answered, then the item is asked again word for word', async () => {
    const rig = simRig({ replies: [say('Wait, are you a real person?'), say('4'), say('2'), say('1'), say('3'), quiet] }, { planFor: firstDayPlan });
    const { turns } = await run(rig);
    const i = turns.findIndex((t) => t.text === 'Wait, are you a real person?');
    expect(turns[i + 1]!.text).toMatch(/not a person.*AI/);
    expect(turns[i + 2]!.text).toBe(turns[i - 1]!.text);
    expect(rig.rows("SELECT item, value FROM responses WHERE instrument = 'baseline' ORDER BY seq")).toEqual([
      { item: 'self_empathetic', value: 4 }, { item: 'lonely_companionship', value: 2 }, { item: 'lonely_left_out', value: 1 }, { item: 'lonely_isolated', value: 3 },
    ]);
    expect(rig.alerts).toEqual([]);
  });

  it('an unsure utterance changes nothing before it is said again: no memory is kept of it', async () => {
    const rig = simRig({ replies: [say('my daughter Rosa visits on Sundays', { confidence: 0.2 }), quiet, quiet] });
    await run(rig);
    expect((rig.row('SELECT COUNT(*) AS n FROM memories') as { n: number }).n).toBe(0);
    // It was still checked, and the check logged.
    expect((rig.row("SELECT COUNT(*) AS n FROM safeguard_events WHERE direction = 'input' AND check_name = 'crisis'") as { n: number }).n).toBe(1);
  });
});
