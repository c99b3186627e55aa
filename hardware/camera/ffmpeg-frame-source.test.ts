import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FrameSourceError, type FrameSourceWarning, type RgbFrame } from '../../perception/index.js';
import { frameSourceContract } from '../../perception/camera/frame-source.contract.js';
import { FACES, makeFaceVideo } from '../../test/fixtures/faces/faces.js';
import { FfmpegFrameSource } from './ffmpeg-frame-source.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-frames-'));

async function readAll(source: FfmpegFrameSource, signal?: AbortSignal) {
  const frames: RgbFrame[] = [];
  const warnings: FrameSourceWarning[] = [];
  let error: unknown;
  try {
    for await (const f of source.open({ ...(signal ? { signal } : {}), onWarning: (w) => warnings.push(w) })) frames.push(f);
  } catch (e) {
    error = e;
  }
  return { frames, warnings, error };
}

frameSourceContract('FfmpegFrameSource on a video file', {
  make: () => new FfmpegFrameSource(makeFaceVideo(dir, { astronautFrames: 5, messiFrames: 0 })),
  minFrames: 3,
  width: 640,
  height: 480,
});

describe.skipIf(!existsSync('/dev/video0'))('FfmpegFrameSource on a V4L2 camera (skipped: no /dev/video0 on this machine)', () => {
  frameSourceContract('FfmpegFrameSource on /dev/video0', { make: () => new FfmpegFrameSource('/dev/video0', { width: 640, height: 480 }), minFrames: 5, width: 640, height: 480 });
});

describe('FfmpegFrameSource (real ffmpeg)', () => {
  it('decodes every frame of a video to packed RGB at the video’s size', async () => {
    const video = makeFaceVideo(dir, { astronautFrames: 4, messiFrames: 3 });
    const { frames, warnings, error } = await readAll(new FfmpegFrameSource(video));
    expect(error).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(frames.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(frames.every((f) => f.width === 640 && f.height === 480 && f.data.length === 640 * 480 * 3)).toBe(true);
    // The padding bars are black and the picture is not: real pixels, not an empty buffer.
    expect(frames[0]!.data[0]).toBeLessThan(10);
    const mid = frames[0]!.data.subarray(640 * 3 * 240, 640 * 3 * 241);
    expect(Math.max(...mid)).toBeGreaterThan(150);
  });

  it('reads a still image as one frame, and scales when asked', async () => {
    const { frames } = await readAll(new FfmpegFrameSource(FACES.messi.image, { width: 274, height: 171 }));
    expect(frames).toHaveLength(1);
    expect([frames[0]!.width, frames[0]!.height, frames[0]!.data.length]).toEqual([274, 171, 274 * 171 * 3]);
  });

  it('reports corrupt frames as warnings and keeps delivering frames', async () => {
    const good = readFileSync(makeFaceVideo(dir, { astronautFrames: 5, messiFrames: 5, codec: 'mjpeg' }));
    const bad = Buffer.from(good);
    for (let i = 0; i < 3000; i++) bad[Math.floor(good.length * 0.3) + i] = (i * 37) & 0xff;
    writeFileSync(join(dir, 'corrupt.mjpeg'), bad);
    const { frames, warnings, error } = await readAll(new FfmpegFrameSource(join(dir, 'corrupt.mjpeg')));
    expect(error).toBeUndefined();
    expect(frames.length).toBeGreaterThanOrEqual(9);
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]!.kind).toBe('frame.corrupt');
    expect(warnings[0]!.reason).toContain(`${join(dir, 'corrupt.mjpeg')}: near frame`);
  });

  it('drops a frame cut off mid-stream and says so (frame.truncated)', async () => {
    // A decoder that dies inside the second frame: real ffmpeg whose output is cut after 1.5 frames.
    const cut = join(dir, 'ffmpeg-cut.sh');
    writeFileSync(cut, `#!/bin/sh\nffmpeg "$@" | head -c ${Math.floor(640 * 480 * 3 * 1.5)}\n`);
    chmodSync(cut, 0o755);
    const video = makeFaceVideo(dir, { astronautFrames: 3, messiFrames: 0 });
    const { frames, warnings, error } = await readAll(new FfmpegFrameSource(video, { ffmpegPath: cut }));
    expect(error).toBeUndefined();
    expect(frames).toHaveLength(1);
    // ffmpeg's own complaints (broken pipe) come first, then the dropped frame.
    expect(warnings.at(-1)).toEqual({ kind: 'frame.truncated', reason: `file ${video}: stream ended inside frame 1 (${640 * 480 * 3 * 0.5} of ${640 * 480 * 3} bytes); frame dropped` });
    expect(warnings.filter((w) => w.kind === 'frame.truncated')).toHaveLength(1);
  });

  it('fails with the file and ffmpeg’s reason for a truncated or missing file', async () => {
    const mp4 = readFileSync(makeFaceVideo(dir, { astronautFrames: 3, messiFrames: 3 }));
    writeFileSync(join(dir, 'half.mp4'), mp4.subarray(0, mp4.length >> 1));
    const half = await readAll(new FfmpegFrameSource(join(dir, 'half.mp4')));
    expect(half.error).toBeInstanceOf(FrameSourceError);
    expect((half.error as Error).message).toBe(`${join(dir, 'half.mp4')}: cannot read video (${join(dir, 'half.mp4')}: Invalid data found when processing input)`);
    const missing = await readAll(new FfmpegFrameSource(join(dir, 'nope.mp4')));
    expect((missing.error as Error).message).toMatch(/nope\.mp4: No such file or directory\)$/);
  });

  it('stops ffmpeg when aborted mid-stream', async () => {
    const video = makeFaceVideo(dir, { astronautFrames: 30, messiFrames: 30 });
    const ac = new AbortController();
    const frames: RgbFrame[] = [];
    for await (const f of new FfmpegFrameSource(video).open({ signal: ac.signal })) {
      frames.push(f);
      if (frames.length === 3) ac.abort();
    }
    expect(frames.length).toBeLessThan(10);
  });
});
