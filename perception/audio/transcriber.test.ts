import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveAudioTools, haveTestdata, layout, LIBRIVOX_0880, readTestdata, say } from '../../test/fixtures/audio/speech.js';
import { OpenAiTranscriber } from './openai-transcriber.js';
import { parsePocketsphinx, PocketsphinxTranscriber } from './pocketsphinx-transcriber.js';
import { decodeWav, encodeWav } from './wav.js';

const havePocketsphinx = spawnSync('which', ['pocketsphinx_continuous']).status === 0;
const words = (s: string) => new Set(s.toLowerCase().split(/\W+/).filter(Boolean));
const overlap = (heard: string, truth: string) => {
  const h = words(heard);
  const t = [...words(truth)];
  return t.filter((w) => h.has(w)).length / t.length;
};

describe.skipIf(!havePocketsphinx || !haveTestdata)('PocketsphinxTranscriber (Debian pocketsphinx, offline)', () => {
  const ps = new PocketsphinxTranscriber();

  it('transcribes a LibriVox recording with most of the reference words', async () => {
    const t = await ps.transcribe(readTestdata(LIBRIVOX_0880));
    // Reference: "he was not an ill disposed young man".
    expect(overlap(t.text, 'he was not an ill disposed young man')).toBeGreaterThanOrEqual(0.5);
    expect(t.text).toMatch(/\bnot\b/);
    expect(t.confidence!).toBeGreaterThan(0);
    expect(t.confidence!).toBeLessThanOrEqual(1);
    expect(t.words!.length).toBeGreaterThan(3);
    expect(t.words!.every((w, i, a) => w.endMs >= w.startMs && (i === 0 || w.startMs >= a[i - 1]!.startMs))).toBe(true);
  });

  it.skipIf(!haveAudioTools)('transcribes espeak-ng speech (US voice; the default voice defeats it)', async () => {
    const line = 'i would like to hear a story about the sea';
    const t = await ps.transcribe(layout([{ samples: say(line, { speed: 140, voice: 'en-us' }), silenceBeforeMs: 300 }], 300).samples);
    expect(overlap(t.text, line)).toBeGreaterThanOrEqual(0.6);
  });

  it('returns empty text for silence', async () => {
    const t = await ps.transcribe(new Int16Array(16_000));
    expect(t.text).toBe('');
  });

  it('names the missing binary and the Debian package to install', async () => {
    await expect(new PocketsphinxTranscriber({ binary: 'pocketsphinx_nowhere' }).transcribe(new Int16Array(1600)))
      .rejects.toThrow(/pocketsphinx_nowhere not found: install the Debian packages pocketsphinx/);
  });

  it('reports a broken model directory', async () => {
    await expect(new PocketsphinxTranscriber({ modelDir: '/nonexistent/model' }).transcribe(new Int16Array(1600)))
      .rejects.toThrow(/pocketsphinx \/nonexistent\/model: exited with/);
  });
});

describe('parsePocketsphinx', () => {
  it('drops fillers and alternate-pronunciation marks and averages word posteriors', () => {
    const t = parsePocketsphinx('he was\n<s> 0.000 0.060 0.999500\nhe 0.210 0.320 0.8\n[NOISE] 0.33 0.4 0.5\nwas(2) 0.330 0.540 0.6\n</s> 2.8 2.9 1.0\n');
    expect(t.text).toBe('he was');
    expect(t.confidence).toBeCloseTo(0.7);
    expect(t.words).toEqual([{ word: 'he', startMs: 210, endMs: 320, confidence: 0.8 }, { word: 'was', startMs: 330, endMs: 540, confidence: 0.6 }]);
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
});

describe('WAV encoding', () => {
  it('round-trips samples and rejects files it cannot read with the source named', () => {
    const s = Int16Array.from([0, 1, -1, 32767, -32768]);
    expect(Array.from(decodeWav(encodeWav(s)).samples)).toEqual(Array.from(s));
    expect(() => decodeWav(Buffer.from('hello world!'), 'upload.wav')).toThrow('upload.wav: not a RIFF/WAVE file');
    const stereo = encodeWav(s);
    stereo.writeUInt16LE(2, 22);
    expect(() => decodeWav(stereo, 'x.wav')).toThrow(/x\.wav: format 1, 16-bit, 2 channel\(s\)/);
  });
});
