import { ANSWER_CALIBRATION, WORD_CALIBRATION } from './asr-calibration.js';
import { answerGrammar, answerPhrase, grammarVocabulary, grammarWords, hedgedGrammar, hedgesOf, type AnswerGrammar } from './answer-grammar.js';
import { POCKETSPHINX_EN_US, SphinxDecoder, type SphinxDecoderOptions, type SphinxResult } from './sphinx-decoder.js';
import type { AnswerAlternative, HeardAnswer, TranscribeHint, Transcriber, Transcript, TranscriptionStream, TranscriptWord } from './transcriber.js';
import { TranscriberError } from './transcriber.js';

export { POCKETSPHINX_EN_US };

/** Options for the offline recogniser. */
export interface PocketsphinxOptions {
  /** Model directory holding `en-us/` (acoustic), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir?: string;
  /** Language model for open speech; default `<modelDir>/en-us.lm.bin`. */
  lm?: string;
  /** Open speech: that model interpolated with this one (see `SphinxDecoderOptions.adaptedLm`). */
  adaptedLm?: { path: string; weight: number };
  /** The decoder helper; default built from perception/audio/native/ (scripts/setup.sh). */
  helper?: string;
  /** More pocketsphinx options for the open pass and for the answer pass. */
  openArgs?: readonly string[];
  answerArgs?: readonly string[];
}

const FRAME_MS = 10;
const PAD_MS = 300;
const PAD_SAMPLES = (PAD_MS * 16_000) / 1000;
/** Silence, sentence marks and noise tokens that are not words. */
const FILLER = /^(<s>|<\/s>|<sil>|\(NULL\)|\[[A-Z_]+\]|\+\+.*\+\+)$/;
const N_BEST = 10;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** A word's lattice posterior as the probability that it is right (calibrated on the benchmark). */
export function wordConfidence(posterior: number): number {
  return sigmoid(WORD_CALIBRATION.a * posterior + WORD_CALIBRATION.b);
}

/** What the answer confidence is computed from (scores per 10-ms frame). */
export interface AnswerFeatures {
  /**
   * (answer path score − open path score) / frames, capped at 10: near or above the open pass when the
   * answer fits the sound (the open pass pays its language model's price; the cap keeps a long sentence,
   * whose open pass pays it many times, from looking like a good answer).
   */
  gap: number;
  /** (best − best other answer in the n-best) / frames, capped at 20; 20 when no other answer came close. */
  margin: number;
  /** 1 when the open pass heard the same answer phrase, else 0. */
  agree: number;
  /** Words the open pass heard beyond the answer's own. */
  extra: number;
  /** 1 when the open pass heard two or more words beyond the answer: a sentence, not an answer. */
  sentence: number;
}

/** The features of an answer pass result against the open pass over the same audio. */
export function answerFeatures(answer: SphinxResult, open: SphinxResult, grammar: AnswerGrammar): AnswerFeatures {
  const frames = Math.max(1, answer.frames);
  const phrase = answerPhrase(answer.hyp, grammar);
  const others = distinctAnswers(answer, grammar).filter((a) => a.text !== phrase);
  const openText = ` ${textOf(open)} `;
  const openWords = textOf(open).split(' ').filter(Boolean).length;
  const extra = Math.max(0, openWords - phrase.split(' ').length);
  return {
    gap: Math.min(10, (answer.score - open.score) / frames),
    margin: others.length ? Math.min(20, (answer.score - others[0]!.score) / frames) : 20,
    agree: openText.includes(` ${phrase} `) ? 1 : 0,
    extra,
    sentence: extra >= 2 ? 1 : 0,
  };
}

/** P(the answer heard is what was said), from its features. */
export function answerConfidence(f: AnswerFeatures): number {
  const w = ANSWER_CALIBRATION.weights;
  return sigmoid(ANSWER_CALIBRATION.bias + w.gap * f.gap + w.margin * f.margin + w.agree * f.agree + w.extra * f.extra + w.sentence * f.sentence);
}

function distinctAnswers(r: SphinxResult, grammar: AnswerGrammar): { text: string; score: number }[] {
  const seen = new Map<string, number>();
  for (const n of [{ hyp: r.hyp, score: r.score }, ...r.nbest]) {
    if (!n.hyp) continue;
    const p = answerPhrase(n.hyp, grammar);
    if (p && !seen.has(p)) seen.set(p, n.score);
  }
  return [...seen].map(([text, score]) => ({ text, score }));
}

const wordOf = (w: string) => w.replace(/\(\d+\)$/, '');
function textOf(r: SphinxResult): string {
  return r.words.map((w) => wordOf(w.word)).filter((w) => !FILLER.test(w)).join(' ');
}

/** The open pass's result as a transcript: words with calibrated confidences, alternatives from its n-best. */
export function openTranscript(r: SphinxResult, engine: string, offsetMs = 0): Transcript {
  const words: TranscriptWord[] = [];
  for (const w of r.words) {
    const word = wordOf(w.word);
    if (FILLER.test(word)) continue;
    words.push({ word, startMs: Math.max(0, w.startFrame * FRAME_MS - offsetMs), endMs: Math.max(0, (w.endFrame + 1) * FRAME_MS - offsetMs), confidence: wordConfidence(w.posterior) });
  }
  const text = words.map((w) => w.word).join(' ');
  const t: Transcript = { text, engine, words };
  if (words.length) t.confidence = words.reduce((n, w) => n + w.confidence!, 0) / words.length;
  const alternatives = [...new Set(r.nbest.map((n) => n.hyp.replace(/<\/?s>|<sil>|\[[A-Z_]+\]/g, ' ').replace(/\(\d+\)/g, '').replace(/\s+/g, ' ').trim()))]
    .filter((h) => h && h !== text).slice(0, 3);
  if (alternatives.length) t.alternatives = alternatives;
  return t;
}

/** The answer pass's result: the phrase heard, its calibrated confidence and the other answers it considered. */
export function heardAnswer(answer: SphinxResult, open: SphinxResult, grammar: AnswerGrammar): HeardAnswer | undefined {
  const phrase = answerPhrase(answer.hyp, grammar);
  if (!phrase) return undefined;
  const f = answerFeatures(answer, open, grammar);
  const confidence = answerConfidence(f);
  const frames = Math.max(1, answer.frames);
  const alternatives: AnswerAlternative[] = distinctAnswers(answer, grammar).filter((a) => a.text !== phrase).slice(0, 4)
    .map((a) => ({ text: a.text, confidence: answerConfidence({ ...f, agree: ` ${textOf(open)} `.includes(` ${a.text} `) ? 1 : 0, margin: Math.max(-20, (a.score - answer.score) / frames) }) }));
  return { text: phrase, confidence, alternatives, evidence: { ...f } };
}

/**
 * One answer from the answer pass and its second, hedged pass. Different answers cannot both be
 * right (one answer was said), so each is at most as likely as the other is wrong: P(b) ≤ 1 − P(a).
 * The likelier stays the answer, the other becomes its first alternative; agreeing passes keep the surer.
 */
export function bothPasses(first: HeardAnswer | undefined, second: HeardAnswer | undefined): HeardAnswer | undefined {
  if (!first || !second) return first ?? second;
  if (first.text === second.text) return first.confidence >= second.confidence ? first : second;
  const capped = (x: HeardAnswer, other: HeardAnswer) => ({ ...x, confidence: Math.min(x.confidence, 1 - other.confidence) });
  const [a, b] = [capped(first, second), capped(second, first)].sort((x, y) => y.confidence - x.confidence) as [HeardAnswer, HeardAnswer];
  const alternatives = [{ text: b.text, confidence: b.confidence }, ...a.alternatives.filter((x) => x.text !== b.text)].slice(0, 4);
  return { ...a, alternatives };
}

/** Faint deterministic noise (≈ −60 dBFS): the recogniser needs some non-speech around a tight cut, and digital silence upsets it. */
function padded(samples: Int16Array): Int16Array {
  const out = new Int16Array(samples.length + 2 * PAD_SAMPLES);
  let seed = 1;
  for (let i = 0; i < out.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    out[i] = ((seed >> 16) % 61) - 30;
  }
  out.set(samples, PAD_SAMPLES);
  return out;
}

/**
 * Offline speech to text with CMU PocketSphinx (Debian `pocketsphinx` + `pocketsphinx-en-us`), in two
 * long-lived decoder processes loaded once: the open pass (the language model: everything said) and,
 * when the question names its accepted answers, an answer pass constrained to them by a JSGF grammar.
 * Both are fed the audio as it arrives (`stream`), so at the end of speech only their final searches
 * are left; they run in parallel on a multi-core device. Audio goes through pipes: nothing on disk.
 * A decoder process that dies is started again, and the utterance it was decoding is decoded again.
 */
export class PocketsphinxTranscriber implements Transcriber {
  readonly name: string;
  private readonly open: SphinxDecoder;
  private readonly answers: SphinxDecoder;
  private readonly grammars = new Map<string, Promise<AnswerGrammar | null>>();

  constructor(options: PocketsphinxOptions = {}) {
    this.name = `pocketsphinx ${options.modelDir ?? POCKETSPHINX_EN_US}`;
    const base: SphinxDecoderOptions = { label: this.name, ...(options.modelDir ? { modelDir: options.modelDir } : {}), ...(options.helper ? { helper: options.helper } : {}) };
    this.open = new SphinxDecoder({ ...base, ...(options.lm ? { lm: options.lm } : {}), ...(options.adaptedLm ? { adaptedLm: options.adaptedLm } : {}), args: options.openArgs ?? [] });
    // A grammar search is small: a wider beam costs little and loses fewer right answers.
    this.answers = new SphinxDecoder({ ...base, lm: null, label: `${this.name} (answers)`, args: options.answerArgs ?? ['-beam', '1e-60', '-wbeam', '1e-50', '-pbeam', '1e-60'] });
  }

  /** The two decoder processes (tests kill them; the benchmark counts restarts). */
  get decoders(): { open: SphinxDecoder; answers: SphinxDecoder } {
    return { open: this.open, answers: this.answers };
  }

  /** Load both models now instead of at the first utterance. */
  async warm(): Promise<void> {
    await Promise.all([this.open.start(), this.answers.start()]);
  }

  async transcribe(samples: Int16Array, signal?: AbortSignal, hint?: TranscribeHint): Promise<Transcript> {
    const s = this.stream(hint, PAD_MS);
    s.push(padded(samples));
    return s.finish(signal);
  }

  stream(hint?: TranscribeHint, offsetMs = 0): TranscriptionStream {
    const grammar = hint?.answers?.length ? this.grammarFor(hint.answers) : Promise.resolve(null);
    const open = new DecoderUtterance(this.open, Promise.resolve(undefined));
    const answers = new DecoderUtterance(this.answers, grammar.then((g) => g?.name ?? null));
    return {
      push: (samples) => { open.push(samples); answers.push(samples); },
      cancel: () => { open.cancel(); answers.cancel(); },
      settled: async () => { await Promise.all([open.settled(), answers.settled()]); },
      finish: async (signal) => {
        if (signal?.aborted) { open.cancel(); answers.cancel(); throw new TranscriberError(`${this.name}: aborted`); }
        const onAbort = () => { open.cancel(); answers.cancel(); };
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          // A failing answer pass must not lose what was said: the open text still goes to the session.
          const [o, answered] = await Promise.all([open.finish(3), Promise.all([answers.finish(N_BEST), grammar]).catch(() => [null, null] as const)]);
          if (signal?.aborted) throw new TranscriberError(`${this.name}: aborted`);
          if (!o) throw new TranscriberError(`${this.name}: the open pass returned nothing`);
          const [a, g] = answered;
          const t = openTranscript(o, this.name, offsetMs);
          let heard = a && g ? heardAnswer(a, o, g) : undefined;
          // The open pass heard a hedge around the answer ("I think …") and not the answer the answer
          // pass heard: decode the utterance again with that hedge in the grammar.
          const hedges = g ? hedgesOf(t.text) : null;
          if (g && hedges && !(heard && ` ${t.text} `.includes(` ${heard.text} `))) {
            const again = await this.hedgedAnswer(g, hedges, o, answers.audio()).catch(() => undefined);
            heard = bothPasses(heard, again);
          }
          if (heard) t.answer = heard;
          return t;
        } finally {
          signal?.removeEventListener('abort', onAbort);
        }
      },
    };
  }

  /**
   * The answer pass again over the whole utterance with `hedges` around the answers, normalised as one
   * block (the decoder has all of it); the answer heard, or undefined.
   */
  private async hedgedAnswer(base: AnswerGrammar, hedges: { lead: string; tail: string }, open: SphinxResult, audio: Int16Array): Promise<HeardAnswer | undefined> {
    if (audio.length === 0) return undefined;
    const g = hedgedGrammar(base, hedges);
    if (!this.answers.hasGrammar(g.name)) await this.answers.setGrammar(g.name, g.jsgf);
    const again = new DecoderUtterance(this.answers, Promise.resolve(g.name), true);
    again.push(audio);
    const r = await again.finish(N_BEST);
    return r ? heardAnswer(r, open, g) : undefined;
  }

  /** The grammar for a set of accepted answers, checked against the dictionary and loaded once. */
  private grammarFor(phrases: readonly string[]): Promise<AnswerGrammar | null> {
    const key = [...new Set(phrases.map(grammarWords))].sort().join('|');
    let g = this.grammars.get(key);
    if (!g) {
      g = (async () => {
        const missing = new Set(await this.answers.missingWords(grammarVocabulary(phrases)));
        const grammar = answerGrammar(phrases, (w) => !missing.has(w));
        if (grammar && !this.answers.hasGrammar(grammar.name)) await this.answers.setGrammar(grammar.name, grammar.jsgf);
        return grammar;
      })();
      g.catch(() => this.grammars.delete(key));
      this.grammars.set(key, g);
    }
    return g;
  }

  async close(): Promise<void> {
    await Promise.all([this.open.close(), this.answers.close()]);
  }
}

/**
 * One utterance on one decoder: audio pushed before the decoder has started the utterance waits, and
 * all of it is kept so that, if the process dies mid-utterance, it is decoded again on the restarted one.
 * Utterances on a decoder run one after another.
 */
class DecoderUtterance {
  private static readonly queues = new WeakMap<SphinxDecoder, Promise<unknown>>();
  private readonly kept: Int16Array[] = [];
  private started = false;
  private cancelled = false;
  private release!: () => void;
  private readonly began: Promise<void>;
  /** The search: a grammar name, `undefined` for the language model, `null` for no pass at all. */
  private search: string | null | undefined = null;

  /** `whole`: the audio is handed over as one block at the start (`SphinxDecoder.feedWhole`), not streamed. */
  constructor(private readonly decoder: SphinxDecoder, search: Promise<string | null | undefined>, private readonly whole = false) {
    const before = DecoderUtterance.queues.get(decoder) ?? Promise.resolve();
    const done = new Promise<void>((r) => { this.release = r; });
    DecoderUtterance.queues.set(decoder, before.then(() => done));
    this.began = (async () => {
      await before;
      this.search = await search;
      if (this.search === null || this.cancelled) return;
      await decoder.begin(this.search);
      this.started = true;
      this.feedKept();
    })();
    this.began.catch(() => undefined);
  }

  push(samples: Int16Array): void {
    if (this.cancelled) return;
    this.kept.push(samples.slice());
    if (this.started) this.decoder.feed(samples);
  }

  /** Everything pushed so far, as one block. */
  audio(): Int16Array {
    const out = new Int16Array(this.kept.reduce((n, s) => n + s.length, 0));
    let at = 0;
    for (const s of this.kept) { out.set(s, at); at += s.length; }
    return out;
  }

  private feedKept(): void {
    if (this.whole) this.decoder.feedWhole(this.audio());
    else for (const s of this.kept) this.decoder.feed(s);
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    void this.began.then(async () => { if (this.started) await this.decoder.cancel(); }, () => undefined).finally(() => this.release());
  }

  /** Resolves once the decoder has taken in every sample pushed so far. */
  async settled(): Promise<void> {
    await this.began.catch(() => undefined);
    if (this.started) await this.decoder.sync();
  }

  /** The result; `null` when this utterance had no pass to run. */
  async finish(nbest: number): Promise<SphinxResult | null> {
    let retried = false;
    const replay = async () => {
      retried = true;
      await this.decoder.begin(this.search ?? undefined);
      this.feedKept();
    };
    try {
      try {
        await this.began;
      } catch (e) {
        // The process died before the utterance began (or could not start): try once more on a new one.
        if (!(e instanceof TranscriberError) || this.search === null) throw e;
        await replay();
      }
      if (this.search === null) return null;
      try {
        return await this.decoder.end(nbest);
      } catch (e) {
        // The process died during the utterance: it restarts on the next call; decode the audio again once.
        if (!(e instanceof TranscriberError) || retried) throw e;
        await replay();
        return await this.decoder.end(nbest);
      }
    } finally {
      this.release();
    }
  }
}
