import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chatModelContract } from '../../behaviors/chat-model.contract.js';
import { ModelCallError } from '../../behaviors/index.js';
import { decodeWav, FallbackTranscriber, PcmAudioSource, PerceptionService, PocketsphinxTranscriber, type HeardUtterance } from '../../perception/index.js';
import { transcriberContract } from '../../perception/audio/transcriber.contract.js';
import { haveTestdata, layout, LIBRIVOX_0880, readTestdata, say } from '../../test/fixtures/audio/speech.js';
import { startFakeOpenAI, type ChatBody, type FakeOpenAIServer } from '../../test/fixtures/llm/fake-openai-server.js';
import { openAiModels, OpenAiTranscriber } from './openai-models.js';

// Every test here talks to a real HTTP server on 127.0.0.1 (node:http), never to a mock of the SDK.
const havePocketsphinx = spawnSync('which', ['pocketsphinx_continuous']).status === 0;
const words = (s: string) => new Set(s.toLowerCase().split(/\W+/).filter(Boolean));
const overlap = (heard: string, truth: string) => {
  const h = words(heard);
  const t = [...words(truth)];
  return t.filter((w) => h.has(w)).length / t.length;
};

describe('OpenAiChatModel against a local OpenAI-compatible server', () => {
  let server: FakeOpenAIServer;
  let dead: string;
  beforeAll(async () => {
    server = await startFakeOpenAI();
    const gone = await startFakeOpenAI();
    dead = gone.url;
    await gone.close();
  });
  afterAll(async () => { await server.close(); });
  beforeEach(() => { server.reset(); });
  const models = (baseURL = server.url) => openAiModels({ baseURL, apiKey: 'test-key', model: 'fake-model', embeddingModel: 'fake-embed' });

  chatModelContract('OpenAiChatModel', {
    replying: (text, delayMs) => { server.enqueue({ kind: 'stream', text, ...(delayMs ? { delayMs } : {}) }); return models().chat; },
    failing: (status) => { server.enqueue({ kind: 'status', status, message: `status ${status}` }); return models().chat; },
    unreachable: () => models(dead).chat,
  });

  it('sends the messages, limits and key as the OpenAI API expects, and reports the host only', async () => {
    server.enqueue({ kind: 'stream', text: 'Hello there.', usage: { prompt: 12, completion: 3 } });
    const { chat, embeddings } = models();
    const chunks = [];
    for await (const c of chat.stream({ messages: [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'Hi' }], maxTokens: 50, temperature: 0.2 })) chunks.push(c);
    const body = server.requests[0]!.body as ChatBody;
    expect(body).toMatchObject({ model: 'fake-model', stream: true, max_tokens: 50, temperature: 0.2, messages: [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'Hi' }] });
    expect(server.requests[0]!.headers.authorization).toBe('Bearer test-key');
    expect(chunks.at(-1)).toEqual({ usage: { promptTokens: 12, completionTokens: 3 } });
    expect(chat.endpoint).toBe(new URL(server.url).host);
    expect(embeddings?.model).toBe('fake-embed');
    expect(openAiModels({ baseURL: server.url, apiKey: 'k', model: 'm', embeddingModel: undefined }).embeddings).toBeUndefined();
  });

  it('rejects a chunk that is not a chat chunk as malformed data, naming what came', async () => {
    server.enqueue({ kind: 'raw', data: ['{"id": "x"}', '[DONE]'] });
    const err = await (async () => { for await (const _ of models().chat.stream({ messages: [{ role: 'user', content: 'Hi' }] })) { /* nothing */ } })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelCallError);
    expect(err).toMatchObject({ fault: 'malformed', message: expect.stringMatching(/without "choices"/) });
  });

  it('embeds texts as floats in input order, and rejects a short answer as malformed', async () => {
    server.enqueue({ kind: 'embeddings', vector: (t) => [t.length, 0.5] });
    const { embeddings } = models();
    expect(await embeddings!.embed(['a', 'bbb'])).toEqual({ vectors: [[1, 0.5], [3, 0.5]], promptTokens: expect.any(Number) });
    expect((server.requests[0]!.body as { encoding_format: string }).encoding_format).toBe('float');
    server.enqueue({ kind: 'embeddings', vector: () => [] });
    await expect(embeddings!.embed(['a'])).rejects.toMatchObject({ fault: 'malformed' });
  });
});

/** Read a multipart/form-data body into fields and files (enough for the OpenAI client's uploads). */
async function readMultipart(req: IncomingMessage): Promise<Map<string, Buffer>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(req.headers['content-type'] ?? '');
  if (!boundary) throw new Error(`not multipart: ${req.headers['content-type']}`);
  const sep = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts = new Map<string, Buffer>();
  let at = body.indexOf(sep);
  while (at >= 0) {
    const next = body.indexOf(sep, at + sep.length);
    if (next < 0) break;
    const part = body.subarray(at + sep.length + 2, next - 2);
    const headEnd = part.indexOf('\r\n\r\n');
    const name = /name="([^"]+)"/.exec(part.subarray(0, headEnd).toString())?.[1];
    if (name) parts.set(name, part.subarray(headEnd + 4));
    at = next;
  }
  return parts;
}

describe.skipIf(!havePocketsphinx || !haveTestdata)('OpenAiTranscriber against a local OpenAI-compatible server', () => {
  let server: Server;
  let baseURL: string;
  const seen: { model?: string; auth?: string; format?: string; seconds?: number }[] = [];
  let failNext = 0;

  beforeAll(async () => {
    // A real HTTP server speaking the OpenAI transcription API, transcribing with pocketsphinx.
    const ps = new PocketsphinxTranscriber();
    server = createServer(async (req, res) => {
      try {
        if (req.method !== 'POST' || req.url !== '/v1/audio/transcriptions') { res.writeHead(404).end(); return; }
        if (failNext > 0) { failNext--; res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"model loading"}}'); return; }
        const form = await readMultipart(req);
        const wav = decodeWav(form.get('file')!, 'upload');
        const format = form.get('response_format')?.toString();
        seen.push({ model: form.get('model')?.toString(), auth: req.headers.authorization, format, seconds: wav.samples.length / wav.sampleRate });
        const t = await ps.transcribe(wav.samples);
        const body = format === 'verbose_json'
          ? { text: ` ${t.text}`, segments: [{ avg_logprob: Math.log(t.confidence ?? 0.5), text: t.text }] }
          : { text: t.text };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      } catch (e) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: (e as Error).message } }));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  transcriberContract('OpenAiTranscriber', {
    make: () => new OpenAiTranscriber({ baseURL, model: 'whisper-1', maxRetries: 0 }),
    speech: () => ({ samples: readTestdata(LIBRIVOX_0880), reference: 'he was not an ill disposed young man' }),
    minOverlap: 0.5,
    broken: () => new OpenAiTranscriber({ baseURL: 'http://127.0.0.1:9/v1', model: 'whisper-1', maxRetries: 0 }),
  });

  it('sends the utterance as a WAV upload and returns the server\'s text and confidence', async () => {
    const audio = readTestdata(LIBRIVOX_0880);
    const t = await new OpenAiTranscriber({ baseURL, model: 'whisper-1', apiKey: 'k-test' }).transcribe(audio);
    expect(overlap(t.text, 'he was not an ill disposed young man')).toBeGreaterThanOrEqual(0.5);
    expect(t.text).toBe(t.text.trim());
    expect(t.confidence!).toBeGreaterThan(0);
    expect(t.engine).toBe(`openai whisper-1 @ ${baseURL}`);
    expect(seen.at(-1)).toEqual({ model: 'whisper-1', auth: 'Bearer k-test', format: 'verbose_json', seconds: audio.length / 16_000 });
  });

  it('works with plain json answers (no confidence)', async () => {
    const t = await new OpenAiTranscriber({ baseURL, model: 'small', verbose: false }).transcribe(readTestdata(LIBRIVOX_0880));
    expect(t.text.length).toBeGreaterThan(0);
    expect(t.confidence).toBeUndefined();
  });

  it('retries a 503 once, then reports the status and the server', async () => {
    failNext = 1;
    const ok = await new OpenAiTranscriber({ baseURL, model: 'whisper-1', maxRetries: 1 }).transcribe(readTestdata(LIBRIVOX_0880));
    expect(ok.text.length).toBeGreaterThan(0);
    failNext = 5;
    await expect(new OpenAiTranscriber({ baseURL, model: 'whisper-1', maxRetries: 0 }).transcribe(new Int16Array(1600)))
      .rejects.toThrow(new RegExp(`openai whisper-1 @ ${baseURL.replace(/[.]/g, '\\.')}: HTTP 503`));
    failNext = 0;
  });

  it('reports an unreachable server', async () => {
    await expect(new OpenAiTranscriber({ baseURL: 'http://127.0.0.1:9/v1', model: 'whisper-1', maxRetries: 0 }).transcribe(new Int16Array(1600)))
      .rejects.toThrow(/openai whisper-1 @ http:\/\/127\.0\.0\.1:9\/v1: Connection error/);
  });

  it('falls back to the offline recogniser while the site\'s server fails, leaves it alone for the cool-down, then uses it again', async () => {
    let clock = Date.parse('2026-03-02T10:00:00Z');
    const fallbacks: { reason: string; retryAt: number }[] = [];
    const offline = new PocketsphinxTranscriber();
    const both = new FallbackTranscriber(new OpenAiTranscriber({ baseURL, model: 'whisper-1', maxRetries: 0 }), offline, {
      now: () => clock, coolDownMs: 60_000, onFallback: (e) => fallbacks.push(e),
    });
    const audio = readTestdata(LIBRIVOX_0880);
    const asked = () => seen.length;
    try {
      failNext = 1;
      const before = asked();
      const down = await both.transcribe(audio);
      expect(down.engine).toMatch(/^pocketsphinx/);
      expect(overlap(down.text, 'he was not an ill disposed young man')).toBeGreaterThanOrEqual(0.5);
      expect(fallbacks).toEqual([expect.objectContaining({ reason: expect.stringMatching(/HTTP 503/), retryAt: clock + 60_000 })]);
      // Within the cool-down the server is not asked (its 503 was not even reached again).
      clock += 30_000;
      expect((await both.transcribe(audio)).engine).toMatch(/^pocketsphinx/);
      expect(asked()).toBe(before);
      // After it, the server again.
      clock += 31_000;
      expect((await both.transcribe(audio)).engine).toBe(`openai whisper-1 @ ${baseURL}`);
      expect(asked()).toBe(before + 1);
      expect(fallbacks).toHaveLength(1);
    } finally {
      failNext = 0;
      await both.close();
    }
  });

  it('in the perception service, an unreachable site server still gives the participant\'s words (from the offline recogniser)', async () => {
    const heard: HeardUtterance[] = [];
    const fell: string[] = [];
    const T0 = Date.parse('2026-03-02T10:00:00Z');
    const speech = layout([{ samples: say('i am so happy to see you', { speed: 140, voice: 'en-us' }), silenceBeforeMs: 1200 }], 1500);
    const transcriber = new FallbackTranscriber(new OpenAiTranscriber({ baseURL: 'http://127.0.0.1:9/v1', model: 'whisper-1', maxRetries: 0 }), new PocketsphinxTranscriber(), { onFallback: (e) => fell.push(e.reason) });
    const service = new PerceptionService({
      now: () => T0, audio: new PcmAudioSource(speech.samples, { startMs: T0, name: 'espeak fixture' }), transcriber, autoTick: false,
      events: { utterance: (u) => heard.push(u) },
    });
    await service.start();
    await service.drained();
    await service.stop();
    await transcriber.close();
    expect(heard).toHaveLength(1);
    expect(heard[0]!.engine).toMatch(/^pocketsphinx/);
    expect(heard[0]!.text).toContain('happy');
    expect(fell).toEqual([expect.stringMatching(/Connection error/)]);
  });
});

