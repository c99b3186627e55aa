// The contract every ChatModel adapter runs (hardware/openai/openai-models.test.ts calls it with its adapter).
import { describe, expect, it } from 'vitest';
import { ModelCallError } from './dialogue/model-call-error.js';
import type { ChatChunk, ChatModel, ChatRequest } from './ports.js';

/** What the contract needs: models whose next reply (or fault) the fixture can arrange. */
export interface ChatModelFixture {
  /** A model whose next reply is `text`, streamed in several pieces; `delayMs` between pieces. */
  replying(text: string, delayMs?: number): ChatModel | Promise<ChatModel>;
  /** A model whose service answers the next request with this HTTP status. */
  failing(status: number): ChatModel | Promise<ChatModel>;
  /** A model whose service cannot be reached. */
  unreachable(): ChatModel | Promise<ChatModel>;
}

const request = (signal?: AbortSignal): ChatRequest => ({
  messages: [{ role: 'system', content: 'You are a kind companion robot.' }, { role: 'user', content: 'My dog died last week.' }],
  maxTokens: 80, temperature: 0.7, ...(signal ? { signal } : {}),
});

async function collect(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

/** Run the ChatModel contract against an adapter. */
export function chatModelContract(adapter: string, fixture: ChatModelFixture): void {
  describe(`ChatModel contract: ${adapter}`, () => {
    it('names its model and where it runs, without a key', async () => {
      const m = await fixture.replying('Hello.');
      expect(m.model.length).toBeGreaterThan(0);
      expect(m.endpoint.length).toBeGreaterThan(0);
      expect(m.endpoint).not.toMatch(/key|bearer|sk-/i);
    });

    it('streams the reply in pieces that join to the whole text, with token counts when known', async () => {
      const text = 'That sounds so hard. She was family. What do you miss most?';
      const chunks = await collect((await fixture.replying(text)).stream(request()));
      const pieces = chunks.filter((c) => c.text !== undefined);
      expect(pieces.length).toBeGreaterThan(1);
      expect(pieces.map((c) => c.text).join('')).toBe(text);
      for (const c of chunks.filter((c) => c.usage)) {
        for (const n of [c.usage!.promptTokens, c.usage!.completionTokens]) expect(n === null || (Number.isInteger(n) && n >= 0)).toBe(true);
      }
    });

    it('stops soon after the signal aborts: the stream ends or throws, and yields nothing more', async () => {
      const ac = new AbortController();
      const stream = (await fixture.replying('One. Two. Three. Four. Five. Six. Seven. Eight.', 100)).stream(request(ac.signal));
      const got: string[] = [];
      const t0 = Date.now();
      try {
        for await (const c of stream) {
          if (c.text) got.push(c.text);
          if (got.length === 1) ac.abort();
        }
      } catch {
        // Throwing on abort is allowed; the caller knows it aborted.
      }
      expect(got).toHaveLength(1);
      expect(Date.now() - t0).toBeLessThan(2_000);
    });

    it('throws a ModelCallError with the status for an HTTP error', async () => {
      const err = await collect((await fixture.failing(503)).stream(request())).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelCallError);
      expect(err).toMatchObject({ fault: 'http', status: 503 });
      const denied = await collect((await fixture.failing(401)).stream(request())).catch((e: unknown) => e);
      expect(denied).toMatchObject({ fault: 'http', status: 401 });
    });

    it('throws a network ModelCallError when the service cannot be reached', async () => {
      const err = await collect((await fixture.unreachable()).stream(request())).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelCallError);
      expect(err).toMatchObject({ fault: 'network' });
      expect((err as Error).message.length).toBeGreaterThan(0);
    });
  });
}
