import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegFrameSource } from '../../hardware/camera/index.js';
import { boxInVideo, FACES, makeFaceVideo, modelsDirForTests, type AnnotatedFace } from '../../test/fixtures/faces/faces.js';
import type { RgbFrame } from './frame.js';
import { iou } from './image.js';
import { CameraPerceiver, type DetectorChoice, type FrameResult } from './perceiver.js';

const modelsDir = modelsDirForTests();
const YUNET = new URL('../../../shared/models/yunet_s_dynamic.onnx', import.meta.url).pathname;

async function still(face: AnnotatedFace): Promise<RgbFrame> {
  for await (const f of new FfmpegFrameSource(face.image).open()) return f;
  throw new Error('no frame');
}
/** python-matplotlib-data, installed with python3-skimage (scripts/setup.sh). */
const HOPPER = '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg';
const rect = ([x, y, w, h]: number[]) => ({ x: x!, y: y!, w: w!, h: h! });

describe('camera perception on real images (ffmpeg + onnxruntime)', () => {
  let perceiver: CameraPerceiver;
  beforeAll(async () => {
    perceiver = await CameraPerceiver.create({ modelsDir });
  });
  afterAll(() => perceiver.close());

  it('finds the astronaut’s face (IoU ≥ 0.5 with the hand-drawn box) and sees that she is happy', async () => {
    perceiver.resetTracking();
    const r = await perceiver.process(await still(FACES.astronaut));
    expect(r.faces).toHaveLength(1);
    const face = r.faces[0]!;
    expect(iou(face.box, rect(FACES.astronaut.box))).toBeGreaterThanOrEqual(0.5);
    expect(face.expression).toBe('happy');
    expect(face.valence).toBeGreaterThan(0.3);
    expect(face.confidence).toBeGreaterThan(0.5);
    expect(face.confidence).toBeLessThanOrEqual(1);
  });

  it('finds Messi’s small, tilted face in a wide shot (IoU ≥ 0.5)', async () => {
    perceiver.resetTracking();
    const r = await perceiver.process(await still(FACES.messi));
    const best = r.faces.map((f) => iou(f.box, rect(FACES.messi.box)));
    expect(Math.max(...best)).toBeGreaterThanOrEqual(0.5);
  });

  it('keeps tracking a smaller face beside a nearer one on every frame, not only when the far detector runs', async () => {
    // Two photographs side by side (912×512): the near detector finds only Grace Hopper's, the larger face.
    const dir = mkdtempSync(join(tmpdir(), 'hearth-two-faces-'));
    const file = join(dir, 'two.png');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', FACES.astronaut.image, '-i', HOPPER, '-filter_complex', '[0]scale=-2:512[a];[1]scale=-2:512[b];[a][b]hstack,scale=912:512', file]);
    const frame = await still({ ...FACES.astronaut, image: file });
    rmSync(dir, { recursive: true, force: true });
    perceiver.resetTracking();
    const seen: string[][] = [];
    for (let i = 0; i < 20; i++) seen.push((await perceiver.process(frame)).faces.map((f) => f.id).sort());
    expect(seen[0]).toHaveLength(2);
    expect(seen.every((ids) => ids.join() === seen[0]!.join())).toBe(true);
  });

  it('keeps one id per face across a video, and gives the next person a new id', async () => {
    perceiver.resetTracking();
    const video = makeFaceVideo(mkdtempSync(`${tmpdir()}/hearth-video-`), { astronautFrames: 8, messiFrames: 8 });
    const results: FrameResult[] = [];
    for await (const frame of new FfmpegFrameSource(video).open()) results.push(await perceiver.process(frame));
    expect(results).toHaveLength(16);
    expect(results.every((r) => r.width === 640 && r.height === 480)).toBe(true);
    const main = (r: FrameResult, face: AnnotatedFace) => r.faces.find((f) => iou(f.box, boxInVideo(face)) >= 0.5);
    const astronautIds = new Set(results.slice(0, 8).map((r) => main(r, FACES.astronaut)?.id));
    const messiIds = new Set(results.slice(8).map((r) => main(r, FACES.messi)?.id));
    expect(astronautIds.size).toBe(1);
    expect(messiIds.size).toBe(1);
    expect([...astronautIds][0]).toBeDefined();
    expect([...messiIds][0]).toBeDefined();
    expect([...messiIds][0]).not.toBe([...astronautIds][0]);
    expect(results[0]!.appeared).toEqual([[...astronautIds][0]]);
    expect(results.slice(0, 8).every((r) => main(r, FACES.astronaut)!.expression === 'happy')).toBe(true);
  });

  it.skipIf(!existsSync(YUNET))('loads YuNet by path and decodes it to the same faces (skipped without ../shared/models)', async () => {
    const yunet: DetectorChoice = { kind: 'yunet', path: YUNET, longSide: 640, sha256: 'daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3' };
    const p = await CameraPerceiver.create({ modelsDir, detector: yunet });
    try {
      for (const face of [FACES.astronaut, FACES.messi]) {
        const r = await p.process(await still(face));
        expect(Math.max(...r.faces.map((f) => iou(f.box, rect(face.box))))).toBeGreaterThanOrEqual(0.5);
      }
    } finally {
      await p.close();
    }
  });
});
