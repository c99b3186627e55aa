// bench:voice — voice latency on one core, through real sound devices (PulseAudio null sinks), each
// stage measured separately:
//   end of speech (the played clip has drained into the room sink: paplay exits)
//   → end-of-utterance decision (LpcmMicrophone → arecord, echo gate, Silero VAD + VadSegmenter: the
//     perception service's `speech: ended` event)
//   → transcript (the perception service's default recogniser: the persistent hearth-sphinx decoder,
//     fed while the participant speaks, so only the final search is left: its `utterance` event)
//   → reply chosen (input safeguard rules, OfflineResponder.compose, output safeguard rules)
//   → first audio sample of the reply out (EspeakSpeaker behind the echo gate: espeak-ng --stdout |
//     aplay -D pulse into a second null sink, the "robot" sink, whose monitor parec records; the first
//     sample above −40 dBFS there is the first sample out).
// The room sink carries faint room noise (a microphone never stops), the robot sink nothing else.
// Sub-measures of the last stage (outside the timed path, same reply): espeak-ng alone, ms to its first
// byte on stdout and the silence it puts before the first voiced sample.
// Prints JSON lines: one per utterance, one per stage ({"step":"stage",...,p50,p95,max}) and last
// {"step":"result","p95_end_to_end_ms","target_ms":1200,"ok"}. `npm run bench:voice` (taskset -c 0).
// Env: BENCH_UTTERANCES (default all 34), BENCH_MIN_SILENCE_MS (the segmenter's hangover, default
// the segmenter's own), BENCH_WARMUP (default 2), BENCH_TRACE=1 (timestamps of each step on stderr).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkInput, checkOutput, OfflineResponder } from '../../behaviors/index.js';
import { EspeakSpeaker, MicrophonePath } from '../../hardware/index.js';
import { encodeWav, PerceptionService, type HeardUtterance } from '../../perception/index.js';
import { CHECKIN_UTTERANCES } from '../fixtures/audio/checkin-utterances.js';
import { layout, say } from '../fixtures/audio/speech.js';
import { ensurePulse, nullSink, playInto, roomTone } from '../support/pulse.js';
import { wordErrorRate } from '../support/wer.js';

const print = (o: object) => console.log(JSON.stringify(o));
const round = (x: number) => Math.round(x * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const load = () => loadavg().map((x) => Number(x.toFixed(2)));

const pulse = ensurePulse();
const missing = ['espeak-ng', 'parec', 'sox'].filter((t) => spawnSync('which', [t]).status !== 0);
if (!pulse.ok || missing.length) {
  print({ step: 'skipped', reason: !pulse.ok ? pulse.reason : `not installed: ${missing.join(', ')}` });
  process.exit(1);
}

const COUNT = Math.min(Number(process.env.BENCH_UTTERANCES ?? CHECKIN_UTTERANCES.length), CHECKIN_UTTERANCES.length);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const minSilenceMs = process.env.BENCH_MIN_SILENCE_MS ? Number(process.env.BENCH_MIN_SILENCE_MS) : undefined;
const ROBOT_VOICE = { voice: 'en-us', rate: 160 };
/** The first sample out is the first one above this (about −40 dBFS). */
const AUDIBLE = 330;

const room = nullSink('hearthvoice');
const robot = nullSink('hearthvoicebot');
const noise = roomTone(room.name);
const saved = { source: process.env.PULSE_SOURCE, sink: process.env.PULSE_SINK };
process.env.PULSE_SOURCE = room.monitor; // the microphone (arecord -D pulse) records the room
process.env.PULSE_SINK = robot.name; // the robot's voice (aplay -D pulse) goes to its own sink
const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-voice-'));

// The robot sink's monitor: the time of the first audible sample after `armed`.
let armed: ((atMs: number) => void) | null = null;
const monitor = spawn('parec', ['-d', robot.monitor, '--raw', '--format=s16le', '--rate=16000', '--channels=1', '--latency-msec=10'], { stdio: ['ignore', 'pipe', 'ignore'] });
let carry: Buffer = Buffer.alloc(0);
monitor.stdout!.on('data', (d: Buffer) => {
  const at = now();
  const b = carry.length ? Buffer.concat([carry, d]) : d;
  const n = b.length >> 1;
  carry = b.subarray(n * 2);
  if (!armed) return;
  for (let i = 0; i < n; i++) {
    if (Math.abs(b.readInt16LE(i * 2)) > AUDIBLE) {
      const fire = armed;
      armed = null;
      // The chunk arrived when its last sample was captured: this sample came (n - i) / 16 ms before.
      fire(at - (n - i) / 16);
      return;
    }
  }
});

const cleanup = () => {
  monitor.kill();
  noise.stop();
  room.close();
  robot.close();
  for (const [k, v] of [['PULSE_SOURCE', saved.source], ['PULSE_SINK', saved.sink]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { cleanup(); process.exit(130); });
const trace = process.env.BENCH_TRACE ? (m: string) => process.stderr.write(`${Date.now() % 100000} ${m}\n`) : () => undefined;

// Participant clips: 300 ms of room before, nothing after (the clip's end is the end of speech).
const WARMUP_UTTERANCES = [{ text: 'hello there', voice: { voice: 'en-us', speed: 150 } }, { text: 'i had coffee with a friend', voice: { voice: 'en', speed: 150 } }];
const clips = [...CHECKIN_UTTERANCES, ...WARMUP_UTTERANCES].map((u, i) => {
  const file = join(dir, `u${String(i).padStart(2, '0')}.wav`);
  const samples = say(u.text, u.voice);
  writeFileSync(file, encodeWav(layout([{ samples, silenceBeforeMs: 300 }], 0).samples));
  return { ...u, file, speechMs: (samples.length * 1000) / 16000 };
});

type Ev = { decided?: number; decidedEpoch?: number; endedAt?: number; decidedAt?: number; heard?: HeardUtterance; heardAt?: number };
let current: Ev = {};
let wake: (() => void) | null = null;
const path = new MicrophonePath({ device: 'pulse' });
const service = new PerceptionService({
  now: Date.now, audio: path.audio, autoTick: false, retry: { firstMs: 200, maxMs: 1000 },
  ...(minSilenceMs !== undefined ? { segmenter: { minSilenceMs } } : {}),
  events: {
    speech: (e) => {
      trace(`speech ${e.type}`);
      if (e.type !== 'ended') return;
      current.decided ??= now();
      current.decidedEpoch ??= Date.now();
      current.endedAt ??= e.endedAt;
      current.decidedAt ??= e.decidedAt;
    },
    utterance: (u) => {
      if (current.heard) return;
      current.heard = u;
      current.heardAt = now();
      wake?.();
    },
    fault: (f) => { if (f.kind !== 'microphone.recovered') print({ step: 'fault', ...f }); path.fault(f); },
  },
});
await service.start();
for (const end = Date.now() + 10_000; service.status().microphone !== 'running' && Date.now() < end;) await sleep(25);
if (service.status().microphone !== 'running') {
  print({ step: 'skipped', reason: `microphone not running: ${JSON.stringify(service.status())}` });
  cleanup();
  process.exit(1);
}

const responder = new OfflineResponder();
const voice = path.voice(new EspeakSpeaker({ now: Date.now, device: 'pulse', voice: ROBOT_VOICE.voice, rate: ROBOT_VOICE.rate }));
const shared: string[] = [];
const recentLines: string[] = [];

/** espeak-ng alone on `text`: ms to its first stdout byte, and the silence before its first audible sample. */
async function espeakAlone(text: string): Promise<{ firstByteMs: number; leadSilenceMs: number }> {
  const t0 = now();
  const child = spawn('espeak-ng', ['-v', ROBOT_VOICE.voice, '-s', String(ROBOT_VOICE.rate), '-a', '100', '--stdout', '--', text], { stdio: ['ignore', 'pipe', 'ignore'] });
  let first = -1;
  const parts: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => { if (first < 0) first = now() - t0; parts.push(d); });
  await new Promise((r) => child.once('close', r));
  const wav = Buffer.concat(parts);
  let lead = -1;
  for (let i = 44; i + 1 < wav.length; i += 2) if (Math.abs(wav.readInt16LE(i)) > AUDIBLE) { lead = i; break; }
  // espeak-ng writes 22,050 Hz mono s16le.
  return { firstByteMs: first, leadSilenceMs: lead < 0 ? -1 : ((lead - 44) / 2 / 22050) * 1000 };
}

interface Row {
  i: number; decision: number; transcript: number; reply: number; audio_out: number; end_to_end: number;
  espeak_first_byte: number; espeak_lead_silence: number; vad_end_vs_clip_end: number;
  decision_audio: number; decision_delivery: number;
}
const rows: Row[] = [];
let errors = 0;
let words = 0;
let lost = 0;

print({ step: 'start', utterances: COUNT, warmup: WARMUP, load_average: load(), pulse: pulse.how, min_silence_ms: minSilenceMs ?? 'default', cpus: 'taskset -c 0 (children inherit)' });

for (let k = 0; k < WARMUP + COUNT; k++) {
  // Warm-up clips first (not counted: pocketsphinx's first utterance after start decodes worse, and caches fill).
  const i = k < WARMUP ? CHECKIN_UTTERANCES.length + (k % WARMUP_UTTERANCES.length) : k - WARMUP;
  const clip = clips[i]!;
  current = {};
  const gotUtterance = new Promise<void>((resolve) => {
    wake = resolve;
    setTimeout(resolve, 10_000);
  });
  trace(`play ${i}`);
  await playInto(room.name, clip.file).done;
  trace('played');
  const eos = now();
  const eosEpoch = Date.now();
  await gotUtterance;
  trace(`heard ${current.heard?.text}`);
  wake = null;
  const ev = current;
  if (!ev.heard || ev.decided === undefined) {
    if (k >= WARMUP) lost++;
    print({ step: 'utterance', i, text: clip.text, heard: null, decided: ev.decided !== undefined });
    await sleep(500);
    continue;
  }
  const heard = ev.heard;
  // Reply chosen: input safeguard rules, the offline responder, output safeguard rules.
  const verdict = checkInput(heard.text, { previousTurns: shared.map((s) => `participant: ${s}`) });
  shared.push(heard.text);
  const line = responder.compose({
    act: 'empathy', participantId: 'P01', sessionId: 'bench', studyDay: 1 + (k % 30), turnIndex: k, story: null,
    lastUtterance: heard.text, shared, recentLines, localHour: 10,
  });
  const out = checkOutput(line);
  const replied = now();
  recentLines.unshift(line);
  // First audio sample out: speak through the gate into the robot sink. The line is played to its end
  // (aborting aplay -D pulse mid-line sometimes left it hanging in its drain).
  const firstOut = new Promise<number>((resolve) => { armed = resolve; setTimeout(() => resolve(-1), 10_000); });
  const speaking = voice.speak({ act: 'empathy', text: line }).catch((e: Error) => { print({ step: 'fault', kind: 'speaker', reason: e.message }); });
  const firstAt = await firstOut;
  trace(`first out ${firstAt}`);
  armed = null;
  await speaking;
  if (firstAt < 0) {
    if (k >= WARMUP) lost++;
    print({ step: 'utterance', i, text: clip.text, heard: heard.text, reply: line, audio_out: null });
    continue;
  }
  trace('spoken');
  const alone = await espeakAlone(line);
  trace('alone');
  const row: Row = {
    i,
    decision: round(ev.decided - eos),
    transcript: round(ev.heardAt! - ev.decided),
    reply: round(replied - ev.heardAt!),
    audio_out: round(firstAt - replied),
    end_to_end: round(firstAt - eos),
    espeak_first_byte: round(alone.firstByteMs),
    espeak_lead_silence: round(alone.leadSilenceMs),
    // Where the segmenter put the end of speech on the microphone's timeline, against the clip's end.
    vad_end_vs_clip_end: round(ev.endedAt! - eosEpoch),
    // The decision split on the microphone's own timeline: closing silence the segmenter waited for
    // (from its end of speech to its decision), and the rest (arecord buffering, VAD compute, delivery).
    decision_audio: round(ev.decidedAt! - ev.endedAt!),
    decision_delivery: round(ev.decidedEpoch! - ev.decidedAt!),
  };
  const w = wordErrorRate(clip.text, heard.text);
  if (k >= WARMUP) {
    rows.push(row);
    errors += w.errors;
    words += w.words;
  }
  print({
    step: k < WARMUP ? 'warmup' : 'utterance', ...row, voice: clip.voice, speech_ms: Math.round(clip.speechMs), text: clip.text, heard: heard.text,
    wer: round(w.wer * 100) / 100, input_safe: verdict.safe, output_safe: out.safe, reply_text: line, transcribe_ms_reported: heard.transcribeMs !== undefined ? round(heard.transcribeMs) : null,
  });
  // The echo gate's tail, then a participant's pause before the next answer.
  await sleep(400);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const stages: (keyof Row)[] = ['decision', 'transcript', 'reply', 'audio_out', 'end_to_end', 'espeak_first_byte', 'espeak_lead_silence', 'vad_end_vs_clip_end', 'decision_audio', 'decision_delivery'];
const NOTES: Partial<Record<keyof Row, string>> = {
  decision: 'clip end → segmenter speech.ended (arecord buffering + Silero lag + silence hangover)',
  transcript: 'speech.ended → utterance (hearth-sphinx final search + confidence)',
  reply: 'utterance → reply chosen (input rules + OfflineResponder + output rules)',
  audio_out: 'reply chosen → first audible sample in the robot sink (espeak-ng start + synthesis + aplay + PulseAudio)',
  end_to_end: 'clip end → first audible reply sample',
  espeak_first_byte: 'part of audio_out, measured apart: espeak-ng spawned → first stdout byte',
  espeak_lead_silence: 'part of audio_out, measured apart: silence espeak-ng synthesises before the first audible sample',
  vad_end_vs_clip_end: 'not a stage: the segmenter\'s end of speech on the microphone timeline minus the clip end',
  decision_audio: 'part of decision, microphone timeline: segmenter end of speech → its decision (hangover + Silero decay + frame)',
  decision_delivery: 'part of decision: wall time of the decision event minus its time on the microphone timeline (arecord/PulseAudio buffering, VAD compute)',
};
const summary: Record<string, number> = {};
for (const s of stages) {
  const xs = rows.map((r) => r[s]);
  if (!xs.length) continue;
  const p50 = pct(xs, 50);
  const p95 = pct(xs, 95);
  summary[s] = p50;
  print({ step: 'stage', stage: s, n: xs.length, p50_ms: p50, p95_ms: p95, max_ms: Math.max(...xs), mean_ms: round(xs.reduce((a, b) => a + b, 0) / xs.length), what: NOTES[s] });
}
const p95 = rows.length ? pct(rows.map((r) => r.end_to_end), 95) : null;
const parts = ['decision', 'transcript', 'reply', 'audio_out'] as const;
const largest = parts.reduce((a, b) => ((summary[b] ?? 0) > (summary[a] ?? 0) ? b : a));
print({
  step: 'result', p95_end_to_end_ms: p95, target_ms: 1200, ok: p95 !== null && p95 <= 1200 && lost === 0,
  n: rows.length, lost, largest_stage_by_p50: largest, word_error_rate: words ? Number((errors / words).toFixed(3)) : null,
  min_silence_ms: minSilenceMs ?? 'default', load_average: load(),
});

await service.stop();
cleanup();
process.exit(0);
