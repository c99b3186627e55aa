import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type ChatBody, type FakeOpenAIServer } from '../../test/fixtures/llm/fake-openai-server.js';
import { empathicReply, type ConversationLine, type EmpathyReply } from './empathy.js';
import { LlmClient } from './llm-client.js';
import { openAiModels } from '../../hardware/openai/index.js';

let server: FakeOpenAIServer;
beforeAll(async () => { server = await startFakeOpenAI(); });
afterAll(async () => { await server.close(); });
beforeEach(() => server.reset());

const offline = () => "It sounds like that stayed with you. You mentioned the kitchen. What was that like?";
const story = { title: 'Bread on Sundays', mainEvent: "A woman bakes her late mother's bread." };

describe('a multi-turn conversation against an OpenAI-compatible server', () => {
  it('the participant always hears a sensible reply, and each turn says how it was made', async () => {
    const client = new LlmClient(
      openAiModels({ baseURL: server.url, apiKey: 'k', model: 'fake', embeddingModel: undefined }),
      { sleep: async () => {}, firstTokenTimeoutMs: 400, idleTimeoutMs: 400, timeoutMs: 2_000, maxAttempts: 2, breakerThreshold: 3, breakerCoolDownMs: 60_000 },
    );
    const history: ConversationLine[] = [];
    const heard: string[][] = [];
    const turns: EmpathyReply[] = [];
    const say = async (participant: string, finalExchange = false) => {
      history.push({ speaker: 'participant', text: participant });
      const spoken: string[] = [];
      const r = await empathicReply({ story, history, finalExchange, memoryNotes: '' }, {
        client, modelConsent: true, logText: false, fallback: offline, onSentence: (s) => spoken.push(s),
      });
      history.push({ speaker: 'robot', text: r.text });
      heard.push(spoken);
      turns.push(r);
    };
    // 1: a normal streamed reply that uses the participant's words.
    server.enqueue({ kind: 'reply', delayMs: 5, reply: (b: ChatBody) => `It sounds like ${b.messages.at(-1)!.content.includes('mother') ? 'your mother' : 'it'} is close to you today. What do you remember first?` });
    await say('The story made me think of my mother and her kitchen.');
    // 2: the server fails twice with 500: the offline reply is spoken instead.
    server.enqueue({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    await say('She always sang while she cooked.');
    // 3: very slow tokens: one sentence arrives, then the stream stalls; the turn is finished offline.
    server.enqueue({ kind: 'stream', stallAfter: 4, text: 'Singing while cooking. That is a lovely detail to carry with you.' });
    await say('I still hum her songs sometimes.');
    // 4: the breaker is now open (3 failed attempts): instant offline reply, no request sent.
    const before = server.requests.length;
    await say('Anyway, that is enough for today.', true);

    expect(turns.map((t) => t.source)).toEqual(['model', 'offline', 'model+offline', 'offline']);
    expect(turns.map((t) => t.record?.outcome)).toEqual(['ok', 'http-error', 'partial', 'circuit-open']);
    expect(server.requests.length).toBe(before);
    expect(turns[1]!.fallbackReason).toMatch(/language model failed: http-error: HTTP 500/);
    expect(turns[2]!.fallbackReason).toMatch(/stopped after 1 sentence\(s\): idle-timeout/);
    for (const [i, spoken] of heard.entries()) {
      expect(spoken.length, `turn ${i + 1}`).toBeGreaterThan(0);
      expect(spoken.join(' '), `turn ${i + 1}`).toMatch(/[.?!]$/);
      expect(spoken.join(' '), `turn ${i + 1}`).toBe(turns[i]!.text);
    }
    expect(heard[0]!.join(' ')).toBe('It sounds like your mother is close to you today. What do you remember first?');
    expect(heard[2]).toEqual(['Singing while cooking.', 'What was that like?']);
    // The model saw the whole conversation, with the robot's own earlier lines as the assistant.
    const last = server.requests.at(-1)!.body as ChatBody;
    expect(last.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(last.messages[0]!.content).toContain('"Bread on Sundays"');
  });

  it('never sends the participant\'s words to a model without consent', async () => {
    const client = new LlmClient(openAiModels({ baseURL: server.url, apiKey: 'k', model: 'fake', embeddingModel: undefined }));
    const r = await empathicReply({ story, history: [{ speaker: 'participant', text: 'My mother died.' }] }, {
      client, modelConsent: false, logText: false, fallback: offline,
    });
    expect(r).toMatchObject({ source: 'offline', fallbackReason: 'consent does not allow language-model processing' });
    expect(server.requests).toHaveLength(0);
  });

  it('uses the closing prompt for the final exchange', async () => {
    const client = new LlmClient(openAiModels({ baseURL: server.url, apiKey: 'k', model: 'fake', embeddingModel: undefined }));
    server.enqueue({ kind: 'stream', text: 'Humming her songs keeps her near. Thank you for sharing that with me.' });
    const r = await empathicReply({ story, history: [{ speaker: 'participant', text: 'I hum her songs.' }], finalExchange: true }, {
      client, modelConsent: true, logText: true, fallback: offline,
    });
    expect(r.record).toMatchObject({ promptVersion: 'empathy-close.v1', text: 'Humming her songs keeps her near. Thank you for sharing that with me.' });
    expect((server.requests[0]!.body as ChatBody).messages[0]!.content).toMatch(/Do not ask a question/);
  });
});
