import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmClient } from '../behaviors/index.js';
import { WITHHELD_TEXT } from '../runtime/companion.js';
import { startFakeOpenAI, type FakeOpenAIServer } from './fixtures/llm/fake-openai-server.js';
import { simRig, type SimRig } from './support/sim-rig.js';
import { openAiModels } from '../hardware/openai/index.js';

// Whole sessions through the real companion and session machines, a real SQLite file, the real
// safeguard layer, and (where named) a real OpenAI-compatible HTTP server on 127.0.0.1.
const share = [
  { say: "I'm doing alright today, thanks.", afterMs: 1000 },
  { say: 'It reminded me of my sister and the summer we spent in Lisbon together.', afterMs: 2000 },
  { say: 'We laughed the whole time. I really miss those days.', afterMs: 1500 },
  { say: '4', afterMs: 800 },
];

async function runOneSession(rig: SimRig) {
  await rig.runUntilState('idle');
  rig.companion.requestSession();
  await rig.runUntilState('idle');
  const session = rig.log.sessions('P01').at(-1)!;
  return { session, turns: rig.log.turns(session.sessionId) };
}

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAI({ kind: 'reply', reply: () => 'Lisbon with your sister sounds like a warm memory. What made those days so easy together?' });
});
afterAll(() => server.close());

const client = () => new LlmClient(openAiModels({ baseURL: server.url, apiKey: 'test', model: 'test-model', embeddingModel: undefined }), { timeoutMs: 5_000, maxAttempts: 1 });

describe('consent is enforced on the device', () => {
  it('without consent for the language model no request leaves the device, and the offline responder answers', async () => {
    server.reset();
    const rig = simRig({ replies: share }, { llm: client(), consent: { allows: (m) => m === 'transcripts' || m === 'audio_recording' } });
    const { session, turns } = await runOneSession(rig);
    expect(session.status).toBe('completed');
    expect(server.requests).toHaveLength(0);
    const replies = rig.rows("SELECT detail_json FROM events WHERE kind = 'dialogue.reply'") as { detail_json: string }[];
    expect(replies.length).toBeGreaterThan(0);
    for (const r of replies) expect(JSON.parse(r.detail_json).fallbackReason).toMatch(/consent/);
    expect(turns.find((t) => t.step === 'empathy' && t.speaker === 'robot')!.text).toMatch(/sister|Lisbon/i);
  });

  it('with consent the model is asked, and its reply is checked and spoken', async () => {
    server.reset();
    const rig = simRig({ replies: share }, { llm: client(), consent: { allows: () => true } });
    const { turns } = await runOneSession(rig);
    expect(server.requests.length).toBeGreaterThan(0);
    const body = server.requests[0]!.body as { messages: { content: string }[] };
    expect(JSON.stringify(body.messages)).toContain('Lisbon');
    expect(turns.some((t) => t.speaker === 'robot' && t.text.includes('What made those days so easy together?'))).toBe(true);
    const call = rig.row("SELECT detail_json FROM events WHERE kind = 'dialogue.reply'") as { detail_json: string };
    expect(JSON.parse(call.detail_json)).toMatchObject({ source: 'model', call: { model: 'test-model', outcome: 'ok' } });
  });

  it('a streamed reply is spoken sentence by sentence, each checked; a flagged sentence is replaced and the rest dropped', async () => {
    server.reset();
    server.enqueue(
      { kind: 'stream', text: 'Lisbon with your sister sounds lovely. You should spend more time with me instead of your friends. Tell me everything.', delayMs: 5 },
      { kind: 'stream', text: 'Those days sound precious. Thank you for sharing them with me.', delayMs: 5 },
    );
    const rig = simRig({ replies: share }, { llm: client(), consent: { allows: () => true } });
    const { turns } = await runOneSession(rig);
    const empathic = turns.filter((t) => t.step === 'empathy' && t.speaker === 'robot').map((t) => t.text);
    expect(empathic[0]).toBe('Lisbon with your sister sounds lovely.');
    expect(empathic[1]).not.toMatch(/spend more time with me|instead of your friends/);
    expect(empathic).not.toContain('Tell me everything.');
    expect(empathic.slice(2)).toEqual(['Those days sound precious.', 'Thank you for sharing them with me.']);
    const flagged = rig.rows("SELECT check_name FROM safeguard_events WHERE direction = 'output' AND decision = 'flag'") as { check_name: string }[];
    expect(flagged.map((f) => f.check_name)).toEqual(expect.arrayContaining(['isolation']));
  });

  it('when the model fails mid-session the participant still hears a sensible reply and the log says why', async () => {
    server.reset();
    server.enqueue({ kind: 'status', status: 500, message: 'boom' }, { kind: 'status', status: 500, message: 'boom' });
    const rig = simRig({ replies: share }, { llm: client(), consent: { allows: () => true } });
    const { session, turns } = await runOneSession(rig);
    expect(session.status).toBe('completed');
    const empathic = turns.filter((t) => t.step === 'empathy' && t.speaker === 'robot');
    expect(empathic.length).toBeGreaterThan(0);
    for (const t of empathic) expect(t.text.length).toBeGreaterThan(10);
    const details = (rig.rows("SELECT detail_json FROM events WHERE kind = 'dialogue.reply'") as { detail_json: string }[]).map((r) => JSON.parse(r.detail_json));
    expect(details.some((d) => d.source === 'offline' && /language model failed/.test(d.fallbackReason))).toBe(true);
  });

  it('without consent for transcripts the participant\'s words are not kept, but every turn is', async () => {
    const rig = simRig({ replies: share }, { consent: { allows: (m) => m === 'audio_recording' } });
    const { turns } = await runOneSession(rig);
    const theirs = turns.filter((t) => t.speaker === 'participant');
    expect(theirs).toHaveLength(4);
    for (const t of theirs) expect(t.text).toBe(WITHHELD_TEXT);
    const raw = rig.row("SELECT raw_text, value FROM responses");
    expect(raw).toEqual({ raw_text: WITHHELD_TEXT, value: 4 });
    const dump = JSON.stringify(rig.rows('SELECT * FROM turns')) + JSON.stringify(rig.rows('SELECT * FROM events'));
    expect(dump).not.toContain('Lisbon');
    expect((rig.row('SELECT COUNT(*) AS n FROM memories') as { n: number }).n).toBe(0);
  });
});

describe('safeguards in a session', () => {
  it('a crisis disclosure leaves the story flow, gives a real resource, stays with the participant, and alerts staff', async () => {
    const rig = simRig({
      replies: [
        { say: "Honestly, not good. I don't want to be alive anymore.", afterMs: 1000 },
        { say: 'I guess my brother. He lives nearby.', afterMs: 2000 },
        { silence: true as const },
      ],
    });
    const { session, turns } = await runOneSession(rig);
    const robot = turns.filter((t) => t.speaker === 'robot').map((t) => t.text);
    const crisisLine = robot.find((t) => /988/.test(t));
    expect(crisisLine).toBeDefined();
    expect(robot.join(' ')).toMatch(/AI/);
    // Never a story, a rating or a cheerful goodbye after the disclosure.
    const after = robot.slice(robot.indexOf(crisisLine!));
    expect(after.join(' ')).not.toMatch(/story is called|relate to this story|Goodbye/i);
    // The robot listened after its crisis reply and answered again before closing.
    const afterTurns = turns.slice(turns.findIndex((t) => t.text === crisisLine));
    expect(afterTurns.some((t) => t.speaker === 'participant')).toBe(true);
    expect(session.status).toBe('completed');
    expect(session.statusReason).toMatch(/crisis/);
    // When the participant goes quiet, the robot closes gently, repeating where help is.
    expect(robot.at(-1)).toMatch(/crisis line|someone you trust/);
    expect(rig.alerts).toHaveLength(1);
    expect(rig.alerts[0]).toMatchObject({ kind: 'crisis' });
    const checks = rig.rows("SELECT check_name, decision FROM safeguard_events WHERE direction = 'input' AND decision = 'flag'");
    expect(checks).toContainEqual({ check_name: 'crisis', decision: 'flag' });
  });

  it('asked whether it is human, the robot says it is an AI and carries on', async () => {
    const rig = simRig({ replies: [{ say: 'Wait, are you a real person?', afterMs: 500 }, ...share.slice(1)] });
    const { session, turns } = await runOneSession(rig);
    const i = turns.findIndex((t) => t.text === 'Wait, are you a real person?');
    expect(turns[i + 1]!.text).toMatch(/AI|not a person|robot/i);
    expect(session.status).toBe('completed');
    expect(turns.some((t) => /story is called|Here it is|read you a story|short story/i.test(t.text))).toBe(true);
  });

  it('an utterance the recogniser is unsure of is repaired once before the robot acts on it', async () => {
    const rig = simRig({ replies: [{ say: 'fine grind mine', afterMs: 500, confidence: 0.2 }, { say: "I'm fine, thanks.", afterMs: 500, confidence: 0.9 }, ...share.slice(1)] });
    const { session, turns } = await runOneSession(rig);
    const i = turns.findIndex((t) => t.text === 'fine grind mine');
    expect(turns[i + 1]!.speaker).toBe('robot');
    expect(turns[i + 1]!.text).toMatch(/say it again|once more|repeat/i);
    expect(turns[i + 2]!.text).toBe("I'm fine, thanks.");
    expect(session.status).toBe('completed');
  });

  it('speaking over the story pauses it: the robot stops, listens, carries on from the same paragraph', async () => {
    const rig = simRig({
      replies: [
        share[0]!,
        { say: 'Oh, that happened to my cousin too!', afterMs: 20_000, bargeIn: true },
        ...share.slice(1),
      ],
    });
    const { session, turns } = await runOneSession(rig);
    expect(session.status).toBe('completed');
    const i = turns.findIndex((t) => t.text === 'Oh, that happened to my cousin too!');
    expect(i).toBeGreaterThan(0);
    expect(turns[i]!.step).toBe('interruption');
    expect(turns[i + 1]!.text).toMatch(/carry on where I was/);
    // Every paragraph of the story is still read in full, in order, the interrupted one again from its start.
    const story = rig.stories.find((s) => s.id === session.storyId)!;
    const read = turns.filter((t) => t.step === 'story' && t.speaker === 'robot').map((t) => t.text);
    for (const p of story.paragraphs) expect(read).toContain(p);
    expect(read.indexOf(story.paragraphs.at(-1)!)).toBeGreaterThan(read.indexOf(story.paragraphs[0]!));
    const event = rig.row("SELECT detail_json FROM events WHERE kind = 'participant.barged-in'") as { detail_json: string };
    expect(JSON.parse(event.detail_json).act).toBe('story');
  });

  it('answering before the question is finished is simply an answer', async () => {
    const rig = simRig({ replies: [share[0]!, share[1]!, share[2]!, { say: 'four', afterMs: 1500, bargeIn: true }] });
    const { turns } = await runOneSession(rig);
    const four = turns.find((t) => t.text === 'four')!;
    expect(four.step).toBe('survey');
    expect(rig.row('SELECT value FROM responses')).toEqual({ value: 4 });
  });

  it('the session time limit closes the session kindly at the next step', async () => {
    const rig = simRig({ replies: share }, { maxSessionMs: 30_000 });
    const { session, turns } = await runOneSession(rig);
    expect(session.status).toBe('completed');
    expect(session.statusReason).toBe('session time limit reached');
    expect(turns.at(-1)!.step).toBe('goodbye');
    expect(turns.some((t) => t.step === 'rating')).toBe(false);
  });

  it('every robot line and participant turn is checked and logged in safeguard_events', async () => {
    const rig = simRig({ replies: share });
    const { turns } = await runOneSession(rig);
    const robotLines = turns.filter((t) => t.speaker === 'robot').length;
    const outputChecks = (rig.row("SELECT COUNT(DISTINCT seq) AS n FROM safeguard_events WHERE direction = 'output'") as { n: number }).n;
    expect(outputChecks).toBeGreaterThanOrEqual(robotLines);
    const inputs = rig.row("SELECT COUNT(*) AS n FROM safeguard_events WHERE direction = 'input' AND check_name = 'crisis'") as { n: number };
    // Every participant turn is screened before it is acted on, the rating answer included (issue 9).
    expect(inputs.n).toBe(4);
  });
});
