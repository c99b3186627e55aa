// Compare the face detectors on the hand-annotated test faces: IoU with the annotated box, score, and
// CPU milliseconds per 640x480 frame (detection + expression). Run: taskset -c 0 npx tsx scripts/models/compare-detectors.ts
// YuNet is included when ../shared/models is present (it is not on npm, so it is never the default).
import { existsSync } from 'node:fs';
import { FfmpegFrameSource } from '../../hardware/camera/index.js';
import { CameraPerceiver, iou, type DetectorChoice, type RgbFrame } from '../../perception/index.js';
import { FACES, boxInVideo, modelsDirForTests } from '../../test/fixtures/faces/faces.js';

const modelsDir = modelsDirForTests();
const yunet = new URL('../../../shared/models/yunet_s_dynamic.onnx', import.meta.url).pathname;
const choices: DetectorChoice[] = [
  { kind: 'cascade' },
  { kind: 'blazeface-front' },
  { kind: 'blazeface-human' },
  { kind: 'blazeface-back' },
  ...(existsSync(yunet) ? [{ kind: 'yunet', path: yunet, longSide: 320 } as const, { kind: 'yunet', path: yunet, longSide: 640 } as const] : []),
];

async function first(path: string, size?: { width: number; height: number }): Promise<RgbFrame> {
  for await (const f of new FfmpegFrameSource(path, size ?? {}).open()) return f;
  throw new Error(`${path}: no frame`);
}

const stills = [FACES.astronaut, FACES.messi];
const frames = await Promise.all(stills.map((f) => first(f.image)));
// A 640x480 webcam-like frame: the astronaut scaled into it (as in the benchmark video).
const webcam = await first(FACES.astronaut.image, { width: 480, height: 480 });
const padded: RgbFrame = { width: 640, height: 480, index: 0, data: new Uint8Array(640 * 480 * 3) };
for (let y = 0; y < 480; y++) padded.data.set(webcam.data.subarray(y * 480 * 3, (y + 1) * 480 * 3), (y * 640 + 80) * 3);

for (const choice of choices) {
  const p = await CameraPerceiver.create({ modelsDir, detector: choice, smoothing: 1 });
  const row: Record<string, unknown> = { detector: choice.kind + ('longSide' in choice ? `@${choice.longSide}` : '') };
  for (const [i, face] of stills.entries()) {
    p.resetTracking();
    const r = await p.process(frames[i]!);
    const [x, y, w, h] = face.box;
    const best = r.faces.map((f) => ({ f, v: iou(f.box, { x, y, w, h }) })).sort((a, b) => b.v - a.v)[0];
    const name = face === FACES.astronaut ? 'astronaut' : 'messi';
    row[`${name}_iou`] = best ? Math.round(best.v * 1000) / 1000 : 0;
    row[`${name}_score`] = best ? Math.round(best.f.score * 1000) / 1000 : null;
    row[`${name}_expression`] = best?.f.expression ?? null;
  }
  for (let k = 0; k < 10; k++) await p.process(padded);
  const cpu0 = process.cpuUsage();
  const n = 100;
  let hit = 0;
  for (let k = 0; k < n; k++) {
    const r = await p.process(padded);
    if (r.faces.some((f) => iou(f.box, { ...boxInVideo(FACES.astronaut) }) >= 0.5)) hit++;
  }
  const u = process.cpuUsage(cpu0);
  row.webcam_frames_found = `${hit}/${n}`;
  row.cpu_ms_per_640x480_frame = Math.round(((u.user + u.system) / 1000 / n) * 100) / 100;
  console.log(JSON.stringify(row));
  await p.close();
}
