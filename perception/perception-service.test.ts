import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore, type NewAffectSample } from '../data/index.js';
import { haveAudioTools, layout, say, type Layout } from '../test/fixtures/audio/speech.js';
import { AudioSourceError, PcmAudioSource, type AudioChunk, type AudioSource } from './audio/audio-source.js';
import { SileroVad } from './audio/silero-vad.js';
import { NO_RAW_MEDIA, rawMediaConsent, RawMediaWriter } from './consent-gate.js';
import { PerceptionService, type HeardUtterance, type PerceptionFault } from './perception-service.js';

const havePocketsphinx = spawnSync('which', ['pocketsphinx_continuous']).status === 0;
const T0 = Date.parse('2026-12-01T22:00:00Z');
const tz = 'America/New_York';

describe.skipIf(!haveAudioTools || !havePocketsphinx)('PerceptionService on real speech, with real VAD, pocketsphinx and SQLite', () => {
  let dir: string;
  let speech: Layout;
  let store: SqliteStore;
  let log: ReturnType<SqliteStore['forDevice']>;
  let heard: HeardUtterance[];
  let faults: PerceptionFault[];
  let batches: number[];
  let now: number;
  let service: PerceptionService;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-perception-'));
    speech = layout([
      { samples: say('i am so happy to see you', { speed: 140, voice: 'en-us' }), silenceBeforeMs: 1200 },
      { samples: say('that was a horrible thing to happen', { speed: 140, voice: 'en-us' }), silenceBeforeMs: 1200 },
    ], 1500);
    store = SqliteStore.open(join(dir, 'hearth.sqlite'));
    log = store.forDevice({ deviceId: 'dev-1', tz, clockSource: 'simulated' });
    log.registerDevice({ hardware: 'test', hearthVersion: '0.1.0' }, T0);
    heard = [];
    faults = [];
    batches = [];
    now = T0;
    service = new PerceptionService({
      now: () => now,
      audio: new PcmAudioSource(speech.samples, { startMs: T0, name: 'espeak fixture' }),
      sink: (s) => { batches.push(s.length); log.recordAffectSamples(s); },
      rawMedia: new RawMediaWriter({ dir: join(dir, 'raw'), consent: NO_RAW_MEDIA, log: () => {} }),
      events: { utterance: (u) => heard.push(u), fault: (f) => faults.push(f) },
      autoTick: false,
    });
    await service.start();
    await service.drained();
  });
  afterAll(async () => {
    await service.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('emits each utterance with its words, timing within 100 ms and recogniser confidence', () => {
    // pocketsphinx is weak on synthetic voices; most words must come through, and the ones carrying valence.
    const said = ['i am so happy to see you', 'that was a horrible thing to happen'];
    expect(heard).toHaveLength(2);
    heard.forEach((u, i) => {
      const words = new Set(u.text.split(' '));
      expect(said[i]!.split(' ').filter((w) => words.has(w)).length / said[i]!.split(' ').length).toBeGreaterThanOrEqual(0.6);
    });
    expect(heard[0]!.text).toContain('happy');
    expect(heard[1]!.text).toContain('horrible');
    heard.forEach((u, i) => {
      expect(Math.abs(u.startedAt - (T0 + speech.speech[i]!.startMs))).toBeLessThanOrEqual(100);
      expect(Math.abs(u.endedAt - (T0 + speech.speech[i]!.endMs))).toBeLessThanOrEqual(100);
      expect(u.decidedAt).toBeGreaterThan(u.endedAt);
      expect(u.confidence!).toBeGreaterThan(0);
      expect(u.engine).toMatch(/^pocketsphinx/);
    });
    expect(faults).toEqual([{ kind: 'audio.ended', source: 'espeak fixture', atMs: T0 }]);
  });

  it('reads valence from the words and arousal from the voice into the fused state', () => {
    expect(heard[0]!.valence!.valence).toBeGreaterThan(0.3);
    expect(heard[1]!.valence!.valence).toBeLessThan(-0.3);
    expect(heard[0]!.arousal).toBeDefined();
    now = T0 + speech.speech[1]!.endMs + 500;
    const s = service.current();
    // The later, negative utterance dominates the smoothed text valence; no face was seen.
    expect(s.valence!).toBeLessThan(0);
    expect(s.arousal).toBeDefined();
    expect(s.sources.face.ageMs).toBeUndefined();
    expect(s.sources.text.ageMs).toBe(now - heard[1]!.endedAt);
    expect(s.confidence).toBeGreaterThan(0);
    expect(s.confidence).toBeLessThan(1);
  });

  it('logs affect samples at most 10 Hz, one batch per second, into the affect_samples table', () => {
    const from = now;
    for (let t = from; t <= from + 3000; t += 20) { now = t; service.tick(t); }
    const rows = log.affectSamples();
    expect(rows.length).toBeGreaterThanOrEqual(28);
    expect(rows.length).toBeLessThanOrEqual(31);
    expect(batches.length).toBe(3);
    expect(batches.every((n) => n >= 9 && n <= 11)).toBe(true);
    const gaps = rows.slice(1).map((r, i) => Date.parse(r.tsUtc) - Date.parse(rows[i]!.tsUtc));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
    expect(rows[0]!.valence).toBeLessThan(0);
    expect(Object.keys(rows[0]!.sources as object)).toEqual(['voice', 'text']);
  });

  it('wrote no raw audio without consent', () => {
    expect(existsSync(join(dir, 'raw'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['hearth.sqlite', 'hearth.sqlite-shm', 'hearth.sqlite-wal'].filter((f) => existsSync(join(dir, f))).sort());
  });
});

/** A live source that fails the way real devices do, driven by a script of attempts, playing real audio. */
class ScriptedDevice implements AudioSource {
  readonly name = 'scripted mic';
  readonly live = true;
  opened = 0;
  constructor(private readonly audio: Int16Array, private readonly script: ('fail-open' | 'play-then-unplug' | 'play-forever')[]) {}
  async *open(signal?: AbortSignal): AsyncIterable<AudioChunk> {
    const step = this.script[Math.min(this.opened++, this.script.length - 1)]!;
    if (step === 'fail-open') throw new AudioSourceError(`${this.name}: no such device`);
    for await (const c of new PcmAudioSource(this.audio, { startMs: Date.now(), realtime: false }).open(signal)) {
      yield c;
      await new Promise((r) => setTimeout(r, 1));
    }
    if (step === 'play-then-unplug') throw new AudioSourceError(`${this.name}: device unplugged`);
    while (!signal?.aborted) await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(!haveAudioTools)('PerceptionService faults', () => {
  it('reports a lost microphone, retries with growing delays, and resumes when it is back', async () => {
    const faults: PerceptionFault[] = [];
    const speeches: string[] = [];
    const audio = layout([{ samples: say('hello there'), silenceBeforeMs: 300 }], 800).samples;
    const device = new ScriptedDevice(audio, ['play-then-unplug', 'fail-open', 'fail-open', 'play-forever']);
    const service = new PerceptionService({
      now: Date.now, audio: device, transcriber: null, retry: { firstMs: 30, maxMs: 1000 }, autoTick: false,
      events: { fault: (f) => faults.push(f), speech: (e) => speeches.push(e.type) },
    });
    await service.start();
    for (let i = 0; i < 300 && service.status().microphone !== 'running' || faults.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    await service.stop();
    const kinds = faults.map((f) => f.kind);
    expect(kinds).toEqual(['microphone.recovered', 'microphone.lost', 'microphone.lost', 'microphone.recovered'].slice(kinds[0] === 'microphone.lost' ? 1 : 0));
    const lost = faults.filter((f): f is Extract<PerceptionFault, { kind: 'microphone.lost' }> => f.kind === 'microphone.lost');
    expect(lost[0]!.reason).toBe('scripted mic: device unplugged');
    expect(lost[1]!.reason).toBe('scripted mic: no such device');
    expect(lost.map((l) => l.retryInMs)).toEqual([30, 60]);
    expect(device.opened).toBe(4);
    // Speech heard before the unplug and after the recovery.
    expect(speeches.filter((s) => s === 'ended').length).toBeGreaterThanOrEqual(2);
    expect(service.status().microphone).toBe('off');
  });

  it('keeps fusing faces when the VAD model fails to load, and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-badmodel-'));
    const bad = join(dir, 'silero_vad.onnx');
    writeFileSync(bad, 'not a model');
    const faults: PerceptionFault[] = [];
    let now = T0;
    const service = new PerceptionService({
      now: () => now, audio: new PcmAudioSource(new Int16Array(16_000)), transcriber: null, autoTick: false,
      loadVad: () => SileroVad.load({ path: bad, sha256: '0'.repeat(64) }),
      events: { fault: (f) => faults.push(f) },
    });
    await service.start();
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatchObject({ kind: 'model.failed', model: 'silero-vad' });
    expect((faults[0] as { reason: string }).reason).toContain(`${bad}: sha256`);
    expect(service.status()).toMatchObject({ microphone: 'failed', vad: 'failed' });
    service.observeFace({ valence: 0.7, arousal: 0.2, confidence: 0.9, atMs: now });
    now += 100;
    expect(service.current().valence).toBeCloseTo(0.7);
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not crash when the affect log fails; keeps the samples for the next batch', async () => {
    let now = T0;
    let failing = true;
    const written: NewAffectSample[] = [];
    const faults: PerceptionFault[] = [];
    const service = new PerceptionService({
      now: () => now, autoTick: false,
      sink: (s) => { if (failing) throw new Error('SQLITE_FULL: database or disk is full'); written.push(...s); },
      events: { fault: (f) => faults.push(f) },
    });
    await service.start();
    for (; now < T0 + 1000; now += 50) { service.observeFace({ valence: 0.5, arousal: 0, confidence: 0.8, atMs: now }); service.tick(now); }
    service.tick(now);
    expect(faults.map((f) => f.kind)).toEqual(['affect_log.failed']);
    failing = false;
    for (; now <= T0 + 2000; now += 50) { service.observeFace({ valence: 0.5, arousal: 0, confidence: 0.8, atMs: now }); service.tick(now); }
    expect(written.length).toBeGreaterThanOrEqual(19);
    expect(written[0]!.atMs).toBe(T0);
    await service.stop();
  });
});

describe('PerceptionService with faces only', () => {
  it('samples at most 10 Hz while a face is seen, then logs one sample at confidence 0 and stops', async () => {
    let now = T0;
    const batches: NewAffectSample[][] = [];
    const service = new PerceptionService({ now: () => now, autoTick: false, sink: (s) => batches.push([...s]), sessionId: () => 's-1' });
    await service.start();
    for (; now < T0 + 3000; now += 10) {
      if ((now - T0) % 33 === 0) service.observeFace({ valence: 0.6, arousal: 0.4, confidence: 0.9, atMs: now });
      service.tick(now);
    }
    for (; now < T0 + 20_000; now += 10) service.tick(now);
    await service.stop();
    const all = batches.flat();
    const whileSeen = all.filter((s) => s.atMs < T0 + 3000);
    expect(whileSeen.length).toBeGreaterThanOrEqual(29);
    expect(whileSeen.length).toBeLessThanOrEqual(30);
    expect(all.every((s) => s.sessionId === 's-1')).toBe(true);
    expect(all.at(-1)!.confidence).toBe(0);
    expect(all.at(-1)!.valence).toBeNull();
    expect(all.filter((s) => s.confidence === 0)).toHaveLength(1);
    // Face stale after 6 s: nothing logged after that.
    expect(all.at(-1)!.atMs).toBeLessThanOrEqual(T0 + 3000 + 6100);
    expect(batches.every((b) => b.length <= 11)).toBe(true);
  });

  it('rejects a face reading outside its range, naming it', () => {
    const service = new PerceptionService({ now: () => T0, autoTick: false });
    expect(() => service.observeFace({ valence: 3, arousal: 0, confidence: 1, atMs: T0 })).toThrow(/face .*valence 3 is outside −1..1/);
  });
});

describe.skipIf(!haveAudioTools)('PerceptionService and the consent gate', () => {
  it('keeps utterance audio only when the participant consented to keeping raw audio', async () => {
    const audio = layout([{ samples: say('first thing'), silenceBeforeMs: 500 }, { samples: say('second thing'), silenceBeforeMs: 1200 }], 1000).samples;
    const run = async (keep: boolean) => {
      const dir = mkdtempSync(join(tmpdir(), 'hearth-rawgate-'));
      const service = new PerceptionService({
        now: () => T0, audio: new PcmAudioSource(audio, { startMs: T0 }), transcriber: null, autoTick: false,
        rawMedia: new RawMediaWriter({ dir: join(dir, 'raw'), consent: rawMediaConsent({ keep_raw_audio: keep }), log: () => {} }),
      });
      await service.start();
      await service.drained();
      await service.stop();
      await new Promise((r) => setTimeout(r, 50));
      const files = existsSync(join(dir, 'raw')) ? readdirSync(join(dir, 'raw', 'audio')) : [];
      rmSync(dir, { recursive: true, force: true });
      return files;
    };
    expect(await run(false)).toEqual([]);
    const kept = await run(true);
    expect(kept).toHaveLength(2);
    expect(kept.every((f) => f.endsWith('-utterance.wav'))).toBe(true);
  });
});

describe('PerceptionService presence (who is in view, for the session)', () => {
  it('passes the camera\'s presence through current() while fresh, and says nothing once it is stale', () => {
    let now = 1_000_000;
    const service = new PerceptionService({ now: () => now, autoTick: false });
    expect(service.current().presence).toBeUndefined();
    service.observePresence({ atMs: now, enrolled: true, participant: 'present', others: 1, spoofs: 0, people: [
      { faceId: 'face1', identity: 'participant', facing: 0.9, engaged: true },
      { faceId: 'face2', identity: 'other', facing: 0.2, engaged: false },
    ] });
    // An older reading arriving late does not replace a newer one.
    service.observePresence({ atMs: now - 500, enrolled: true, participant: 'absent', others: 0, spoofs: 0, people: [] });
    now += 1_500;
    expect(service.current().presence).toMatchObject({ participant: 'present', others: 1, people: [{ faceId: 'face1', engaged: true }, { faceId: 'face2', engaged: false }] });
    now += 600;
    expect(service.current().presence).toBeUndefined();
    expect(service.presence()).toBeUndefined();
  });
});
