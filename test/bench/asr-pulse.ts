// bench:asr, second part — survey answers through the real audio path, one core (taskset -c 0), JSON lines.
// The espeak-ng answer set of test/bench/asr.ts (asr-sets.ts), in the voices of its evaluation split
// (those the confidence calibration did not fit on), played in real time into a PulseAudio null sink
// carrying faint room noise; the device's microphone path records that sink's monitor (LpcmMicrophone →
// arecord -D pulse, the echo gate), the perception service segments it (Silero VAD) and transcribes it
// with the question's accepted answers (its `expectation`), as in a session. Each heard utterance is
// judged as the session judges it (decideAnswer: store, say back to confirm, or ask again).
// Reported per voice and overall: answers heard right by the constrained pass, what the session would
// store (right, wrong), non-answers stored, where the safeguards take the disclosures (flagged, or a
// clarifying question from the recogniser's other readings) and false alarms on the rest, utterances lost or
// split in two, and latency from the end-of-speech decision to the transcript (p50/p95).
// Env: BENCH_PULSE_VOICES (how many of the 4 evaluation voices, default 4).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptedAnswers, decideAnswer } from '../../behaviors/index.js';
import { MicrophonePath } from '../../hardware/index.js';
import { encodeWav, PerceptionService, type HeardUtterance, type TranscribeHint } from '../../perception/index.js';
import type { ResponseScale } from '../../study-protocol/index.js';
import { layout, say } from '../fixtures/audio/speech.js';
import { ensurePulse, nullSink, playInto, roomTone } from '../support/pulse.js';
import { answerSet, isDisclosure, negatives, parseFor, safeguardRoute, splitOf, truthOf, VALENCE9, VOICES, type Truth } from './asr-sets.js';

const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ bench: 'asr-pulse', ...o })}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const pct = (xs: number[], p: number) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!);
};

const pulse = ensurePulse();
const missing = ['espeak-ng', 'arecord', 'paplay'].filter((t) => spawnSync('which', [t]).status !== 0);
if (!pulse.ok || missing.length) {
  emit({ step: 'skipped', reason: !pulse.ok ? pulse.reason : `not installed: ${missing.join(', ')}` });
  process.exit(1);
}

const voices = VOICES.filter((_, i) => splitOf(i) === 'eval').slice(0, Number(process.env.BENCH_PULSE_VOICES ?? 4));
const room = nullSink('hearthasr');
const noise = roomTone(room.name);
const savedSource = process.env.PULSE_SOURCE;
process.env.PULSE_SOURCE = room.monitor; // the microphone (arecord -D pulse) records the room
const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-asr-pulse-'));
const cleanup = () => {
  noise.stop();
  room.close();
  if (savedSource === undefined) delete process.env.PULSE_SOURCE;
  else process.env.PULSE_SOURCE = savedSource;
  rmSync(dir, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { cleanup(); process.exit(130); });

let hint: TranscribeHint | undefined;
let heard: { u: HeardUtterance; endedEventAt: number; heardAt: number }[] = [];
let endedEventAt = 0;
const path = new MicrophonePath({ device: 'pulse' });
const service = new PerceptionService({
  now: Date.now, audio: path.audio, autoTick: false, retry: { firstMs: 200, maxMs: 1000 }, expectation: () => hint,
  events: {
    speech: (e) => { if (e.type === 'ended') endedEventAt = performance.now(); },
    utterance: (u) => { heard.push({ u, endedEventAt, heardAt: performance.now() }); },
    fault: (f) => { if (f.kind !== 'microphone.recovered') emit({ step: 'fault', ...f }); path.fault(f); },
  },
});
await service.start();
for (const end = Date.now() + 10_000; service.status().microphone !== 'running' && Date.now() < end;) await sleep(25);
if (service.status().microphone !== 'running') {
  emit({ step: 'skipped', reason: `microphone not running: ${JSON.stringify(service.status())}` });
  cleanup();
  process.exit(1);
}
emit({ step: 'start', voices: voices.map((v) => `${v.voice}@${v.speed}`), items: answerSet.length + negatives.length, pulse: pulse.how, load_average: loadavg().map(r3) });

interface Row { voice: string; said: string; truth: Truth | null; heard: string | null; decision: string; storedRight: boolean; storedWrong: boolean; route: string; segments: number; latencyMs: number | null; text: string | null; confidence?: number; answer?: { text: string; confidence: number } }
const rows: Row[] = [];
let clipNo = 0;
/** Play `said` in voice `v` while a question on `scale` waits; what the session would make of the first utterance heard. */
async function ask(said: string, truth: Truth | null, scale: ResponseScale, v: { voice: string; speed: number }): Promise<Row> {
  const file = join(dir, `c${clipNo++}.wav`);
  writeFileSync(file, encodeWav(layout([{ samples: say(said, v), silenceBeforeMs: 300 }], 0).samples));
  hint = { answers: acceptedAnswers(scale) };
  heard = [];
  await playInto(room.name, file).done;
  // The end-of-utterance decision waits 600 ms of silence; then the transcript. Give it 4 s, and 1 s more for a second segment.
  for (const end = performance.now() + 4000; !heard.length && performance.now() < end;) await sleep(20);
  await sleep(1000);
  const first = heard[0];
  const voice = `${v.voice}@${v.speed}`;
  if (!first) return { voice, said, truth, heard: null, decision: 'lost', storedRight: false, storedWrong: false, route: 'lost', segments: 0, latencyMs: null, text: null };
  const u = first.u;
  const answer = u.answer ? truthOf(u.answer.text, scale) : null;
  const d = decideAnswer({ text: u.text, ...(u.confidence !== undefined ? { confidence: u.confidence } : {}), ...(u.answer ? { answer: u.answer } : {}) }, parseFor(scale));
  const value = d.kind === 'unclear' ? null : String(d.answer.kind === 'value' ? d.answer.value : 'skip');
  const right = truth !== null && value === String(truth);
  // A confirmation is answered truthfully: a wrong answer said back is refused and asked again, so only accepted answers can be stored wrong.
  const storedRight = (d.kind === 'accept' || d.kind === 'confirm') && right;
  const storedWrong = d.kind === 'accept' && !right;
  const route = safeguardRoute({ text: u.text, ...(u.confidence !== undefined ? { confidence: u.confidence } : {}), ...(u.answer ? { answer: u.answer } : {}), ...(u.alternatives ? { alternatives: u.alternatives } : {}) });
  return {
    voice, said, truth, heard: answer === null ? null : String(answer), decision: d.kind, storedRight, storedWrong, route, segments: heard.length, latencyMs: first.heardAt - first.endedEventAt, text: u.text,
    ...(u.confidence !== undefined ? { confidence: r3(u.confidence) } : {}), ...(u.answer ? { answer: { text: u.answer.text, confidence: r3(u.answer.confidence) } } : {}),
  };
}

// Two warm-up utterances (not counted): the recogniser's first utterance after start decodes worse.
for (const w of ['hello there', 'five']) await ask(w, null, VALENCE9, voices[0]!);
for (const v of voices) {
  for (const a of answerSet) {
    const row = await ask(a.said, a.truth, a.scale, v);
    rows.push(row);
    emit({ step: 'utterance', ...row, latencyMs: row.latencyMs === null ? null : Math.round(row.latencyMs) });
  }
  for (const said of negatives) {
    const row = await ask(said, null, VALENCE9, v);
    rows.push(row);
    emit({ step: 'utterance', ...row, latencyMs: row.latencyMs === null ? null : Math.round(row.latencyMs) });
  }
}
await service.stop();
cleanup();

const summary = (label: string, rs: Row[]) => {
  const given = rs.filter((r) => r.truth !== null);
  const not = rs.filter((r) => r.truth === null);
  const lat = given.map((r) => r.latencyMs).filter((x): x is number => x !== null);
  const disclosures = not.filter((r) => isDisclosure(r.said));
  return {
    voice: label, answers_given: given.length, not_answers: not.length,
    first_pass_accuracy: r3(given.filter((r) => r.heard === String(r.truth)).length / Math.max(1, given.length)),
    session: {
      stored_correct: r3(given.filter((r) => r.storedRight).length / Math.max(1, given.length)), stored_wrong: given.filter((r) => r.storedWrong).length,
      not_answers_stored: not.filter((r) => r.decision === 'accept').length,
      confirmed_by_voice: rs.filter((r) => r.decision === 'confirm').length, asked_again: rs.filter((r) => r.decision === 'unclear').length,
    },
    disclosures: { of: disclosures.length, flagged: disclosures.filter((r) => r.route === 'flagged').length, clarifying_question: disclosures.filter((r) => r.route === 'clarify' || r.route === 'sounds-like').length },
    false_alarms: { of: rs.length - disclosures.length, flagged: rs.filter((r) => !isDisclosure(r.said) && r.route === 'flagged').length, clarifying_question: rs.filter((r) => !isDisclosure(r.said) && (r.route === 'clarify' || r.route === 'sounds-like')).length },
    lost: rs.filter((r) => r.decision === 'lost').length, split_in_two_or_more: rs.filter((r) => r.segments > 1).length,
    latency_ms: { p50: pct(lat, 50), p95: pct(lat, 95), max: pct(lat, 100), what: 'speech ended (segmenter decision) → transcript, both passes' },
  };
};
for (const v of voices) emit({ step: 'voice', ...summary(`${v.voice}@${v.speed}`, rows.filter((r) => r.voice === `${v.voice}@${v.speed}`)) });
emit({ step: 'result', set: 'espeak-answers-pulse', ...summary('all', rows), load_average: loadavg().map(r3) });
process.exit(0);
