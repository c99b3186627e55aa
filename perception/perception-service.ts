import { backoffDelay, sleep, type NewAffectSample } from '../data/index.js';
import { ArousalEstimator, type ArousalEstimate } from './audio/arousal.js';
import { PocketsphinxTranscriber } from './audio/pocketsphinx-transcriber.js';
import { prosodyFeatures, type ProsodyFeatures } from './audio/prosody.js';
import type { SegmenterOptions } from './audio/segmenter.js';
import { SileroVad } from './audio/silero-vad.js';
import { textValence, type TextValence } from './audio/text-valence.js';
import type { HeardAnswer, TranscribeHint, Transcriber, TranscriptionStream, TranscriptWord } from './audio/transcriber.js';
import { AUDIO_SAMPLE_RATE, AudioSourceError, type AudioChunk, type AudioSource } from './audio/audio-source.js';
import { VoiceActivityStream, type SpeechSegment, type VoiceActivityEvent } from './audio/voice-activity.js';
import type { RawMediaWriter } from './consent-gate.js';
import { AFFECT_SOURCES, type AffectState } from './fusion/affect.js';
import { AffectFusion } from './fusion/fusion.js';
import type { Presence } from './camera/presence.js';

/** A presence reading older than this says nothing about who is there now (the camera stalled or stopped). */
export const PRESENCE_STALE_MS = 2_000;

/** What `current()` gives behaviours: the fused affect, and who is in view when the camera recognises faces. */
export type PerceivedState = AffectState & {
  /** Undefined without recognition, or when the last reading is older than `PRESENCE_STALE_MS`. */
  presence?: Presence;
};

/** A face pipeline's reading of one face (e.g. the participant's), shaped like hri_msgs/Expression. */
export interface FaceObservation {
  valence: number;
  arousal: number;
  confidence: number;
  /** Epoch ms of the frame. */
  atMs: number;
}

/** Something the participant said, with timing, recogniser confidence and the affect read from it. */
export interface HeardUtterance {
  text: string;
  /** Epoch ms speech started and ended (from the audio's own timeline). */
  startedAt: number;
  endedAt: number;
  /** When the end of speech was known: `endedAt` + the closing silence. */
  decidedAt: number;
  /** Recogniser confidence 0..1 when it gives one. */
  confidence?: number;
  engine: string;
  /** Words with their timing and confidence, when the recogniser gives them. */
  words?: TranscriptWord[];
  /** Other readings of the text, best first (the safeguards read these too). */
  alternatives?: string[];
  /** What a pass constrained to the question's accepted answers heard, when the question named them. */
  answer?: HeardAnswer;
  /** ms from the end-of-speech decision to the transcript (decoding left after the speech). */
  transcribeMs?: number;
  prosody: ProsodyFeatures;
  /** Arousal from the voice, when there was voiced speech. */
  arousal?: ArousalEstimate;
  /** Valence from the words. */
  valence?: TextValence;
}

/** A device or model fault, or its recovery. Perception keeps running degraded through all of them. */
export type PerceptionFault =
  | { kind: 'microphone.lost'; source: string; reason: string; retryInMs: number; attempt: number; atMs: number }
  | { kind: 'microphone.recovered'; source: string; downMs: number; atMs: number }
  | { kind: 'audio.ended'; source: string; atMs: number }
  | { kind: 'model.failed'; model: string; reason: string; atMs: number }
  | { kind: 'transcriber.failed'; engine: string; reason: string; atMs: number }
  | { kind: 'affect_log.failed'; reason: string; dropped: number; atMs: number }
  | { kind: 'raw_media.failed'; reason: string; atMs: number };

/** Callbacks the service calls. All optional; none may throw (a throw is caught and ignored). */
export interface PerceptionEvents {
  /** Voice activity: the participant started speaking (after `minSpeechMs`), or stopped. */
  speech?(e: { type: 'started'; atMs: number } | { type: 'ended'; startedAt: number; endedAt: number; decidedAt: number }): void;
  /** A transcribed utterance (not called for empty transcripts). */
  utterance?(u: HeardUtterance): void;
  fault?(f: PerceptionFault): void;
}

/** Where the microphone pipeline stands. */
export type MicrophoneStatus = 'off' | 'starting' | 'running' | 'lost' | 'ended' | 'failed';

/** A snapshot for logs and `hearth status`. */
export interface PerceptionStatus {
  microphone: MicrophoneStatus;
  vad: 'not loaded' | 'loaded' | 'failed';
  /** Last fault's description, if any. */
  lastFault?: string;
  utterances: number;
  samplesLogged: number;
  samplesPending: number;
}

/** How to build and run the perception service. */
export interface PerceptionServiceOptions {
  /** The runtime's clock (epoch ms). The only source of time for sampling and fusion queries. */
  now: () => number;
  /** Microphone (or file); without it only faces are fused. */
  audio?: AudioSource;
  /** Loads the VAD; default the Silero model from npm, hash-checked. */
  loadVad?: () => Promise<SileroVad>;
  /** Speech to text; default offline pocketsphinx; `null` for none. */
  transcriber?: Transcriber | null;
  /**
   * What the robot is listening for, asked when speech starts: the accepted answers of the question
   * being asked, so the recogniser can run a constrained pass beside the open one.
   */
  expectation?: () => TranscribeHint | undefined;
  /** The service's own clock for latency figures (default `performance.now`). */
  monotonicMs?: () => number;
  /** VAD segmentation, and `contextMs` of audio around each utterance given to the recogniser (default 300). */
  segmenter?: SegmenterOptions & { contextMs?: number };
  /** The speaker's prosody baseline (persist `arousal.baseline` across sessions). */
  arousal?: ArousalEstimator;
  fusion?: AffectFusion;
  /** Writes affect samples, e.g. `deviceLog.recordAffectSamples.bind(deviceLog)`; one call per batch. */
  sink?: (samples: readonly NewAffectSample[]) => void;
  /** Session the samples belong to, asked at each sample. */
  sessionId?: () => string | null;
  /** Keeps utterance audio when, and only when, consent allows. */
  rawMedia?: RawMediaWriter;
  events?: PerceptionEvents;
  /** Sample the fused state at most this often; default 100 ms (10 Hz). */
  sampleEveryMs?: number;
  /** Write pending samples this often, in one batch; default 1000 ms. */
  flushEveryMs?: number;
  /** Reconnect delays: doubling from `firstMs` up to `maxMs`. Default 1 s … 30 s. */
  retry?: { firstMs?: number; maxMs?: number };
  /** Run the sampling timer; default true. Tests turn it off and call `tick()`. */
  autoTick?: boolean;
}

/** Samples kept for the sink when it fails, at most (one minute at 10 Hz). */
const MAX_PENDING = 600;
const r3 = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 1000) / 1000);

/**
 * Runs perception: audio → VAD → utterances → speech to text, prosody and text valence; face
 * observations pushed in by the camera pipeline; all fused into one affect state. Logs affect samples
 * (≤ 10 Hz, batched) and reports utterances and faults through callbacks. A missing or failing
 * microphone or model never stops it: it reports, degrades, retries with backoff and resumes.
 */
export class PerceptionService {
  private readonly fusion: AffectFusion;
  private readonly arousal: ArousalEstimator;
  private readonly transcriber: Transcriber | null;
  private readonly sampleEveryMs: number;
  private readonly flushEveryMs: number;
  private abort: AbortController | undefined;
  private audioLoop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private transcribing: Promise<void> = Promise.resolve();
  /** Recent audio, for the moments before speech was confirmed (the recogniser hears the onset too). */
  private recent: AudioChunk[] = [];
  /** The utterance being decoded while it is spoken. */
  private live: { stream: TranscriptionStream; hinted: boolean } | null = null;
  private vad: SileroVad | undefined;
  private mic: MicrophoneStatus = 'off';
  private vadState: PerceptionStatus['vad'] = 'not loaded';
  private lastFault: string | undefined;
  private lostAtMs: number | undefined;
  private pending: NewAffectSample[] = [];
  private lastSampleMs = -Infinity;
  private lastFlushMs: number | undefined;
  private lastLoggedConfidence = 0;
  private logged = 0;
  private utterances = 0;
  private lastPresence: Presence | undefined;

  constructor(private readonly options: PerceptionServiceOptions) {
    this.fusion = options.fusion ?? new AffectFusion();
    this.arousal = options.arousal ?? new ArousalEstimator();
    this.transcriber = options.transcriber === undefined ? new PocketsphinxTranscriber() : options.transcriber;
    this.sampleEveryMs = options.sampleEveryMs ?? 100;
    this.flushEveryMs = options.flushEveryMs ?? 1000;
  }

  /** Start listening (if there is an audio source) and sampling. Resolves once the VAD is loaded or has failed. */
  async start(): Promise<void> {
    if (this.abort) return;
    this.abort = new AbortController();
    if (this.options.autoTick ?? true) {
      this.timer = setInterval(() => this.tick(), this.sampleEveryMs);
      this.timer.unref();
    }
    if (!this.options.audio) return;
    this.mic = 'starting';
    try {
      this.vad = await (this.options.loadVad ?? (() => SileroVad.load()))();
      this.vadState = 'loaded';
    } catch (e) {
      this.vadState = 'failed';
      this.mic = 'failed';
      this.emitFault({ kind: 'model.failed', model: 'silero-vad', reason: (e as Error).message, atMs: this.options.now() });
      return;
    }
    this.audioLoop = this.runAudio(this.options.audio, this.vad, this.abort.signal);
  }

  /** Resolves when a non-live source has been read to its end and every utterance transcribed. */
  async drained(): Promise<void> {
    await this.audioLoop;
    let last: Promise<void> | undefined;
    while (last !== this.transcribing) {
      last = this.transcribing;
      await last;
    }
  }

  /** Stop listening, wait for transcriptions in flight, and write the samples still pending. */
  async stop(): Promise<void> {
    if (!this.abort) return;
    this.abort.abort();
    this.live?.stream.cancel();
    this.live = null;
    if (this.timer) clearInterval(this.timer);
    await this.audioLoop;
    await this.transcribing;
    await this.vad?.release();
    this.vad = undefined;
    this.abort = undefined;
    if (this.mic !== 'failed') this.mic = 'off';
    this.flush();
  }

  /** The fused affect state now, with who is in view (see `presence()`). */
  current(): PerceivedState {
    const state: PerceivedState = this.fusion.stateAt(this.options.now());
    const presence = this.presence();
    if (presence) state.presence = presence;
    return state;
  }

  /** Feed who the camera sees in a frame (`presenceOf(result, atMs, enrolled)`). */
  observePresence(p: Presence): void {
    if (!this.lastPresence || p.atMs >= this.lastPresence.atMs) this.lastPresence = p;
  }

  /** The latest presence reading, or undefined when there is none or it is stale (older than 2 s). */
  presence(): Presence | undefined {
    const p = this.lastPresence;
    if (!p || this.options.now() - p.atMs > PRESENCE_STALE_MS) return undefined;
    return { ...p, people: p.people.map((x) => ({ ...x })) };
  }

  /** Feed a face reading from the camera pipeline. Throws RangeError on values outside their ranges. */
  observeFace(o: FaceObservation): void {
    this.fusion.observe({ source: 'face', valence: o.valence, arousal: o.arousal, confidence: o.confidence, atMs: o.atMs });
  }

  /** Where things stand. */
  status(): PerceptionStatus {
    const s: PerceptionStatus = { microphone: this.mic, vad: this.vadState, utterances: this.utterances, samplesLogged: this.logged, samplesPending: this.pending.length };
    if (this.lastFault) s.lastFault = this.lastFault;
    return s;
  }

  /** Sample the fused state (at most every `sampleEveryMs`) and write a batch every `flushEveryMs`. */
  tick(nowMs = this.options.now()): void {
    if (nowMs - this.lastSampleMs >= this.sampleEveryMs) {
      const state = this.fusion.stateAt(nowMs);
      // Log while anything is known, plus the one sample where it stops being known; not a month of zeros.
      if (state.confidence > 0 || this.lastLoggedConfidence > 0) {
        this.pending.push(this.toSample(state));
        this.lastLoggedConfidence = state.confidence;
        this.lastSampleMs = nowMs;
      }
    }
    this.lastFlushMs ??= nowMs;
    if (nowMs - this.lastFlushMs >= this.flushEveryMs) this.flush(nowMs);
  }

  /** Write pending samples now, in one batch. */
  flush(nowMs = this.options.now()): void {
    this.lastFlushMs = nowMs;
    if (!this.options.sink || this.pending.length === 0) {
      if (!this.options.sink) this.pending = [];
      return;
    }
    try {
      this.options.sink(this.pending);
      this.logged += this.pending.length;
      this.pending = [];
    } catch (e) {
      // Keep them for the next try, but bounded: the oldest go first.
      const dropped = Math.max(0, this.pending.length - MAX_PENDING);
      if (dropped) this.pending.splice(0, dropped);
      this.emitFault({ kind: 'affect_log.failed', reason: (e as Error).message, dropped, atMs: nowMs });
    }
  }

  private toSample(s: AffectState): NewAffectSample {
    const sources: Record<string, unknown> = {};
    for (const k of AFFECT_SOURCES) {
      const c = s.sources[k];
      if (c.ageMs === undefined) continue;
      sources[k] = { v: r3(c.valence), a: r3(c.arousal), c: r3(c.confidence), w: { v: r3(c.share.valence), a: r3(c.share.arousal) }, age_ms: Math.round(c.ageMs), stale: c.stale };
    }
    return {
      atMs: s.atMs,
      sessionId: this.options.sessionId?.() ?? null,
      valence: r3(s.valence) ?? null,
      arousal: r3(s.arousal) ?? null,
      label: s.label ?? null,
      confidence: r3(s.confidence)!,
      sources,
    };
  }

  private async runAudio(source: AudioSource, vad: SileroVad, signal: AbortSignal): Promise<void> {
    const voice = new VoiceActivityStream(vad, this.options.segmenter);
    const policy = { baseMs: this.options.retry?.firstMs ?? 1000, maxMs: this.options.retry?.maxMs ?? 30_000 };
    let attempt = 0;
    let lastReason = '';
    while (!signal.aborted) {
      voice.reset();
      try {
        for await (const chunk of source.open(signal)) {
          if (this.mic !== 'running') this.resumed(source);
          attempt = 0;
          lastReason = '';
          const events = await voice.push(chunk);
          this.remember(chunk);
          // Speech already under way is decoded as it arrives; a start in this chunk takes it from `recent`.
          if (this.live && !events.some((e) => e.type === 'speech.started')) this.live.stream.push(chunk.samples);
          this.handle(events);
          if (signal.aborted) break;
        }
        this.handle(voice.flush());
        if (signal.aborted) return;
        if (!source.live) {
          this.mic = 'ended';
          this.emitFault({ kind: 'audio.ended', source: source.name, atMs: this.options.now() });
          return;
        }
        throw new AudioSourceError(`${source.name}: audio stream ended unexpectedly`);
      } catch (e) {
        if (signal.aborted) return;
        // Keep what was said before the device went away.
        this.handle(voice.flush());
        attempt++;
        const retryInMs = backoffDelay(attempt, policy);
        const reason = (e as Error).message;
        if (this.mic !== 'lost') this.lostAtMs = this.options.now();
        this.mic = 'lost';
        // Report the loss and every change of reason; repeated identical failures only back off.
        if (reason !== lastReason) this.emitFault({ kind: 'microphone.lost', source: source.name, reason, retryInMs, attempt, atMs: this.options.now() });
        lastReason = reason;
        await sleep(retryInMs, signal);
      }
    }
  }

  private resumed(source: AudioSource): void {
    if (this.mic === 'lost') {
      const atMs = this.options.now();
      this.emitFault({ kind: 'microphone.recovered', source: source.name, downMs: atMs - (this.lostAtMs ?? atMs), atMs });
    }
    this.mic = 'running';
  }

  /** Keep about two seconds of audio: enough for the recogniser's context before a confirmed start. */
  private remember(chunk: AudioChunk): void {
    this.recent.push(chunk);
    let total = this.recent.reduce((n, c) => n + c.samples.length, 0);
    while (this.recent.length > 1 && total - this.recent[0]!.samples.length >= 2 * AUDIO_SAMPLE_RATE) total -= this.recent.shift()!.samples.length;
  }

  /** Start decoding an utterance now, from `contextMs` before it started, if the recogniser streams. */
  private beginLive(atMs: number): void {
    this.live?.stream.cancel();
    this.live = null;
    const t = this.transcriber;
    if (!t?.stream) return;
    let hint: TranscribeHint | undefined;
    try { hint = this.options.expectation?.(); } catch { hint = undefined; }
    const stream = t.stream(hint);
    const from = atMs - (this.options.segmenter?.contextMs ?? 300);
    for (const c of this.recent) {
      const skip = Math.max(0, Math.round(((from - c.atMs) * AUDIO_SAMPLE_RATE) / 1000));
      if (skip < c.samples.length) stream.push(skip > 0 ? c.samples.subarray(skip) : c.samples);
    }
    this.live = { stream, hinted: Boolean(hint?.answers?.length) };
  }

  private handle(events: VoiceActivityEvent[]): void {
    for (const e of events) {
      if (e.type === 'speech.started') {
        this.beginLive(e.atMs);
        this.call(() => this.options.events?.speech?.({ type: 'started', atMs: e.atMs }));
        continue;
      }
      const seg = e.segment;
      this.call(() => this.options.events?.speech?.({ type: 'ended', startedAt: seg.startMs, endedAt: seg.endMs, decidedAt: seg.decidedAtMs }));
      this.onSegment(seg);
    }
  }

  private onSegment(seg: SpeechSegment): void {
    const prosody = prosodyFeatures(seg.samples);
    const arousal = this.arousal.estimate(prosody);
    this.arousal.learn(prosody);
    if (arousal && arousal.confidence > 0) {
      this.fusion.observe({ source: 'voice', arousal: arousal.arousal, confidence: arousal.confidence, atMs: seg.endMs });
    }
    if (this.options.rawMedia) {
      this.options.rawMedia.writeAudio(seg).catch((err: Error) =>
        this.emitFault({ kind: 'raw_media.failed', reason: err.message, atMs: this.options.now() }));
    }
    const transcriber = this.transcriber;
    const live = this.live;
    this.live = null;
    if (!transcriber) return;
    const clock = this.options.monotonicMs ?? (() => performance.now());
    const decidedAt = clock();
    // A question asked after the speech began (an early answer) still gets its constrained pass: decoded whole.
    let hint: TranscribeHint | undefined;
    try { hint = this.options.expectation?.(); } catch { hint = undefined; }
    const whole = !live || (!live.hinted && Boolean(hint?.answers?.length));
    if (whole) live?.stream.cancel();
    const pending = whole ? null : live!.stream.finish(this.abort?.signal);
    pending?.catch(() => undefined);
    // One transcription at a time, in order, so text observations reach fusion in time order.
    this.transcribing = this.transcribing.then(async () => {
      try {
        const t = pending ? await pending : await transcriber.transcribe(seg.withContext, this.abort?.signal, hint);
        const transcribeMs = clock() - decidedAt;
        if (!t.text && !t.answer) return;
        const valence = textValence(t.text, t.confidence ?? 1);
        if (valence && valence.confidence > 0) {
          this.fusion.observe({ source: 'text', valence: valence.valence, confidence: valence.confidence, atMs: seg.endMs });
        }
        const u: HeardUtterance = { text: t.text, startedAt: seg.startMs, endedAt: seg.endMs, decidedAt: seg.decidedAtMs, engine: t.engine, prosody, transcribeMs };
        if (t.confidence !== undefined) u.confidence = t.confidence;
        if (t.words?.length) u.words = t.words;
        if (t.alternatives?.length) u.alternatives = t.alternatives;
        if (t.answer) u.answer = t.answer;
        if (arousal) u.arousal = arousal;
        if (valence) u.valence = valence;
        this.utterances++;
        this.call(() => this.options.events?.utterance?.(u));
      } catch (err) {
        if (this.abort?.signal.aborted) return;
        this.emitFault({ kind: 'transcriber.failed', engine: transcriber.name, reason: (err as Error).message, atMs: this.options.now() });
      }
    });
  }

  private emitFault(f: PerceptionFault): void {
    this.lastFault = 'reason' in f ? `${f.kind}: ${f.reason}` : f.kind;
    this.call(() => this.options.events?.fault?.(f));
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch {
      // A listener's bug must not stop perception.
    }
  }
}
