// The audio checks through real sound devices: a PulseAudio null sink, recorded from its monitor with
// arecord (ALSA's pulse plugin) via node-record-lpcm16, and played into with paplay — the parts the
// device uses. A null sink's monitor only runs while something plays, so a quiet "room" plays throughout.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../perception/index.js';
import { defaultPlayer, lpcmRecorder, microphoneCheck, rmsDbfs, speakerCheck, toneDbfs, type AudioParts } from './audio.js';

describe('audio levels', () => {
  it('gives −9.0 dBFS RMS for a half-scale sine and finds its frequency at −6.0 dBFS, not a neighbour', () => {
    const sine = Int16Array.from({ length: 1600 }, (_, i) => Math.round(16384 * Math.sin((2 * Math.PI * 1000 * i) / 16_000)));
    expect(rmsDbfs(sine)).toBeCloseTo(-9.03, 1);
    expect(toneDbfs(sine, 1000)).toBeCloseTo(-6.02, 1);
    expect(toneDbfs(sine, 3000)).toBeLessThan(-40);
    expect(rmsDbfs(new Int16Array(100))).toBe(-Infinity);
  });
});

const has = (t: string) => spawnSync('which', [t]).status === 0;
const SINK = `hearth_doctor_${process.pid}`;
function pulseUp(): boolean {
  if (!['pulseaudio', 'pactl', 'paplay', 'arecord'].every(has)) return false;
  if (spawnSync('pulseaudio', ['--check']).status === 0) return true;
  // Exits by itself a minute after its last client leaves, so nothing is left running.
  spawnSync('pulseaudio', ['-D', '--exit-idle-time=60', '--system=false'], { stdio: 'ignore' });
  return spawnSync('pulseaudio', ['--check']).status === 0;
}
const ready = pulseUp();

describe.skipIf(!ready)('microphone and speaker checks through a PulseAudio null sink (real sound device)', () => {
  let moduleId: string;
  let dir: string;
  let room: ChildProcess | undefined;
  const paplay = (file: string) => spawn('paplay', [file], { stdio: 'ignore' });
  const wav = (name: string, samples: Int16Array) => {
    const f = join(dir, name);
    writeFileSync(f, encodeWav(samples));
    return f;
  };
  const playRoom = (file: string) => { room?.kill(); room = paplay(file); };
  let quietRoom: string;

  beforeAll(() => {
    moduleId = execFileSync('pactl', ['load-module', 'module-null-sink', `sink_name=${SINK}`]).toString().trim();
    // Everything this test process starts plays into the sink and records its monitor.
    process.env.PULSE_SINK = SINK;
    process.env.PULSE_SOURCE = `${SINK}.monitor`;
    dir = mkdtempSync(join(tmpdir(), 'hearth-doctor-audio-'));
    // Faint noise around −60 dBFS, two minutes of it.
    quietRoom = wav('room.wav', Int16Array.from({ length: 16_000 * 120 }, (_, i) => ((i * 7919) % 61) - 30));
  });
  afterAll(() => {
    room?.kill();
    spawnSync('pactl', ['unload-module', moduleId]);
    delete process.env.PULSE_SINK;
    delete process.env.PULSE_SOURCE;
    rmSync(dir, { recursive: true, force: true });
  });

  const parts = async (): Promise<AudioParts> => {
    const mic = lpcmRecorder('pulse');
    const player = await defaultPlayer();
    return { record: mic.record, microphoneName: mic.name, play: player.play, playerName: player.name };
  };

  it('records a second and reports the room level in dBFS', async () => {
    playRoom(quietRoom);
    const r = await microphoneCheck(await parts());
    expect(r.status).toBe('ok');
    const level = Number(/level (-[\d.]+) dBFS RMS/.exec(r.detail)?.[1]);
    // The room is RMS ~17.6 of 32768 ≈ −65 dBFS; PulseAudio passes it through unchanged at 100% volume.
    expect(level).toBeGreaterThan(-70);
    expect(level).toBeLessThan(-60);
    expect(r.detail).toMatch(/^recorded 1\.0 s from microphone pulse \(arecord\)/);
  });

  it('fails a microphone that delivers only zeros, saying it is muted or the wrong input', async () => {
    playRoom(wav('silence.wav', new Int16Array(16_000 * 30)));
    const r = await microphoneCheck(await parts());
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/zeros only/);
    expect(r.fix).toMatch(/unmute/);
  });

  it('fails a capture device that does not exist, with the recorder\'s complaint and what to do', async () => {
    const mic = lpcmRecorder('hearth_no_such_device');
    const r = await microphoneCheck({ record: mic.record, microphoneName: mic.name });
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/^no audio: microphone hearth_no_such_device \(arecord\): /);
    expect(r.fix).toMatch(/arecord -l/);
  });

  it('plays the tone with paplay and hears it on the microphone', async () => {
    playRoom(quietRoom);
    const p = await parts();
    expect(p.playerName).toBe('paplay (PulseAudio)');
    const r = await speakerCheck(p, { listen: true });
    expect(r.detail).toMatch(/^played a 1000 Hz tone through paplay \(PulseAudio\); the microphone heard it \(1000 Hz band -[\d.]+ dBFS, [\d.]+ dB above/);
    expect(r.status).toBe('ok');
  });

  it('reports a tone that never reaches the microphone as not heard', async () => {
    playRoom(quietRoom);
    const p = await parts();
    // The speaker plays into another sink (a speaker far from the microphone, or muted for it).
    const other = execFileSync('pactl', ['load-module', 'module-null-sink', `sink_name=${SINK}_far`]).toString().trim();
    try {
      const farPlay = (file: string) => new Promise<void>((done, fail) => {
        spawn('paplay', [file], { stdio: 'ignore', env: { ...process.env, PULSE_SINK: `${SINK}_far` } }).once('close', (c) => (c === 0 ? done() : fail(new Error(`paplay ${c}`))));
      });
      const r = await speakerCheck({ ...p, play: farPlay }, { listen: true });
      expect(r.status).toBe('warn');
      expect(r.detail).toMatch(/the microphone did not hear it/);
      expect(r.fix).toMatch(/volume/);
    } finally {
      spawnSync('pactl', ['unload-module', other]);
    }
  });
});

describe('without a sound card', () => {
  it('fails the speaker check naming the player and its complaint (a player that cannot open a device, as aplay does here)', async () => {
    const r = await speakerCheck({
      record: () => Promise.reject(new Error('unused')), microphoneName: 'm', playerName: 'aplay (ALSA default)',
      play: () => Promise.reject(new Error('aplay exited with 1: aplay: main:831: audio open error: No such file or directory')),
    }, { listen: false });
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/^could not play a tone through aplay \(ALSA default\): aplay exited with 1: .*audio open error/);
  });
});
