/**
 * The microphone and speaker checks, through the same parts the device uses: `LpcmMicrophone`
 * (node-record-lpcm16 running arecord, `--microphone [device]`), and the default sound output that
 * espeak-ng speaks through (PulseAudio when its server answers, ALSA otherwise).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LpcmMicrophone } from '../../hardware/index.js';
import { AUDIO_SAMPLE_RATE, encodeWav } from '../../perception/index.js';
import { result, type CheckResult } from './check.js';

/** Records `ms` of 16 kHz mono audio; rejects when the device gives none. */
export type Recorder = (ms: number, signal?: AbortSignal) => Promise<Int16Array>;
/** Plays a WAV file to the end through the device's sound output; rejects naming the player's complaint. */
export type Player = (wavFile: string) => Promise<void>;

/** What the audio checks use. */
export interface AudioParts {
  record: Recorder;
  play: Player;
  /** The microphone's name in details (`microphone default (arecord)`). */
  microphoneName: string;
  /** The player's name in details (`paplay (PulseAudio)`). */
  playerName: string;
}

/** The device's own microphone path: `LpcmMicrophone` on `device` (ALSA default when absent). */
export function lpcmRecorder(device?: string): { record: Recorder; name: string } {
  const mic = new LpcmMicrophone({ recorder: 'arecord', firstDataTimeoutMs: 3000, stallTimeoutMs: 2000, ...(device ? { device } : {}) });
  return {
    name: mic.name,
    record: async (ms, signal) => {
      const want = Math.round((ms * AUDIO_SAMPLE_RATE) / 1000);
      const ac = new AbortController();
      const stop = () => ac.abort();
      signal?.addEventListener('abort', stop, { once: true });
      const parts: Int16Array[] = [];
      let got = 0;
      try {
        for await (const chunk of mic.open(ac.signal)) {
          parts.push(chunk.samples);
          got += chunk.samples.length;
          if (got >= want) break;
        }
      } finally {
        signal?.removeEventListener('abort', stop);
      }
      if (got === 0) throw new Error(`${mic.name}: recorder gave no audio`);
      const out = new Int16Array(Math.min(got, want));
      let at = 0;
      for (const p of parts) {
        const n = Math.min(p.length, out.length - at);
        out.set(p.subarray(0, n), at);
        at += n;
        if (at >= out.length) break;
      }
      return out;
    },
  };
}

/** Whether a PulseAudio server answers (`pactl info`). */
export function pulseAnswers(): Promise<boolean> {
  return new Promise((done) => execFile('pactl', ['info'], { timeout: 3000 }, (error) => done(!error)));
}

/** The player espeak-ng's output goes through: paplay when PulseAudio answers, else aplay (ALSA default). */
export async function defaultPlayer(): Promise<{ play: Player; name: string }> {
  const pulse = await pulseAnswers();
  const [bin, name] = pulse ? ['paplay', 'paplay (PulseAudio)'] : ['aplay', 'aplay (ALSA default)'];
  return {
    name,
    play: (file) => new Promise((done, fail) => {
      const child = spawn(bin, pulse ? [file] : ['-q', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-500); });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); fail(new Error(e.code === 'ENOENT' ? `${bin} is not installed` : e.message)); });
      child.once('close', (code, sig) => {
        clearTimeout(timer);
        if (code === 0) done();
        else fail(new Error(`${bin} ${sig ? `was stopped (${sig})` : `exited with ${code}`}${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`));
      });
    }),
  };
}

/** Root-mean-square level in dBFS (−∞ for digital silence). */
export function rmsDbfs(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return samples.length ? 20 * Math.log10(Math.sqrt(sum / samples.length) / 32768) : -Infinity;
}

/** Level of one frequency in a block (Goertzel), in dBFS of a full-scale sine. */
export function toneDbfs(samples: Int16Array, hz: number, rate = AUDIO_SAMPLE_RATE): number {
  const k = (2 * Math.cos((2 * Math.PI * hz) / rate));
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s = x / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  const amplitude = (2 * Math.sqrt(Math.max(power, 0))) / samples.length;
  return 20 * Math.log10(amplitude || 1e-12);
}

const fmt = (db: number) => (Number.isFinite(db) ? `${db.toFixed(1)} dBFS` : '-∞ dBFS (digital silence)');
const MIC_FIX = 'check the microphone is plugged in and listed by `arecord -l` (with PulseAudio: `pactl list short sources`); pick another with --microphone DEVICE';

/** Record one second and report its level; no device or only zeros fails. */
export async function microphoneCheck(parts: Pick<AudioParts, 'record' | 'microphoneName'>): Promise<CheckResult> {
  let samples: Int16Array;
  try {
    samples = await parts.record(1000);
  } catch (e) {
    const why = (e as Error).message;
    return result('microphone', 'fail', `no audio: ${why.startsWith(parts.microphoneName) ? why : `${parts.microphoneName}: ${why}`}`, MIC_FIX);
  }
  const seconds = (samples.length / AUDIO_SAMPLE_RATE).toFixed(1);
  if (samples.every((s) => s === 0)) {
    return result('microphone', 'fail', `${parts.microphoneName} recorded ${seconds} s of zeros only (muted, or the wrong input)`,
      'unmute the capture input (`alsamixer`, F4; or `pactl set-source-mute @DEFAULT_SOURCE@ 0`) and check it is the right device');
  }
  const level = rmsDbfs(samples);
  let peak = 0;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  const detail = `recorded ${seconds} s from ${parts.microphoneName}: level ${fmt(level)} RMS, peak ${fmt(20 * Math.log10(peak / 32768))}`;
  if (level < -75) return result('microphone', 'warn', `${detail} — barely above silence`, 'raise the capture gain (`alsamixer`, F4) and speak near the robot while running doctor again');
  return result('microphone', 'ok', detail);
}

/** The test tone: 1 kHz, 0.8 s, half of full scale, with 20 ms fades so it does not click. */
export const TONE_HZ = 1000;
function toneWav(): Buffer {
  const n = Math.round(0.8 * AUDIO_SAMPLE_RATE);
  const fade = 0.02 * AUDIO_SAMPLE_RATE;
  const samples = Int16Array.from({ length: n }, (_, i) =>
    Math.round(16384 * Math.min(1, i / fade, (n - 1 - i) / fade) * Math.sin((2 * Math.PI * TONE_HZ * i) / AUDIO_SAMPLE_RATE)));
  return encodeWav(samples);
}

/**
 * Play the tone through the device's sound output while the microphone listens. "Heard" means the
 * 1 kHz band rose at least 12 dB above the quiet around it, and above −60 dBFS.
 */
export async function speakerCheck(parts: AudioParts, options: { listen: boolean }): Promise<CheckResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-doctor-'));
  const file = join(dir, 'tone.wav');
  try {
    writeFileSync(file, toneWav());
    const recording = options.listen ? parts.record(3000).then((s) => ({ samples: s }), (e: Error) => ({ error: e })) : null;
    // Let the recorder open before the tone starts, so there is quiet on both sides of it.
    if (recording) await new Promise((r) => setTimeout(r, 400));
    try {
      await parts.play(file);
    } catch (e) {
      await recording;
      return result('speaker', 'fail', `could not play a tone through ${parts.playerName}: ${(e as Error).message}`,
        'check the speaker is connected and chosen as the output (`aplay -l`; with PulseAudio `pactl list short sinks`), and that `espeak-ng hello` is heard');
    }
    const played = `played a ${TONE_HZ} Hz tone through ${parts.playerName}`;
    if (!recording) return result('speaker', 'ok', `${played}; not listened for (the study does not use the microphone)`);
    const heard = await recording;
    if ('error' in heard) return result('speaker', 'warn', `${played}; could not listen for it (${heard.error.message})`, 'fix the microphone (see above), then listen for the tone yourself or run doctor again');
    const block = AUDIO_SAMPLE_RATE / 10;
    const levels: number[] = [];
    for (let i = 0; i + block <= heard.samples.length; i += block) levels.push(toneDbfs(heard.samples.subarray(i, i + block), TONE_HZ));
    // The quiet is the recording's 20th-percentile block: the tone fills at most 8 of 30 blocks, and a
    // recorder that opened late (a loaded machine) may miss the quiet before the tone but not the quiet after.
    const sorted = [...levels].sort((a, b) => a - b);
    const quiet = sorted.length ? sorted[Math.floor(sorted.length / 5)]! : -120;
    const loudest = Math.max(...levels, -120);
    const rise = loudest - quiet;
    const numbers = `${TONE_HZ} Hz band ${loudest.toFixed(1)} dBFS, ${rise.toFixed(1)} dB above the quiet around it`;
    if (rise >= 12 && loudest > -60) return result('speaker', 'ok', `${played}; the microphone heard it (${numbers})`);
    return result('speaker', 'warn', `${played}; the microphone did not hear it (${numbers})`,
      'turn the speaker volume up (`alsamixer`, or `pactl set-sink-volume @DEFAULT_SINK@ 80%`) and check the speaker is not muted; stay quiet while doctor runs');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
