// npm run bench:asr [-- --calibrate] [--quick] [--adapted-lm] [--memory-only]: offline speech recognition on one core (taskset -c 0), JSON lines.
// Sets: pocketsphinx-testdata (LibriVox, cards, tidigits) with their transcriptions, and survey answers and
// check-in sentences spoken by espeak-ng in several voices and rates. Audio is fed to the recogniser
// straight from memory in 100-ms chunks, laid out as the voice activity stream hands it over: 300 ms
// before the speech and the 600 ms of silence after it that the end-of-utterance decision waits for.
// Then (unless --memory-only) test/bench/asr-pulse.ts plays the answers through PulseAudio in real time.
// Reported: word error rate of open speech; answer accuracy of constrained steps (first pass, and what the
// session would store with its confirmation policy); latency from the end-of-speech decision to the
// transcript (p50/p95), with the decoding done during the speech as a real-time factor.
// --calibrate fits the confidence models (perception/audio/asr-calibration.ts) on the voices of the
// calibration split and reports the evaluation split with the new figures.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptedAnswers, bundledStories, decideAnswer, flaggedLabels, soundsLikeCrisis, SOUNDS_LIKE_THRESHOLD } from '../../behaviors/index.js';
import { CHECKIN_UTTERANCES } from '../fixtures/audio/checkin-utterances.js';
import {
  answerConfidence, buildArpa, grammarWords, PocketsphinxTranscriber, POCKETSPHINX_EN_US, SphinxDecoder, WORD_CALIBRATION as WORD_CALIBRATION_FOR_BENCH,
  type AnswerFeatures, type Transcript,
} from '../../perception/index.js';
import { layout, POCKETSPHINX_TESTDATA, readTestdata, say } from '../fixtures/audio/speech.js';
import { AGREE5, answerSet, isDisclosure, nearMisses, negatives, openSentences, parseFor, pronounce, QUICK_VOICES, safeguardRoute, splitOf, spokenDisclosures, truthOf, VALENCE9, VOICES as ALL_VOICES, YESNO, type Truth } from './asr-sets.js';

const args = new Set(process.argv.slice(2));
const CALIBRATE = args.has('--calibrate');
const QUICK = args.has('--quick');
const VOICES = QUICK ? QUICK_VOICES : ALL_VOICES;
/** --rows FILE: every utterance of the answer sets, for looking at what went wrong. */
const ROWS = process.argv.includes('--rows') ? process.argv[process.argv.indexOf('--rows') + 1] : undefined;
const RATE = 16_000;
const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const pct = (xs: number[], p: number) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! * 10) / 10;
};
const r3 = (x: number) => Math.round(x * 1000) / 1000;

// ---------- word error rate
const norm = (s: string) => s.toLowerCase().replace(/<\/?s>|\([^)]*\)/g, ' ').replace(/[^a-z' ]+/g, ' ').trim().split(/\s+/).filter(Boolean);
function editDistance(a: string[], b: string[]): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) {
    d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length]![b.length]!;
}
/** Words of the hypothesis that are right (aligned to the reference), for word-confidence calibration. */
function rightWords(hyp: string[], ref: string[]): boolean[] {
  const d = Array.from({ length: hyp.length + 1 }, () => Array<number>(ref.length + 1).fill(0));
  for (let i = 0; i <= hyp.length; i++) d[i]![0] = i;
  for (let j = 0; j <= ref.length; j++) d[0]![j] = j;
  for (let i = 1; i <= hyp.length; i++) for (let j = 1; j <= ref.length; j++) {
    d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (hyp[i - 1] === ref[j - 1] ? 0 : 1));
  }
  const ok = Array<boolean>(hyp.length).fill(false);
  let i = hyp.length;
  let j = ref.length;
  while (i > 0 && j > 0) {
    if (d[i]![j] === d[i - 1]![j - 1]! + (hyp[i - 1] === ref[j - 1] ? 0 : 1)) { ok[i - 1] = hyp[i - 1] === ref[j - 1]; i--; j--; }
    else if (d[i]![j] === d[i - 1]![j]! + 1) i--;
    else j--;
  }
  return ok;
}

// ---------- decoding one utterance as the pipeline does
const ps = new PocketsphinxTranscriber();
await ps.warm();

interface Decoded { t: Transcript; latencyMs: number; decodeMs: number; audioMs: number }
async function decode(samples: Int16Array, answers?: readonly string[]): Promise<Decoded> {
  const t0 = performance.now();
  const s = ps.stream(answers ? { answers } : undefined);
  for (let i = 0; i < samples.length; i += RATE / 10) s.push(samples.subarray(i, i + RATE / 10));
  await s.settled!();
  const t1 = performance.now();
  const t = await s.finish();
  return { t, latencyMs: performance.now() - t1, decodeMs: t1 - t0, audioMs: (samples.length * 1000) / RATE };
}
const spoken = (text: string, voice: string, speed: number) => layout([{ samples: say(text, { voice, speed }), silenceBeforeMs: 300 }], 600).samples;
const recorded = (samples: Int16Array) => layout([{ samples, silenceBeforeMs: 0 }], 600).samples;

const wordSamples: { posterior: number; right: boolean }[] = [];
function openStats(name: string, rows: { ref: string; d: Decoded }[], extra: Record<string, unknown> = {}) {
  let errors = 0;
  let words = 0;
  for (const { ref, d } of rows) {
    const h = norm(d.t.text);
    const r = norm(ref);
    errors += editDistance(h, r);
    words += r.length;
    const ok = rightWords(h, r);
    (d.t.words ?? []).forEach((w, i) => {
      // Back from the calibrated figure to the lattice posterior (σ(a·p + b) inverted), to refit.
      const c = Math.min(1 - 1e-9, Math.max(1e-9, w.confidence ?? 0.5));
      wordSamples.push({ posterior: (Math.log(c / (1 - c)) - WORD_CALIBRATION_FOR_BENCH.b) / WORD_CALIBRATION_FOR_BENCH.a, right: ok[i] ?? false });
    });
  }
  const lat = rows.map((r) => r.d.latencyMs);
  emit({
    set: name, kind: 'open', utterances: rows.length, words, wer: r3(errors / Math.max(1, words)),
    latency_ms: { p50: pct(lat, 50), p95: pct(lat, 95), max: pct(lat, 100) },
    audio_s: { mean: r3(rows.reduce((n, r) => n + r.d.audioMs, 0) / rows.length / 1000) },
    rtf: r3(rows.reduce((n, r) => n + r.d.decodeMs, 0) / rows.reduce((n, r) => n + r.d.audioMs, 0)),
    ...extra,
  });
}

// ---------- 1. LibriVox and cards (pocketsphinx-testdata), open speech
const transcriptions = (file: string) => new Map(readFileSync(file, 'utf8').trim().split('\n').map((l) => {
  const m = /^(.*)\(([^)]+)\)\s*$/.exec(l.trim())!;
  return [m[2]!.trim(), m[1]!.replace(/<\/?s>/g, '').trim()] as const;
}));
const libri = transcriptions(join(POCKETSPHINX_TESTDATA, 'librivox/transcription'));
const libriRows: { ref: string; d: Decoded }[] = [];
for (const [id, ref] of libri) libriRows.push({ ref, d: await decode(recorded(readTestdata(join(POCKETSPHINX_TESTDATA, 'librivox', `${id}.wav`)))) });
openStats('librivox', libriRows, { note: 'LibriVox read speech, pocketsphinx-testdata; en-us language model' });
const cards = transcriptions(join(POCKETSPHINX_TESTDATA, 'cards/cards.transcription'));
const cardRows: { ref: string; d: Decoded }[] = [];
for (const [id, ref] of cards) cardRows.push({ ref, d: await decode(recorded(readTestdata(join(POCKETSPHINX_TESTDATA, 'cards', `${id}.wav`)))) });
openStats('cards', cardRows);

// cards through the test data's own grammar, on the same helper (a constrained step of another kind).
{
  const g = new SphinxDecoder({ lm: null, label: 'cards grammar' });
  await g.setGrammar('cards', readFileSync(join(POCKETSPHINX_TESTDATA, 'cards/cards.gram'), 'utf8'));
  let right = 0;
  for (const [id, ref] of cards) {
    await g.begin('cards');
    g.feed(recorded(readTestdata(join(POCKETSPHINX_TESTDATA, 'cards', `${id}.wav`))));
    const r = await g.end();
    if (norm(r.hyp).join(' ') === norm(ref).join(' ')) right++;
  }
  await g.close();
  emit({ set: 'cards', kind: 'constrained', grammar: 'cards.gram (pocketsphinx-testdata)', utterances: cards.size, sentence_accuracy: r3(right / cards.size) });
}

// ---------- 2. tidigits: the test data holds cepstra for its own 8-kHz digits model, not audio
{
  const dir = join(POCKETSPHINX_TESTDATA, 'tidigits');
  const refs = transcriptions(join(dir, 'tidigits.lsn'));
  /** A Sphinx MFCC file: a big-endian count, then that many big-endian floats. */
  const cepstra = (id: string) => {
    const b = readFileSync(join(dir, `${id}.mfc`));
    const f = new Float32Array(b.readInt32BE(0));
    for (let i = 0; i < f.length; i++) f[i] = b.readFloatBE(4 + 4 * i);
    return f;
  };
  /**
   * Two digit grammars, both streamed like the device's answer pass (live normalisation):
   * - `lm/tidigits.fsg`, the test data's own grammar, as pocketsphinx's regression test decodes these
   *   files (its expected output, test-tidigits-fsg.match, is 30 of 31 right). It charges every digit
   *   1/11 to enter and 1/11 to leave, a word-insertion penalty;
   * - a plain JSGF digit loop, which charges only the 1/11 choice, so extra "oh"s and "eight"s cost little;
   * and the test data's digit language model (`lm/tidigits.lm.bin`) in their place.
   */
  const searches: { name: string; decoder: SphinxDecoder; search?: string }[] = [
    { name: 'lm/tidigits.fsg (pocketsphinx-testdata)', decoder: new SphinxDecoder({ hmm: join(dir, 'hmm'), dict: join(dir, 'lm/tidigits.dic'), lm: null, args: ['-fsg', join(dir, 'lm/tidigits.fsg')], label: 'tidigits fsg' }) },
    { name: 'JSGF digit loop ( one | … | zero )+', decoder: new SphinxDecoder({ hmm: join(dir, 'hmm'), dict: join(dir, 'lm/tidigits.dic'), lm: null, label: 'tidigits' }), search: 'digits' },
    { name: 'lm/tidigits.lm.bin (pocketsphinx-testdata)', decoder: new SphinxDecoder({ hmm: join(dir, 'hmm'), dict: join(dir, 'lm/tidigits.dic'), lm: join(dir, 'lm/tidigits.lm.bin'), label: 'tidigits lm' }) },
  ];
  await searches[1]!.decoder.setGrammar('digits', '#JSGF V1.0;\ngrammar digits;\npublic <digits> = ( one | two | three | four | five | six | seven | eight | nine | oh | zero )+;\n');
  // Each set is decoded twice in a row on one decoder. Its live normalisation starts from the model's
  // initial means, so the first pass's first utterances are decoded "cold"; a device's decoder has heard
  // its participant before. The second pass is that warmed state (the normaliser has seen these frames
  // once, unlabelled: mild contamination, reported apart from the cold figure).
  for (const { name, decoder, search } of searches) {
    for (const pass of ['cold', 'warmed'] as const) {
      let right = 0;
      let single = 0;
      let singleRight = 0;
      const wrong: string[] = [];
      for (const [id, ref] of refs) {
        await decoder.begin(search);
        decoder.feedCepstra(cepstra(id));
        const r = await decoder.end();
        const ok = norm(r.hyp).join(' ') === norm(ref).join(' ');
        if (ok) right++;
        else wrong.push(`${id}: ${ref} → ${r.hyp}`);
        if (norm(ref).length === 1) { single++; if (ok) singleRight++; }
      }
      emit({
        set: 'tidigits', kind: 'constrained', grammar: name, pass, utterances: refs.size, sentence_accuracy: r3(right / refs.size), single_digit: { n: single, accuracy: r3(singleRight / Math.max(1, single)) }, wrong,
        note: 'pocketsphinx-testdata tidigits are MFCC files for its 8-kHz TIDIGITS acoustic model (not audio), streamed to the same helper with that model',
      });
    }
    await decoder.close();
  }
  // The one tidigits recording kept as audio, through the device's en-us model and the same kind of grammar.
  const ans = new SphinxDecoder({ lm: null, label: 'en-us digits' });
  await ans.setGrammar('digits', '#JSGF V1.0;\ngrammar digits;\npublic <digits> = ( one | two | three | four | five | six | seven | eight | nine | oh | zero )+;\n');
  await ans.begin('digits');
  ans.feed(recorded(readTestdata(join(dir, 'dhd.2934z.raw'))));
  const r = await ans.end();
  await ans.close();
  emit({ set: 'tidigits-audio', kind: 'constrained', file: 'dhd.2934z.raw', reference: 'two nine three four zero', heard: r.hyp, right: r.hyp === 'two nine three four zero' });
}

// ---------- 3. survey answers spoken by espeak-ng

interface AnswerRow { split: string; voice: string; scaleName: string; said: string; truth: Truth | null; d: Decoded; features?: AnswerFeatures; heard: string | null; openRight: boolean }
const answerRows: AnswerRow[] = [];
for (const [vi, v] of VOICES.entries()) {
  for (const a of answerSet) {
    const d = await decode(spoken(a.said, v.voice, v.speed), acceptedAnswers(a.scale));
    const heard = d.t.answer ? truthOf(d.t.answer.text, a.scale) : null;
    answerRows.push({ split: splitOf(vi), voice: `${v.voice}@${v.speed}`, scaleName: a.scaleName, said: a.said, truth: a.truth, d, features: d.t.answer?.evidence as AnswerFeatures | undefined, heard: heard === null ? null : String(heard), openRight: truthOf(d.t.text, a.scale) === a.truth });
  }
  for (const said of negatives) {
    const d = await decode(spoken(said, v.voice, v.speed), acceptedAnswers(VALENCE9));
    answerRows.push({ split: splitOf(vi), voice: `${v.voice}@${v.speed}`, scaleName: 'valence9', said, truth: null, d, features: d.t.answer?.evidence as AnswerFeatures | undefined, heard: d.t.answer ? String(truthOf(d.t.answer.text, VALENCE9)) : null, openRight: truthOf(d.t.text, VALENCE9) === null });
  }
}

if (ROWS) {
  writeFileSync(ROWS, answerRows.map((r) => JSON.stringify({ voice: r.voice, scale: r.scaleName, said: r.said, truth: r.truth, heard: r.heard, answer: r.d.t.answer?.text, conf: r.d.t.answer?.confidence, open: r.d.t.text, openConf: r.d.t.confidence, features: r.features, alternatives: r.d.t.answer?.alternatives })).join('\n') + '\n');
}

// ---------- calibration (logistic regression by gradient descent on standardised features)
const KEYS = ['gap', 'margin', 'agree', 'extra', 'sentence'] as const;
function fitLogistic(xs: number[][], ys: number[], l2 = 0.01): { bias: number; w: number[] } {
  const k = xs[0]!.length;
  const mean = Array.from({ length: k }, (_, j) => xs.reduce((n, x) => n + x[j]!, 0) / xs.length);
  const sd = Array.from({ length: k }, (_, j) => Math.sqrt(xs.reduce((n, x) => n + (x[j]! - mean[j]!) ** 2, 0) / xs.length) || 1);
  const z = xs.map((x) => x.map((v, j) => (v - mean[j]!) / sd[j]!));
  let b = 0;
  const w = Array<number>(k).fill(0);
  for (let it = 0; it < 4000; it++) {
    let gb = 0;
    const gw = Array<number>(k).fill(0);
    z.forEach((x, i) => {
      const p = 1 / (1 + Math.exp(-(b + x.reduce((n, v, j) => n + v * w[j]!, 0))));
      const e = p - ys[i]!;
      gb += e;
      x.forEach((v, j) => { gw[j]! += e * v; });
    });
    b -= (0.5 * gb) / z.length;
    for (let j = 0; j < k; j++) w[j]! -= 0.5 * (gw[j]! / z.length + l2 * w[j]!);
  }
  // Back to the raw features' scale.
  const raw = w.map((v, j) => v / sd[j]!);
  return { bias: b - raw.reduce((n, v, j) => n + v * mean[j]!, 0), w: raw };
}
let answerModel: ((f: AnswerFeatures) => number) = answerConfidence;
if (CALIBRATE) {
  const fit = answerRows.filter((r) => r.split === 'fit' && r.features);
  const m = fitLogistic(fit.map((r) => KEYS.map((k) => r.features![k])), fit.map((r) => (r.heard !== null && r.heard === String(r.truth) ? 1 : 0)));
  const words = wordSamples;
  const wm = fitLogistic(words.map((s) => [s.posterior]), words.map((s) => (s.right ? 1 : 0)));
  const weights = Object.fromEntries(KEYS.map((k, j) => [k, Math.round(m.w[j]! * 10000) / 10000]));
  answerModel = (f) => 1 / (1 + Math.exp(-(m.bias + KEYS.reduce((n, k, j) => n + m.w[j]! * f[k], 0))));
  const file = join(import.meta.dirname, '../../perception/audio/asr-calibration.ts');
  const src = readFileSync(file, 'utf8')
    .replace(/export const WORD_CALIBRATION = \{[^}]*\};/, `export const WORD_CALIBRATION = { a: ${r3(wm.w[0]!)}, b: ${r3(wm.bias)} };`)
    .replace(/export const ANSWER_CALIBRATION = \{[\s\S]*?\n\};/, `export const ANSWER_CALIBRATION = {\n  bias: ${Math.round(m.bias * 10000) / 10000},\n  weights: ${JSON.stringify(weights).replace(/"/g, '').replace(/,/g, ', ').replace(/:/g, ': ').replace('{', '{ ').replace(/}$/, ' }')},\n};`)
    .replace(/export const CALIBRATION_SOURCE = '[^']*';/, `export const CALIBRATION_SOURCE = 'npm run bench:asr -- --calibrate, ${new Date().toISOString().slice(0, 10)}: ${fit.length} answer passes (espeak-ng, voices ${[...new Set(fit.map((r) => r.voice))].join(' ')}), ${words.length} open-pass words (LibriVox, cards, espeak-ng)';`);
  writeFileSync(file, src);
  emit({ set: 'calibration', answer: { bias: r3(m.bias), weights, n: fit.length }, word: { a: r3(wm.w[0]!), b: r3(wm.bias), n: words.length }, written: 'perception/audio/asr-calibration.ts' });
}

// ---------- answer accuracy and what the session would store
for (const split of CALIBRATE ? ['eval'] : ['fit', 'eval', 'all']) {
  const rows = answerRows.filter((r) => split === 'all' || r.split === split);
  const given = rows.filter((r) => r.truth !== null);
  let firstRight = 0;
  let openRight = 0;
  let stored = 0;
  let storedWrong = 0;
  let confirmed = 0;
  let asked = 0;
  let negativesStored = 0;
  let disclosuresKept = 0;
  let disclosures = 0;
  const briers: number[] = [];
  for (const r of rows) {
    const scale = r.scaleName === 'agree5' ? AGREE5 : r.scaleName === 'yes/no' ? YESNO : VALENCE9;
    const ans = r.d.t.answer && r.features ? { ...r.d.t.answer, confidence: answerModel(r.features) } : r.d.t.answer;
    const decision = decideAnswer({ text: r.d.t.text, ...(r.d.t.confidence !== undefined ? { confidence: r.d.t.confidence } : {}), ...(ans ? { answer: ans } : {}) }, parseFor(scale));
    const value = decision.kind === 'unclear' ? null : String(decision.answer.kind === 'value' ? decision.answer.value : 'skip');
    const right = r.truth !== null && value === String(r.truth);
    if (r.truth !== null) {
      if (r.heard === String(r.truth)) firstRight++;
      if (r.openRight) openRight++;
      if (ans) briers.push((ans.confidence - (r.heard === String(r.truth) ? 1 : 0)) ** 2);
    }
    // The participant answers a confirmation truthfully: a wrong answer said back is refused, then asked again.
    if (decision.kind === 'accept') { stored++; if (!right) { storedWrong++; if (r.truth === null) negativesStored++; } }
    else if (decision.kind === 'confirm') { confirmed++; if (right) stored++; }
    else asked++;
    if (r.truth === null && isDisclosure(r.said)) {
      disclosures++;
      if (flaggedLabels({ direction: 'input', text: r.d.t.text, context: {} }).length > 0) disclosuresKept++;
    }
  }
  const lat = given.map((r) => r.d.latencyMs);
  const perVoice: Record<string, number> = {};
  for (const v of new Set(given.map((r) => r.voice))) {
    const g = given.filter((r) => r.voice === v);
    perVoice[v] = r3(g.filter((r) => r.heard === String(r.truth)).length / g.length);
  }
  emit({
    set: 'espeak-answers', kind: 'constrained', split, utterances: rows.length, answers_given: given.length, not_answers: rows.length - given.length,
    first_pass_accuracy: r3(firstRight / given.length), open_pass_only_accuracy: r3(openRight / given.length),
    session: { stored_correct: r3((stored - storedWrong) / given.length), stored_wrong: storedWrong, not_answers_stored: negativesStored, confirmed_by_voice: confirmed, asked_again: asked },
    disclosures_flagged_by_safeguards: `${disclosuresKept}/${disclosures}`,
    brier: briers.length ? r3(briers.reduce((a, b) => a + b, 0) / briers.length) : null,
    latency_ms: { p50: pct(lat, 50), p95: pct(lat, 95), max: pct(lat, 100) },
    rtf: r3(given.reduce((n, r) => n + r.d.decodeMs, 0) / given.reduce((n, r) => n + r.d.audioMs, 0)),
    per_voice_first_pass: perVoice,
  });
}

// ---------- 4. open check-in speech by espeak-ng (WER, and 5-second utterances' latency)
const openRows: { ref: string; d: Decoded }[] = [];
for (const v of VOICES.slice(0, QUICK ? 2 : 4)) for (const s of openSentences) openRows.push({ ref: s, d: await decode(spoken(s, v.voice, v.speed)) });
openStats('espeak-open', openRows, { voices: VOICES.slice(0, QUICK ? 2 : 4).map((v) => `${v.voice}@${v.speed}`) });
// ---------- 5. what the safeguards see of spoken disclosures, and of everything else said
// The session's screening (safeguardRoute, asr-sets.ts): the input rules on the open text; a clarifying
// question when an unsure utterance has a flagged other reading, or when it sounds like a crisis phrase
// (behaviors/safeguards/sounds-like.ts). Disclosures: the two of the answer set in every voice, and
// spokenDisclosures (20, never tuned on) in four voices; near misses (10) in the same four; benign: every
// other utterance of this benchmark. The sound-alike threshold's false-alarm curve on benign text
// (story library and lm/checkin.txt sentences the rules do not flag) is what the threshold was chosen on.
{
  const heardOf = (d: Decoded) => ({ text: d.t.text, ...(d.t.confidence !== undefined ? { confidence: d.t.confidence } : {}), ...(d.t.answer ? { answer: d.t.answer } : {}), ...(d.t.alternatives ? { alternatives: d.t.alternatives } : {}) });
  const fourVoices = VOICES.slice(0, QUICK ? 2 : 4);
  const said = async (texts: readonly string[]) => {
    const out: { text: string; voice: string; heard: ReturnType<typeof heardOf> }[] = [];
    for (const v of fourVoices) for (const text of texts) out.push({ text, voice: `${v.voice}@${v.speed}`, heard: heardOf(await decode(spoken(text, v.voice, v.speed))) });
    return out;
  };
  const disclosures = [...answerRows.filter((r) => r.truth === null && isDisclosure(r.said)).map((r) => ({ text: r.said, voice: r.voice, heard: heardOf(r.d) })), ...await said(spokenDisclosures)];
  const near = await said(nearMisses);
  const benign = [...answerRows.filter((r) => r.truth === null && !isDisclosure(r.said)).map((r) => heardOf(r.d)), ...[...openRows, ...libriRows, ...cardRows].map((r) => heardOf(r.d))];
  const routes = (xs: ReturnType<typeof heardOf>[]) => {
    const r = xs.map((x) => safeguardRoute(x));
    return { of: xs.length, flagged: r.filter((x) => x === 'flagged').length, clarify_other_reading: r.filter((x) => x === 'clarify').length, clarify_sounds_like: r.filter((x) => x === 'sounds-like').length };
  };
  const typed = spokenDisclosures.filter((t) => flaggedLabels({ direction: 'input', text: t, context: {} }).length > 0).length;
  emit({ set: 'safeguards-on-speech', what: 'disclosures', typed_flagged: `${typed}/${spokenDisclosures.length}`, spoken: routes(disclosures.map((d) => d.heard)) });
  emit({ set: 'safeguards-on-speech', what: 'near misses (false alarms)', spoken: routes(near.map((d) => d.heard)) });
  emit({ set: 'safeguards-on-speech', what: 'benign utterances of this benchmark (false alarms)', spoken: routes(benign) });
  if (ROWS) writeFileSync(`${ROWS}.disclosures`, [...disclosures, ...near].map((d) => JSON.stringify({ said: d.text, voice: d.voice, route: safeguardRoute(d.heard), ...d.heard })).join('\n') + '\n');
  const benignText = [...bundledStories().flatMap((st) => st.paragraphs.join(' ').split(/(?<=[.!?])\s+/)),
    ...readFileSync(join(import.meta.dirname, '../../perception/audio/lm/checkin.txt'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'))]
    .filter((t) => flaggedLabels({ direction: 'input', text: t, context: {} }).length === 0);
  const nearest = benignText.map((t) => soundsLikeCrisis(t, pronounce, { threshold: Infinity })?.distance ?? Infinity);
  emit({
    set: 'sounds-like-threshold', benign_sentences: benignText.length, chosen: SOUNDS_LIKE_THRESHOLD,
    false_alarm_rate: Object.fromEntries([0.1, 0.15, 0.2, 0.25, 0.3].map((th) => [th, r3(nearest.filter((d) => d <= th).length / nearest.length)])),
  });
}

const five = [...libriRows, ...openRows].filter((r) => r.d.audioMs >= 4000);
emit({ set: 'open-4s-plus', kind: 'latency', utterances: five.length, latency_ms: { p50: pct(five.map((r) => r.d.latencyMs), 50), p95: pct(five.map((r) => r.d.latencyMs), 95) } });

// ---------- 6. --adapted-lm: does an adapted language model lower open-speech WER? (issue 14.3)
// A trigram model (perception/audio/ngram-lm.ts, Witten–Bell) of the story library and
// perception/audio/lm/checkin.txt (check-in speech written for it, none of it a benchmark sentence),
// interpolated with en-us by the decoder helper at several weights; WER on LibriVox, the espeak-ng
// check-in sentences above and the 34 of bench:voice (test/fixtures/audio/checkin-utterances.ts), fed
// from memory as above. Weight 0 is the general model alone.
if (args.has('--adapted-lm')) {
  const stories = bundledStories().flatMap((st) => st.paragraphs.join(' ').split(/(?<=[.!?])\s+/));
  const checkin = readFileSync(join(import.meta.dirname, '../../perception/audio/lm/checkin.txt'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const built = buildArpa([...stories, ...checkin], { known: (w) => pronounce(w) !== undefined });
  const arpa = join(tmpdir(), `hearth-adapted-${process.pid}.arpa`);
  writeFileSync(arpa, built.arpa);
  const sets = {
    librivox: [...libri].map(([id, ref]) => ({ ref, samples: recorded(readTestdata(join(POCKETSPHINX_TESTDATA, 'librivox', `${id}.wav`))) })),
    'espeak-open': VOICES.slice(0, QUICK ? 2 : 4).flatMap((v) => openSentences.map((ref) => ({ ref, samples: spoken(ref, v.voice, v.speed) }))),
    'checkin-34': CHECKIN_UTTERANCES.map((u) => ({ ref: u.text, samples: layout([{ samples: say(u.text, u.voice), silenceBeforeMs: 300 }], 600).samples })),
  };
  for (const weight of [0, 0.2, 0.5]) {
    const t = new PocketsphinxTranscriber(weight > 0 ? { adaptedLm: { path: arpa, weight } } : {});
    const wer: Record<string, number> = {};
    for (const [name, items] of Object.entries(sets)) {
      let errors = 0;
      let words = 0;
      for (const it of items) {
        const st = t.stream();
        for (let i = 0; i < it.samples.length; i += RATE / 10) st.push(it.samples.subarray(i, i + RATE / 10));
        const h = norm((await st.finish()).text);
        errors += editDistance(h, norm(it.ref));
        words += norm(it.ref).length;
      }
      wer[name] = r3(errors / words);
    }
    await t.close();
    emit({ set: 'adapted-lm', weight, wer, corpus: { sentences: stories.length + checkin.length, ngrams: built.counts }, note: weight === 0 ? 'en-us alone' : 'en-us interpolated with the adapted trigram model' });
  }
  rmSync(arpa, { force: true });
}

emit({
  set: 'summary', engine: `pocketsphinx ${POCKETSPHINX_EN_US} (hearth-sphinx helper, persistent)`, decoder_starts: { open: ps.decoders.open.starts, answers: ps.decoders.answers.starts },
  rss_mb: Math.round(process.memoryUsage().rss / 1e6), loadavg: loadavg().map((x) => Math.round(x * 100) / 100), grammar_example: grammarWords('Strongly agree, 4/5!'),
});
await ps.close();

// ---------- 7. the answers again, through the real audio path (its own process, same core)
if (!args.has('--memory-only')) {
  const child = spawn(process.execPath, [...process.execArgv, join(import.meta.dirname, 'asr-pulse.ts')], { stdio: 'inherit' });
  const code = await new Promise<number | null>((ok) => child.once('exit', ok));
  if (code !== 0) process.exitCode = code ?? 1;
}
