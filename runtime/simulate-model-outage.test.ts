import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmClient, type LlmCallRecord, type LlmClientOptions } from '../behaviors/index.js';
import { SqliteStore, type SessionRecord } from '../data/index.js';
import { openAiModels } from '../hardware/index.js';
import { simulate, type SimulateOptions } from './simulate.js';

// `hearth simulate` against a real OpenAI-compatible server on 127.0.0.1 (node:http) that is healthy,
// answers 500, hangs, or is slow. A model outage must cost a simulated session what it costs a real one:
// every day still runs, and the session takes about as long as with a healthy model (issue 13).

type Mode = 'healthy' | 'fail' | 'hang' | 'slow';
const SLOW_MS = 400;
/** A conversational client, with the first-token wait shortened so a hanging server keeps this test short. */
const CLIENT: LlmClientOptions = { timeoutMs: 1_500, firstTokenTimeoutMs: 600, idleTimeoutMs: 600 };

let server: Server;
let baseURL: string;
let mode: Mode = 'healthy';
let hits = 0;
const dir = mkdtempSync(join(tmpdir(), 'hearth-outage-'));

function completion(res: import('node:http').ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: 'That sounds like it stayed with you. ' } }] })}\n\n`);
  res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: 'Thank you for telling me about it.' } }], usage: { prompt_tokens: 40, completion_tokens: 14 } })}\n\n`);
  res.end('data: [DONE]\n\n');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => {
      if (mode === 'fail') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'model crashed', type: 'server_error' } }));
      } else if (mode === 'slow') {
        setTimeout(() => completion(res), SLOW_MS);
      } else if (mode === 'healthy') {
        completion(res);
      } // 'hang': never answers; the client gives up and closes the socket
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  sessions: SessionRecord[];
  /** Simulated minutes of each study day's session. */
  minutes: Map<number, number>;
  calls: { studyDay: number | null; call: LlmCallRecord | null; fallbackReason: string | null }[];
  hits: number;
  wallMs: number;
}

/** One participant for two days against the server in `m`, with an LlmClient on the participant's simulated clock. */
async function run(m: Mode, name: string, extra: Partial<SimulateOptions> = {}): Promise<Run> {
  mode = m;
  hits = 0;
  const dbFile = join(dir, `${name}.sqlite`);
  const settings = { baseURL, apiKey: 'test', model: 'stub', embeddingModel: undefined };
  const t0 = performance.now();
  const [summary] = await simulate({
    participants: 1, days: 2, seed: 7, dbFile,
    llmFor: (clock) => new LlmClient(openAiModels(settings), { ...CLIENT, now: () => clock.now() }),
    ...extra,
  });
  const wallMs = performance.now() - t0;
  const store = SqliteStore.open(dbFile);
  try {
    const log = store.forDevice({ deviceId: summary!.deviceId, tz: summary!.tz, clockSource: 'simulated' });
    const sessions = log.sessions(summary!.participantId);
    const minutes = new Map(sessions.map((s) => [s.studyDay, (Date.parse(s.endedTsUtc!) - Date.parse(s.startedTsUtc!)) / 60_000]));
    const calls = log.events({ kind: 'dialogue.reply' }).map((e) => {
      const d = e.detail as { call: LlmCallRecord | null; fallbackReason: string | null };
      return { studyDay: e.studyDay, call: d.call, fallbackReason: d.fallbackReason };
    });
    return { sessions, minutes, calls, hits, wallMs };
  } finally {
    store.close();
  }
}

/** Every study day ran a session that ended, completed or interrupted with a reason. */
function expectEveryDayRan(r: Run): void {
  for (const day of [1, 2]) {
    const s = r.sessions.find((x) => x.studyDay === day);
    expect(s, `study day ${day} has a session`).toBeDefined();
    expect(s!.endedTsUtc).not.toBeNull();
    if (s!.status === 'interrupted') expect(s!.statusReason).toBeTruthy();
    else expect(s!.status).toBe('completed');
  }
  expect(r.sessions.some((s) => s.status === 'started')).toBe(false);
  // Two days were asked for: none is run past them.
  expect(r.sessions.filter((s) => s.studyDay > 2)).toEqual([]);
}

/** Each day's simulated session length is within ±20% of the healthy run's. */
function expectLengthsNear(r: Run, healthy: Run): void {
  for (const day of [1, 2]) {
    const base = healthy.minutes.get(day)!;
    expect(r.minutes.get(day), `day ${day}: ${r.minutes.get(day)?.toFixed(2)} min vs healthy ${base.toFixed(2)} min`).toBeGreaterThanOrEqual(base * 0.8);
    expect(r.minutes.get(day)).toBeLessThanOrEqual(base * 1.2);
  }
}

describe('hearth simulate with a language model that fails', { timeout: 30_000 }, () => {
  let healthy: Run;

  beforeAll(async () => {
    healthy = await run('healthy', 'healthy');
  });

  it('healthy stub: every reply comes from the model', () => {
    expectEveryDayRan(healthy);
    expect(healthy.hits).toBeGreaterThan(0);
    expect(healthy.calls.length).toBeGreaterThan(0);
    expect(healthy.calls.every((c) => c.call?.outcome === 'ok')).toBe(true);
  });

  it('HTTP 500: every day runs and takes as long as with a healthy model; the robot falls back', async () => {
    const failing = await run('fail', 'fail');
    expectEveryDayRan(failing);
    expectLengthsNear(failing, healthy);
    expect(failing.hits).toBeGreaterThan(0);
    expect(failing.calls.length).toBeGreaterThan(0);
    expect(failing.calls.every((c) => c.fallbackReason !== null)).toBe(true);
    expect(failing.calls.map((c) => c.call?.outcome)).toContain('http-error');
    // The failing call costs what it costs a live session: the simulated latency is the real one, not hours.
    for (const c of failing.calls) expect(c.call!.latencyMs).toBeLessThan(CLIENT.timeoutMs!);
  });

  it('HTTP 500 through one shared model (as `hearth simulate` passes it): every day runs, as long as with a healthy model', async () => {
    const settings = { baseURL, apiKey: 'test', model: 'stub', embeddingModel: undefined };
    const failing = await run('fail', 'fail-shared', { llmFor: undefined, llm: new LlmClient(openAiModels(settings), CLIENT) });
    expectEveryDayRan(failing);
    expectLengthsNear(failing, healthy);
    expect(failing.hits).toBeGreaterThan(0);
  });

  it('a server that never answers: the timeout is paid in simulated time once, then every day runs; the breaker cools down on the simulated clock', async () => {
    const hanging = await run('hang', 'hang');
    expectEveryDayRan(hanging);
    expectLengthsNear(hanging, healthy);
    const timedOut = hanging.calls.filter((c) => c.call?.outcome === 'first-token-timeout' || c.call?.outcome === 'timeout');
    expect(timedOut.length).toBeGreaterThan(0);
    // The wait the participant sat through is in the session: a timed-out call spent its timeout of simulated time.
    for (const c of timedOut) expect(c.call!.latencyMs).toBeGreaterThanOrEqual(CLIENT.firstTokenTimeoutMs! * 0.9);
    // A day later the breaker has cooled down in simulated time, so day 2 tries the model again, as a device would.
    expect(hanging.calls.some((c) => c.studyDay === 2 && c.call && c.call.outcome !== 'circuit-open')).toBe(true);
  });

  it('a slow server: the simulated clock waits for each reply exactly as long as it really takes', async () => {
    const slow = await run('slow', 'slow');
    expectEveryDayRan(slow);
    expectLengthsNear(slow, healthy);
    expect(slow.calls.length).toBeGreaterThan(0);
    for (const c of slow.calls) {
      expect(c.call?.outcome).toBe('ok');
      expect(c.call!.latencyMs).toBeGreaterThanOrEqual(SLOW_MS * 0.9);
      expect(c.call!.latencyMs).toBeLessThan(SLOW_MS + 1_000);
    }
    // The slow replies lengthen each session by about their real latency, not more.
    const calls = (day: number) => slow.calls.filter((c) => c.studyDay === day).length;
    for (const day of [1, 2]) expect(slow.minutes.get(day)! - healthy.minutes.get(day)!).toBeGreaterThanOrEqual((calls(day) * SLOW_MS * 0.9) / 60_000);
  });
});
