import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type ChatBody, type FakeOpenAIServer } from '../../test/fixtures/llm/fake-openai-server.js';
import { LlmClient, resolveLlmSettings, type LlmClientOptions, type ReplyRequest } from './llm-client.js';
import { loadPrompt, renderPrompt } from './prompts.js';
import { openAiModels } from '../../hardware/openai/index.js';

let server: FakeOpenAIServer;
beforeAll(async () => { server = await startFakeOpenAI(); });
afterAll(async () => { await server.close(); });
beforeEach(() => { server.reset(); server.fallback = { kind: 'status', status: 500, message: 'no behaviour queued' }; });

const prompt = loadPrompt('empathy', 1);
const system = renderPrompt(prompt, { story_title: 'The Old Dog', story_event: 'A family says goodbye to their dog.', memory: '' });
const waits: number[] = [];
const client = (opts: LlmClientOptions = {}) => {
  waits.length = 0;
  return new LlmClient(
    openAiModels({ baseURL: server.url, apiKey: 'test-key', model: 'fake-model', embeddingModel: 'fake-embed' }),
    { sleep: async (ms) => { waits.push(ms); }, random: () => 1, firstTokenTimeoutMs: 2_000, idleTimeoutMs: 2_000, timeoutMs: 5_000, ...opts },
  );
};
const ask = (c: LlmClient, extra: Partial<ReplyRequest> = {}) => {
  const heard: { s: string; at: number }[] = [];
  const p = c.reply({
    prompt, system, logText: false,
    messages: [{ role: 'user', content: 'My dog Rosie died last week and the house is so quiet.' }],
    onSentence: (s) => heard.push({ s, at: Date.now() }), ...extra,
  });
  return p.then((r) => ({ ...r, heard }));
};

describe('streaming replies', () => {
  it('hands over sentences as they arrive and logs model, prompt version, latency and tokens', async () => {
    server.enqueue({
      kind: 'stream', delayMs: 30, usage: { prompt: 123, completion: 31 },
      text: 'It sounds like the quiet is hard to bear. Rosie filled the house. What do you miss most about her?',
    });
    const r = await ask(client());
    expect(r.ok).toBe(true);
    expect(r.sentences).toEqual(['It sounds like the quiet is hard to bear.', 'Rosie filled the house.', 'What do you miss most about her?']);
    expect(r.heard.map((h) => h.s)).toEqual(r.sentences);
    // The first sentence was handed over while the rest was still streaming (7 more tokens at 30 ms each).
    expect(r.heard[2]!.at - r.heard[0]!.at).toBeGreaterThanOrEqual(150);
    expect(r.record).toMatchObject({
      kind: 'chat', model: 'fake-model', promptVersion: 'empathy.v1', outcome: 'ok', error: null, attempts: 1,
      promptTokens: 123, completionTokens: 31, sentences: 3, breaker: 'closed', endpoint: server.url.replace(/^http:\/\/|\/v1$/g, ''),
    });
    expect(r.record.firstTokenMs).toBeGreaterThanOrEqual(0);
    expect(r.record.latencyMs).toBeGreaterThanOrEqual(r.record.firstTokenMs!);
    expect(r.record).not.toHaveProperty('text');
    const body = server.requests[0]!.body as ChatBody;
    expect(body.stream).toBe(true);
    expect(body.model).toBe('fake-model');
    expect(body.messages[0]).toEqual({ role: 'system', content: system });
    expect(body.messages.at(-1)!.content).toMatch(/Rosie/);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer test-key');
  });

  it('puts the reply text in the record only when consent allows', async () => {
    server.enqueue({ kind: 'stream', text: 'That sounds lonely. What is the evening like now?' });
    const r = await ask(client(), { logText: true });
    expect(r.record.text).toBe('That sounds lonely. What is the evening like now?');
  });

  it('cuts off a runaway reply after the sentence limit without calling it a failure', async () => {
    server.enqueue({ kind: 'stream', text: Array.from({ length: 12 }, (_, i) => `This is sentence number ${i + 1} of many.`).join(' ') });
    const r = await ask(client({ maxSentences: 3 }));
    expect(r.ok).toBe(true);
    expect(r.sentences).toHaveLength(3);
  });

  it('stops when the caller aborts (barge-in) and does not count it against the server', async () => {
    server.enqueue({ kind: 'stream', delayMs: 100, text: 'I hear you. Rosie sounds like she was family. Tell me about her?' });
    const ac = new AbortController();
    const c = client({ breakerThreshold: 1 });
    const r = await ask(c, { signal: ac.signal, onSentence: () => ac.abort() });
    expect(r.record.outcome).toBe('aborted');
    expect(r.sentences).toEqual(['I hear you.']);
    expect(c.breakerState).toBe('closed');
  });
});

describe('failures: the call always resolves with a record saying what happened', () => {
  it('retries an HTTP 500 with backoff and then succeeds', async () => {
    server.enqueue({ kind: 'status', status: 500, message: 'model crashed' }, { kind: 'stream', text: 'That sounds hard. What helps?' });
    const r = await ask(client({ backoffBaseMs: 200 }));
    expect(r.ok).toBe(true);
    expect(r.record.attempts).toBe(2);
    expect(waits).toEqual([200]);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up after the last attempt on repeated 500s, naming the status', async () => {
    server.enqueue({ kind: 'status', status: 500, message: 'model crashed' }, { kind: 'status', status: 503, message: 'overloaded' });
    const r = await ask(client({ maxAttempts: 2 }));
    expect(r.ok).toBe(false);
    expect(r.sentences).toEqual([]);
    expect(r.record.outcome).toBe('http-error');
    expect(r.record.error).toMatch(/HTTP 503 from the language-model server: .*overloaded/);
    expect(r.record.attempts).toBe(2);
  });

  it('does not retry a 401 (configuration, not a passing fault)', async () => {
    server.enqueue({ kind: 'status', status: 401, message: 'bad key' });
    const r = await ask(client({ maxAttempts: 3 }));
    expect(r.record).toMatchObject({ outcome: 'http-error', attempts: 1 });
    expect(r.record.error).toMatch(/HTTP 401/);
  });

  it('times out when no token arrives, and retries once', async () => {
    server.enqueue({ kind: 'hang' }, { kind: 'hang' });
    const t0 = Date.now();
    const r = await ask(client({ firstTokenTimeoutMs: 300, maxAttempts: 2 }));
    expect(r.record.outcome).toBe('first-token-timeout');
    expect(r.record.error).toMatch(/no text within 300 ms/);
    expect(r.record.attempts).toBe(2);
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it('keeps what was said when very slow tokens run into the call timeout', async () => {
    server.enqueue({ kind: 'stream', delayMs: 250, text: 'I am listening. It sounds like a very long and slow and winding answer that never quite ends here.' });
    const r = await ask(client({ timeoutMs: 1_200, idleTimeoutMs: 1_000, maxAttempts: 2 }));
    expect(r.ok).toBe(false);
    expect(r.sentences).toEqual(['I am listening.']);
    expect(r.record.outcome).toBe('partial');
    expect(r.record.error).toMatch(/^timeout: no complete reply within 1200 ms/);
    expect(r.record.attempts).toBe(1); // a retry would repeat what the participant already heard
  });

  it('detects a stream that stalls after it started', async () => {
    server.enqueue({ kind: 'stream', stallAfter: 2, text: 'Oh no. That is sad news.' }, { kind: 'stream', stallAfter: 2, text: 'Oh no. That is sad news.' });
    const r = await ask(client({ idleTimeoutMs: 300 }));
    expect(r.record.outcome).toBe('idle-timeout');
    expect(r.record.error).toMatch(/stalled for 300 ms/);
  });

  it('rejects unparseable stream data as malformed', async () => {
    server.enqueue({ kind: 'raw', data: ['{"choices": [{"delta": {"content": "Hel'] }, { kind: 'raw', data: ['not json at all'] });
    const r = await ask(client());
    expect(r.record.outcome).toBe('malformed');
    expect(r.record.attempts).toBe(2);
  });

  it('rejects chunks without choices as malformed', async () => {
    server.enqueue({ kind: 'raw', data: ['{"id": "x", "object": "chat.completion.chunk"}', '[DONE]'] });
    const r = await ask(client({ maxAttempts: 1 }));
    expect(r.record.outcome).toBe('malformed');
    expect(r.record.error).toMatch(/without "choices"/);
  });

  it('never speaks chat-template tokens or role labels', async () => {
    server.enqueue(
      { kind: 'stream', text: '<|im_start|>assistant I understand. <|im_end|>' },
      { kind: 'stream', text: 'User: my dog died. Assistant: I am sorry.' },
    );
    const r = await ask(client());
    expect(r.sentences).toEqual([]);
    expect(r.record.outcome).toBe('malformed');
    expect(r.record.error).toMatch(/role label/);
    expect(r.heard).toEqual([]);
  });

  it('rejects a reply claiming to be human', async () => {
    server.enqueue({ kind: 'stream', text: "I'm a real person, not a robot, and I know how you feel." });
    const r = await ask(client({ maxAttempts: 1 }));
    expect(r.record.error).toMatch(/claims-human/);
  });

  it('treats an empty reply as a failure and retries it', async () => {
    server.enqueue({ kind: 'stream', text: '' }, { kind: 'stream', text: '   ' });
    const r = await ask(client());
    expect(r.record).toMatchObject({ outcome: 'empty', attempts: 2, error: 'model returned no text' });
  });

  it('reports an unreachable server as a network error', async () => {
    const dead = await startFakeOpenAI();
    const url = dead.url;
    await dead.close();
    const c = new LlmClient(openAiModels({ baseURL: url, apiKey: 'k', model: 'm', embeddingModel: undefined }), { sleep: async () => {}, maxAttempts: 1 });
    const r = await c.reply({ prompt, system, logText: false, messages: [{ role: 'user', content: 'hi' }] });
    expect(r.record.outcome).toBe('network-error');
    expect(r.record.error).toMatch(/Connection|ECONNREFUSED|fetch failed/i);
  });
});

describe('circuit breaker', () => {
  it('opens after repeated failures, fails fast, then lets a trial through after the cool-down and closes', async () => {
    let now = 1_000_000;
    const c = client({ now: () => now, maxAttempts: 1, breakerThreshold: 2, breakerCoolDownMs: 30_000 });
    server.enqueue({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    expect((await ask(c)).record.breaker).toBe('closed');
    expect((await ask(c)).record.breaker).toBe('open');
    const fast = await ask(c);
    expect(fast.record).toMatchObject({ outcome: 'circuit-open', attempts: 0 });
    expect(fast.record.error).toMatch(/next trial in 30 s/);
    expect(server.requests).toHaveLength(2); // the open breaker sent nothing
    now += 30_000;
    expect(c.breakerState).toBe('half-open');
    server.enqueue({ kind: 'stream', text: 'I am here. What happened next?' });
    const trial = await ask(c);
    expect(trial.ok).toBe(true);
    expect(trial.record.breaker).toBe('closed');
  });

  it('opens again at once when the half-open trial fails', async () => {
    let now = 0;
    const c = client({ now: () => now, maxAttempts: 1, breakerThreshold: 1, breakerCoolDownMs: 10_000 });
    server.enqueue({ kind: 'status', status: 502 });
    await ask(c);
    now += 10_000;
    server.enqueue({ kind: 'hang' });
    const trial = await ask(c, {});
    expect(trial.record.outcome).toBe('first-token-timeout');
    expect(trial.record.breaker).toBe('open');
    expect((await ask(c)).record.outcome).toBe('circuit-open');
  }, 10_000);
});

describe('embeddings', () => {
  it('returns vectors in input order with a record', async () => {
    server.enqueue({ kind: 'embeddings', vector: (t) => [t.length, 1] });
    const { vectors, record } = await client().embed(['a', 'bbb']);
    expect(vectors).toEqual([[1, 1], [3, 1]]);
    expect(record).toMatchObject({ kind: 'embeddings', model: 'fake-embed', outcome: 'ok', promptVersion: null });
    expect((server.requests[0]!.body as { input: string[] }).input).toEqual(['a', 'bbb']);
    expect(server.requests[0]!.path).toBe('/v1/embeddings');
  });

  it('the embedder rejects on failure and reports the record', async () => {
    server.enqueue({ kind: 'status', status: 404, message: 'no embeddings here' });
    const records: unknown[] = [];
    await expect(client().embedder((r) => records.push(r))(['x'])).rejects.toThrow(/http-error: HTTP 404/);
    expect(records).toHaveLength(1);
  });

  it('embedding failures do not open the chat breaker', async () => {
    const c = client({ breakerThreshold: 1, maxAttempts: 1 });
    server.enqueue({ kind: 'status', status: 500 });
    await c.embed(['x']);
    expect(c.breakerState).toBe('closed');
  });
});

describe('settings', () => {
  it('honours OPENAI_BASE_URL, OPENAI_API_KEY and HEARTH_LLM_MODEL over the device configuration', () => {
    const r = resolveLlmSettings({ OPENAI_BASE_URL: 'http://localhost:8080/v1', HEARTH_LLM_MODEL: 'llama' }, { model: 'other', apiKey: 'cfg-key' });
    expect(r).toEqual({ ok: true, settings: { baseURL: 'http://localhost:8080/v1', apiKey: 'cfg-key', model: 'llama', embeddingModel: undefined } });
  });
  it('uses the configuration when the environment is silent; local servers need no key', () => {
    const r = resolveLlmSettings({}, { baseUrl: 'http://10.0.0.2:8000/v1', model: 'qwen', embeddingModel: 'e5' });
    expect(r).toEqual({ ok: true, settings: { baseURL: 'http://10.0.0.2:8000/v1', apiKey: 'not-needed', model: 'qwen', embeddingModel: 'e5' } });
  });
  it('says why no model can be used', () => {
    expect(resolveLlmSettings({}, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/HEARTH_LLM_MODEL/) });
    expect(resolveLlmSettings({ HEARTH_LLM_MODEL: 'm' }, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/OPENAI_BASE_URL/) });
    expect(resolveLlmSettings({ HEARTH_LLM_MODEL: 'm', OPENAI_BASE_URL: 'localhost:8080' }, {})).toMatchObject({ ok: false, reason: expect.stringMatching(/http or https|not a URL/) });
  });
});
