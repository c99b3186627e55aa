// Records through a real sound device: a PulseAudio null sink's monitor, through ALSA's pulse plugin,
// with arecord driven by node-record-lpcm16. Speech is played into the sink with paplay.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav, PerceptionService, type AudioChunk, type PerceptionFault } from '../../perception/index.js';
import { concat, haveTestdata, LIBRIVOX_0880, readTestdata } from '../../test/fixtures/audio/speech.js';
import { audioSourceContract } from '../../perception/audio/audio-source.contract.js';
import { LpcmMicrophone } from './lpcm-microphone.js';

const has = (t: string) => spawnSync('which', [t]).status === 0;
const canTry = ['pulseaudio', 'pactl', 'paplay', 'arecord'].every(has) && haveTestdata;
const SINK = `hearth_mic_${process.pid}`;

function pulseUp(): boolean {
  if (spawnSync('pulseaudio', ['--check']).status === 0) return true;
  spawnSync('pulseaudio', ['-D', '--exit-idle-time=-1', '--system=false'], { stdio: 'ignore' });
  return spawnSync('pulseaudio', ['--check']).status === 0;
}
const loadSink = () => execFileSync('pactl', ['load-module', 'module-null-sink', `sink_name=${SINK}`]).toString().trim();
const unload = (id: string) => spawnSync('pactl', ['unload-module', id]);
const ready = canTry && pulseUp();

describe.skipIf(!ready)('LpcmMicrophone through a PulseAudio null sink (real sound device)', () => {
  let moduleId: string;
  let dir: string;
  let wav: string;
  let player: ChildProcess | undefined;
  let room: ChildProcess | undefined;
  let roomWav: string;
  const paplay = (file: string) => spawn('paplay', [file], { env: { ...process.env, PULSE_SINK: SINK }, stdio: 'ignore' });
  // A null sink's monitor only produces audio while something plays into it: keep a quiet room
  // playing, so the device delivers samples continuously as a real microphone does.
  const roomOn = () => { room = paplay(roomWav); };
  const play = () => { player = paplay(wav); };
  const unplug = () => { player?.kill(); room?.kill(); unload(moduleId); };

  beforeAll(() => {
    moduleId = loadSink();
    process.env.PULSE_SOURCE = `${SINK}.monitor`;
    dir = mkdtempSync(join(tmpdir(), 'hearth-mic-'));
    wav = join(dir, 'speech.wav');
    // 1 s of faint noise, the LibriVox sentence, then 6 s more.
    const noise = (n: number) => Int16Array.from({ length: n }, (_, i) => ((i * 7919) % 61) - 30);
    writeFileSync(wav, encodeWav(concat([noise(16_000), readTestdata(LIBRIVOX_0880), noise(96_000)])));
    roomWav = join(dir, 'room.wav');
    writeFileSync(roomWav, encodeWav(noise(16_000 * 120)));
    roomOn();
  });
  afterAll(() => {
    unplug();
    delete process.env.PULSE_SOURCE;
    rmSync(dir, { recursive: true, force: true });
  });

  audioSourceContract('LpcmMicrophone (arecord through PulseAudio)', {
    make: () => new LpcmMicrophone({ device: 'pulse', recorder: 'arecord' }),
    minSamples: 16_000,
    broken: () => new LpcmMicrophone({ device: 'hearth_no_such_device', recorder: 'arecord', firstDataTimeoutMs: 2_000 }),
  });

  it('hands samples over in short periods (20 ms by default; ALSA left to itself gives 125 ms for -D pulse)', async () => {
    // The gap between deliveries is what an end of speech waits for, on top of the VAD's hangover.
    const spans = async (periodMs: number | undefined) => {
      const mic = new LpcmMicrophone({ device: 'pulse', recorder: 'arecord', ...(periodMs === undefined ? {} : { periodMs }) });
      const ac = new AbortController();
      const ms: number[] = [];
      let total = 0;
      for await (const c of mic.open(ac.signal)) {
        ms.push((c.samples.length * 1000) / 16_000);
        total += c.samples.length;
        if (total >= 16_000) ac.abort();
      }
      return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
    };
    const short = await spans(undefined);
    const alsa = await spans(0);
    expect(short).toBeLessThanOrEqual(40);
    expect(alsa).toBeGreaterThan(short * 2);
  });

  it('records 16 kHz mono samples with timestamps that advance with the sample count', async () => {
    const mic = new LpcmMicrophone({ device: 'pulse', recorder: 'arecord' });
    const ac = new AbortController();
    const chunks: AudioChunk[] = [];
    play();
    let total = 0;
    for await (const c of mic.open(ac.signal)) {
      chunks.push(c);
      total += c.samples.length;
      if (total >= 16_000 * 3) ac.abort();
    }
    player?.kill();
    expect(total).toBeGreaterThanOrEqual(16_000 * 3);
    for (let i = 1; i < chunks.length; i++) {
      expect(chunks[i]!.atMs - chunks[i - 1]!.atMs).toBeCloseTo((chunks[i - 1]!.samples.length * 1000) / 16_000, 6);
    }
    // The speech arrived: some chunk is far louder than the noise.
    expect(Math.max(...chunks.map((c) => Math.max(...Array.from(c.samples, Math.abs))))).toBeGreaterThan(3000);
  });

  it('runs the whole pipeline through the device: hears and transcribes the sentence', async () => {
    const faults: PerceptionFault[] = [];
    const heard: string[] = [];
    const service = new PerceptionService({
      now: Date.now, audio: new LpcmMicrophone({ device: 'pulse' }), autoTick: false,
      retry: { firstMs: 200, maxMs: 1000 },
      events: { fault: (f) => faults.push(f), utterance: (u) => heard.push(u.text) },
    });
    await service.start();
    const until = async (cond: () => boolean, ms: number) => {
      for (const end = Date.now() + ms; !cond() && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    };
    // Let arecord connect before the speech starts.
    await until(() => service.status().microphone === 'running', 10_000);
    play();
    await until(() => heard.join(' ').includes('man'), 30_000);
    // Reference: "he was not an ill disposed young man"; pocketsphinx gets most of it.
    const words = new Set(heard.join(' ').split(' '));
    expect(['he', 'was', 'not', 'an', 'ill', 'disposed', 'young', 'man'].filter((w) => words.has(w)).length).toBeGreaterThanOrEqual(4);
    await service.stop();
    expect(faults.filter((f) => f.kind !== 'microphone.recovered')).toEqual([]);
  });

  it('reports a recorder that is not installed, without crashing', async () => {
    // node-record-lpcm16 itself never listens for spawn errors; the adapter must.
    const mic = new LpcmMicrophone({ recorder: 'rec', device: 'pulse' });
    const run = async () => { for await (const _ of mic.open()) { /* nothing */ } };
    if (has('rec')) return;
    await expect(run()).rejects.toThrow(/microphone pulse \(rec\): recorder rec is not installed/);
  });
});
