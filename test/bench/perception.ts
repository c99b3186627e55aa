// Perception benchmark: `npm run bench:perception` (= taskset -c 0 tsx test/bench/perception.ts).
// Prints JSON lines: per-stage milliseconds per frame (p50, p95), camera fps, the audio pipeline's
// real-time factor (from perception/audio/bench-audio.ts when present), peak RSS, and the speed of
// @vladmandic/human (tfjs, wasm backend) on the same frames. The last line is the summary object.
// Targets on one core: camera >= 30 fps at 640x480 with one face; peak RSS <= 300 MB; speedup >= 3.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FfmpegFrameSource } from '../../hardware/camera/index.js';
import { CameraPerceiver, DEFAULT_DETECTOR, type RgbFrame } from '../../perception/index.js';
import { makeFaceVideo, modelsDirForTests } from '../fixtures/faces/faces.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const FRAMES = Number(process.env.BENCH_FRAMES ?? 300);
const COMPARE_FRAMES = Number(process.env.BENCH_COMPARE_FRAMES ?? 30);

const print = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const r2 = (x: number) => Math.round(x * 100) / 100;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const stage = (bench: string, name: string, xs: number[]) => print({ bench, stage: name, p50_ms: r2(pct(xs, 50)), p95_ms: r2(pct(xs, 95)), n: xs.length });
const rssMb = () => r2(process.resourceUsage().maxRSS / 1024);
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

/** CPU seconds and peak RSS of ffmpeg decoding `video` to 640x480 rgb24, as the frame source asks it to. */
function ffmpegDecodeCost(video: string): { cpuSeconds: number; maxRssMb: number } {
  const r = spawnSync('ffmpeg', ['-nostdin', '-benchmark', '-i', video, '-an', '-vf', 'scale=640:480', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-y', '/dev/null'], { encoding: 'utf8' });
  const t = /bench: utime=([\d.]+)s stime=([\d.]+)s/.exec(r.stderr);
  const m = /bench: maxrss=(\d+)kB/.exec(r.stderr);
  if (!t || !m) throw new Error(`ffmpeg -benchmark printed no timing for ${video}: ${r.stderr.slice(-300)}`);
  return { cpuSeconds: Number(t[1]) + Number(t[2]), maxRssMb: r2(Number(m[1]) / 1024) };
}

async function cameraBench(video: string, modelsDir: string) {
  const perceiver = await CameraPerceiver.create({ modelsDir });
  // Warm up the sessions on one frame so the timings are steady-state.
  for await (const f of new FfmpegFrameSource(video).open()) {
    await perceiver.process(f);
    break;
  }
  perceiver.resetTracking();
  const decode: number[] = [];
  const detect: number[] = [];
  const expression: number[] = [];
  const track: number[] = [];
  const total: number[] = [];
  let faces = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let asked = performance.now();
  for await (const frame of new FfmpegFrameSource(video).open()) {
    const got = performance.now();
    const askedAt = asked;
    decode.push(got - askedAt);
    const r = await perceiver.process(frame);
    detect.push(r.timings.detectMs);
    expression.push(r.timings.expressionMs);
    track.push(r.timings.trackMs);
    faces += r.faces.length;
    asked = performance.now();
    total.push(asked - askedAt);
  }
  const seconds = (performance.now() - start) / 1000;
  const nodeCpu = cpuSeconds(cpu0);
  await perceiver.close();
  const ffmpeg = ffmpegDecodeCost(video);
  stage('camera', 'decode (ffmpeg, waiting for the next frame)', decode);
  stage('camera', 'detect', detect);
  stage('camera', 'expression', expression);
  stage('camera', 'track', track);
  stage('camera', 'frame total', total);
  const fps = decode.length / seconds;
  // Frames per CPU-second of this process plus ffmpeg's decoding: what one free core sustains,
  // robust to other work sharing the core while the benchmark runs.
  const fpsCpu = decode.length / (nodeCpu + ffmpeg.cpuSeconds);
  print({
    bench: 'camera', detector: DEFAULT_DETECTOR.kind, frames: decode.length, width: 640, height: 480, faces_per_frame: r2(faces / decode.length),
    fps: r2(fps), fps_cpu: r2(fpsCpu), node_cpu_ms_per_frame: r2((nodeCpu * 1000) / decode.length), ffmpeg_cpu_ms_per_frame: r2((ffmpeg.cpuSeconds * 1000) / decode.length), ffmpeg_peak_rss_mb: ffmpeg.maxRssMb,
  });
  return { fps, fpsCpu, ffmpegRss: ffmpeg.maxRssMb };
}

async function analysisFps(frames: RgbFrame[], modelsDir: string) {
  const perceiver = await CameraPerceiver.create({ modelsDir });
  await perceiver.process(frames[0]!);
  let found = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const f of frames) found += (await perceiver.process(f)).faces.length > 0 ? 1 : 0;
  const fps = frames.length / ((performance.now() - t0) / 1000);
  const fpsCpu = frames.length / cpuSeconds(cpu0);
  await perceiver.close();
  return { fps, fpsCpu, found };
}

async function humanFps(frames: RgbFrame[], modelsDir: string) {
  const vendor = join(modelsDir, 'vendor', 'human-3.3.6');
  const require = createRequire(import.meta.url);
  const { Human } = require(join(vendor, 'dist', 'human.node-wasm.js')) as { Human: new (config: object) => HumanLike };
  // Human loads models over HTTP in Node without tfjs-node: serve them from 127.0.0.1.
  const server = createServer((req, res) => {
    const file = join(vendor, 'models', (req.url ?? '/').split('?')[0]!.replace(/\.\./g, ''));
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const human = new Human({
      backend: 'wasm',
      wasmPath: `${join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')}/`,
      modelBasePath: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      debug: false, async: false, warmup: 'none', cacheSensitivity: 0, filter: { enabled: false },
      // Same job as Hearth's pipeline: face box + emotion on every frame, no caching between frames.
      face: {
        enabled: true,
        detector: { rotation: false, maxDetected: 4, skipFrames: 0, skipTime: 0, return: false },
        emotion: { enabled: true, skipFrames: 0, skipTime: 0 },
        mesh: { enabled: false }, iris: { enabled: false }, description: { enabled: false },
        antispoof: { enabled: false }, liveness: { enabled: false }, attention: { enabled: false },
      },
      body: { enabled: false }, hand: { enabled: false }, object: { enabled: false }, gesture: { enabled: false }, segmentation: { enabled: false },
    });
    await human.load();
    const tensors = frames.map((f) => human.tf.tensor(f.data, [1, f.height, f.width, 3], 'int32'));
    await human.detect(tensors[0]!);
    let found = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const t of tensors) found += (await human.detect(t)).face.length > 0 ? 1 : 0;
    const fps = tensors.length / ((performance.now() - t0) / 1000);
    const fpsCpu = tensors.length / cpuSeconds(cpu0);
    for (const t of tensors) t.dispose();
    return { fps, fpsCpu, found, backend: human.tf.getBackend() };
  } finally {
    server.close();
  }
}

interface HumanLike {
  tf: { tensor(data: Uint8Array, shape: number[], dtype: string): { dispose(): void }; getBackend(): string };
  load(): Promise<void>;
  detect(input: unknown): Promise<{ face: unknown[] }>;
}

async function audioBench(): Promise<Record<string, unknown>> {
  const file = join(root, 'perception', 'audio', 'bench-audio.ts');
  if (!existsSync(file)) return { audio_rtf: null, audio_note: 'perception/audio/bench-audio.ts not present' };
  const mod = (await import(pathToFileURL(file).href)) as { benchAudio?: () => Promise<Record<string, unknown>> };
  if (typeof mod.benchAudio !== 'function') return { audio_rtf: null, audio_note: 'bench-audio.ts exports no benchAudio()' };
  return mod.benchAudio();
}

const modelsDir = modelsDirForTests();
const tmp = mkdtempSync(join(tmpdir(), 'hearth-bench-'));
try {
  const video = makeFaceVideo(tmp, { astronautFrames: FRAMES, messiFrames: 0, fps: 30 });
  const camera = await cameraBench(video, modelsDir);
  const audio = await audioBench();
  print({ bench: 'audio', ...audio });
  // Peak RSS of the runtime with camera and audio perception on, before the Human comparison loads tfjs.
  const peakRss = rssMb();
  print({ bench: 'memory', peak_rss_mb: peakRss });

  const frames: RgbFrame[] = [];
  for await (const f of new FfmpegFrameSource(video).open()) {
    frames.push(f);
    if (frames.length >= COMPARE_FRAMES) break;
  }
  const ours = await analysisFps(frames, modelsDir);
  const theirs = await humanFps(frames, modelsDir);
  print({
    bench: 'compare', frames: frames.length, hearth_fps: r2(ours.fps), hearth_fps_cpu: r2(ours.fpsCpu), hearth_frames_with_face: ours.found,
    human_fps: r2(theirs.fps), human_fps_cpu: r2(theirs.fpsCpu), human_backend: theirs.backend, human_frames_with_face: theirs.found,
  });
  print({
    camera_fps: r2(camera.fps),
    camera_fps_cpu: r2(camera.fpsCpu),
    audio_rtf: audio.audio_rtf ?? null,
    peak_rss_mb: peakRss,
    ffmpeg_peak_rss_mb: camera.ffmpegRss,
    // The node process plus its ffmpeg decoder: the whole footprint of perception.
    peak_rss_with_ffmpeg_mb: r2(peakRss + camera.ffmpegRss),
    speedup_vs_human: r2(ours.fps / theirs.fps),
    speedup_vs_human_cpu: r2(ours.fpsCpu / theirs.fpsCpu),
    hearth_analysis_fps: r2(ours.fps),
    human_fps: r2(theirs.fps),
    loadavg_1m: r2(loadavg()[0]!),
    ...Object.fromEntries(Object.entries(audio).filter(([k]) => k !== 'audio_rtf')),
  });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
