import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LlmClient, type LlmCallRecord, type SentenceEncoder } from '../../behaviors/index.js';
import { sentenceEncoderContract } from '../../behaviors/sentence-encoder.contract.js';
import { startFakeOpenAI, type FakeOpenAIServer } from '../../test/fixtures/llm/fake-openai-server.js';
import { EmbeddingsError, OpenAiEmbeddingsEncoder } from './openai-embeddings-encoder.js';
import { openAiModels } from './openai-models.js';

// A real HTTP server (node:http on 127.0.0.1) serving /v1/embeddings, reached through behaviors' LlmClient.
let server: FakeOpenAIServer;
beforeAll(async () => { server = await startFakeOpenAI(); });
afterAll(async () => { await server.close(); });
beforeEach(() => { server.reset(); server.fallback = { kind: 'status', status: 500, message: 'no behaviour queued' }; });

const records: LlmCallRecord[] = [];
const client = () => new LlmClient(
  openAiModels({ baseURL: server.url, apiKey: 'test-key', model: 'chat-model', embeddingModel: 'embed-small' }),
  { maxAttempts: 1, timeoutMs: 5_000, sleep: async () => undefined },
);
const embed = () => client().embedder((r) => records.push(r));
/** A fake model: a 4-d vector from the text's length and first letter, not normalised. */
const vector = (t: string) => [t.length, t.charCodeAt(0) || 0, 1, 2];
const sent = (i = 0) => (server.requests[i]!.body as { input: string[]; model: string }).input;

describe('OpenAiEmbeddingsEncoder (OpenAI-compatible /v1/embeddings)', () => {
  it('implements the SentenceEncoder port: unit vectors in input order, one request, the call logged', async () => {
    server.enqueue({ kind: 'embeddings', vector });
    const encoder: SentenceEncoder = new OpenAiEmbeddingsEncoder({ embed: embed(), model: 'embed-small', dimension: 4 });
    records.length = 0;
    const vectors = await encoder.encode(['a', 'bbb']);
    expect(encoder.id).toBe('openai/embed-small');
    expect(vectors.map((v) => v.length)).toEqual([4, 4]);
    for (const v of vectors) expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    const n = Math.hypot(3, 98, 1, 2);
    expect(Array.from(vectors[1]!)).toEqual([3 / n, 98 / n, 1 / n, 2 / n].map((x) => expect.closeTo(x, 6)));
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.path).toBe('/v1/embeddings');
    expect(sent()).toEqual(['a', 'bbb']);
    expect(records).toMatchObject([{ kind: 'embeddings', model: 'embed-small', outcome: 'ok' }]);
  });

  it('learns the dimension from the service when not told', async () => {
    server.enqueue({ kind: 'embeddings', vector: () => [1, 2, 3, 4, 5, 6] });
    const encoder = await OpenAiEmbeddingsEncoder.create({ embed: embed(), model: 'embed-small' });
    expect(encoder.dimension).toBe(6);
  });

  it('sends odd text in a form the service accepts: empty as a space, broken UTF-16 repaired, long text capped', async () => {
    server.enqueue({ kind: 'embeddings', vector });
    const encoder = new OpenAiEmbeddingsEncoder({ embed: embed(), model: 'embed-small', dimension: 4, maxChars: 100 });
    const vectors = await encoder.encode(['', '   ', 'bad \ud800 half', 'é'.repeat(500), '😀'.repeat(300)]);
    expect(vectors).toHaveLength(5);
    expect(sent()).toEqual([' ', ' ', 'bad \ufffd half', 'é'.repeat(100), '😀'.repeat(100)]);
  });

  it('splits large batches into several requests and keeps the order', async () => {
    server.enqueue({ kind: 'embeddings', vector }, { kind: 'embeddings', vector }, { kind: 'embeddings', vector });
    const encoder = new OpenAiEmbeddingsEncoder({ embed: embed(), model: 'embed-small', dimension: 4, batchSize: 2 });
    const texts = ['a', 'bb', 'ccc', 'dddd', 'eeeee'];
    const vectors = await encoder.encode(texts);
    expect(server.requests.map((r) => (r.body as { input: string[] }).input)).toEqual([['a', 'bb'], ['ccc', 'dddd'], ['eeeee']]);
    for (const [i, t] of texts.entries()) expect(vectors[i]![1]! / vectors[i]![0]!).toBeCloseTo(t.charCodeAt(0) / t.length, 3);
  });

  it('rejects when the service fails, saying what happened', async () => {
    server.enqueue({ kind: 'status', status: 404, message: 'no embeddings here' });
    const encoder = new OpenAiEmbeddingsEncoder({ embed: embed(), model: 'embed-small', dimension: 4 });
    await expect(encoder.encode(['hello'])).rejects.toThrow(/http-error: HTTP 404/);
  });

  it('rejects vectors of the wrong size, naming the model', async () => {
    server.enqueue({ kind: 'embeddings', vector: () => [1, 2, 3] });
    const encoder = new OpenAiEmbeddingsEncoder({ embed: embed(), model: 'embed-small', dimension: 4 });
    const err = await encoder.encode(['hello']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingsError);
    expect((err as Error).message).toBe('openai/embed-small: vector 0 has 3 numbers (expected 4 finite numbers)');
  });
});

describe('OpenAiEmbeddingsEncoder through LlmClient and a local server', () => {
  beforeEach(() => { server.fallback = { kind: 'embeddings', vector }; });
  sentenceEncoderContract('OpenAiEmbeddingsEncoder', { make: () => new OpenAiEmbeddingsEncoder({ embed: embed(), model: 'embed-small', dimension: 4 }), semantic: false });
});
