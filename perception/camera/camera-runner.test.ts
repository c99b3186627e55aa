import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FfmpegFrameSource } from '../../hardware/camera/index.js';
import { makeFaceVideo, modelsDirForTests } from '../../test/fixtures/faces/faces.js';
import { CameraRunner, type CameraEvent } from './camera-runner.js';
import { CameraPerceiver, type FrameResult } from './perceiver.js';

const modelsDir = modelsDirForTests();
const dir = mkdtempSync(join(tmpdir(), 'hearth-runner-'));
const fastSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 20)));
let server: Server | undefined;
afterEach(() => server?.close());

/** A network camera on 127.0.0.1 whose behaviour per connection is scripted. */
async function camera(script: ((res: import('node:http').ServerResponse) => void)[]): Promise<string> {
  let n = 0;
  server = createServer((_req, res) => (script[Math.min(n++, script.length - 1)]!)(res));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/camera.mjpeg`;
}

describe('CameraRunner: faults become events, perception resumes', () => {
  it('reports a camera that vanishes mid-stream and resumes when it comes back', async () => {
    const stream = readFileSync(makeFaceVideo(dir, { astronautFrames: 6, messiFrames: 6, codec: 'mjpeg' }));
    const url = await camera([
      (res) => { // first connection: part of the stream, then the device drops the connection
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(stream.subarray(0, Math.floor(stream.length * 0.4)));
        setTimeout(() => res.destroy(), 50);
      },
      (res) => { res.writeHead(503); res.end(); }, // still gone
      (res) => { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end(stream); }, // back
    ]);
    const events: CameraEvent[] = [];
    const frames: FrameResult[] = [];
    const ac = new AbortController();
    const runner = new CameraRunner(
      new FfmpegFrameSource(url, { width: 640, height: 480, live: true }),
      () => CameraPerceiver.create({ modelsDir }),
      {
        sleep: fastSleep,
        onFrame: (r) => frames.push(r),
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'camera.recovered') setTimeout(() => ac.abort(), 1500);
        },
      },
    );
    await runner.run(ac.signal);
    const kinds = events.map((e) => (e.type === 'camera.fault' ? `fault:${e.kind}` : e.type));
    const firstLost = kinds.indexOf('fault:camera.lost');
    expect(firstLost).toBeGreaterThan(0);
    expect(kinds.slice(firstLost)).toContain('camera.recovered');
    const faults = events.filter((e): e is Extract<CameraEvent, { type: 'camera.fault' }> => e.type === 'camera.fault' && e.kind === 'camera.lost');
    expect(faults[0]!.reason).toMatch(new RegExp(`^stream ${url}: stream ended after \\d+ frames$`));
    expect(faults[1]!.reason).toContain('Server returned 5XX');
    expect(faults[1]!.retryInMs).toBe(2 * faults[0]!.retryInMs!); // backoff doubles
    // Faces were tracked before the loss, dropped with it, and seen again after it.
    expect(kinds.indexOf('face.lost')).toBeGreaterThan(firstLost);
    expect(frames.filter((r) => r.faces.length > 0).length).toBeGreaterThan(8);
    expect(runner.status).toBe('stopped');
  });

  it('reports a V4L2 camera that is not there, retries with growing backoff, and stays degraded', async () => {
    const events: CameraEvent[] = [];
    const ac = new AbortController();
    const runner = new CameraRunner(new FfmpegFrameSource('/dev/video-hearth-missing', { kind: 'v4l2' }), () => CameraPerceiver.create({ modelsDir }), {
      sleep: fastSleep,
      onEvent: (e) => {
        events.push(e);
        if (events.filter((x) => x.type === 'camera.fault').length === 3) ac.abort();
      },
    });
    const statuses: string[] = [];
    const watch = setInterval(() => statuses.push(runner.status), 2);
    await runner.run(ac.signal);
    clearInterval(watch);
    const faults = events.filter((e): e is Extract<CameraEvent, { type: 'camera.fault' }> => e.type === 'camera.fault');
    expect(faults.map((f) => f.kind)).toEqual(['camera.lost', 'camera.lost', 'camera.lost']);
    expect(faults[0]!.reason).toMatch(/^v4l2 \/dev\/video-hearth-missing: ffmpeg stopped with exit code \d+ after 0 frames: .*No such file or directory/);
    expect(faults.map((f) => f.retryInMs)).toEqual([500, 1000, 2000]);
    expect(statuses).toContain('degraded');
    expect(runner.lastFault).toBe(faults[2]!.reason);
  });

  it('reports a model that fails its hash, keeps running degraded, and starts once the model is fixed', async () => {
    const models = mkdtempSync(join(tmpdir(), 'hearth-badmodels-'));
    const bad = readFileSync(join(modelsDir, 'emotion.onnx'));
    bad[100] = bad[100]! ^ 1;
    writeFileSync(join(models, 'emotion.onnx'), bad);
    for (const f of ['blazeface-human-256.onnx', 'blazeface-front-128.onnx']) copyFileSync(join(modelsDir, f), join(models, f));
    const events: CameraEvent[] = [];
    const ac = new AbortController();
    let processed = 0;
    const runner = new CameraRunner(
      new FfmpegFrameSource(makeFaceVideo(dir, { astronautFrames: 3, messiFrames: 0 })),
      () => CameraPerceiver.create({ modelsDir: models }),
      {
        sleep: async (ms) => {
          await fastSleep(ms);
          // Study staff re-run setup after the second failure.
          if (events.filter((e) => e.type === 'camera.fault').length === 2) copyFileSync(join(modelsDir, 'emotion.onnx'), join(models, 'emotion.onnx'));
        },
        onFrame: () => processed++,
        onEvent: (e) => {
          events.push(e);
          if (events.length > 20) ac.abort(); // a runaway retry loop fails the test instead of hanging it
        },
      },
    );
    const statuses: string[] = [];
    const watch = setInterval(() => statuses.push(runner.status), 2);
    await runner.run(ac.signal);
    clearInterval(watch);
    const faults = events.filter((e) => e.type === 'camera.fault');
    expect(faults).toHaveLength(2);
    expect(faults[0]).toMatchObject({ kind: 'model.failed', reason: expect.stringMatching(/emotion\.onnx: sha256 [0-9a-f]{64} does not match the manifest/) });
    expect(statuses).toContain('degraded');
    expect(processed).toBe(3);
    expect(events.at(-1)).toEqual({ type: 'camera.ended', source: expect.stringContaining('file '), frames: 3 });
  });

  it('turns a frame the models choke on into a frame.failed event and carries on', async () => {
    const perceiver = await CameraPerceiver.create({ modelsDir });
    const events: CameraEvent[] = [];
    let processed = 0;
    const real = perceiver.process.bind(perceiver);
    // A frame whose buffer does not match its stated size (a driver bug): the first frame only.
    let first = true;
    perceiver.process = (frame) => {
      if (first) {
        first = false;
        return real({ ...frame, width: frame.width + 1 });
      }
      return real(frame);
    };
    await new CameraRunner(new FfmpegFrameSource(makeFaceVideo(dir, { astronautFrames: 3, messiFrames: 0 })), async () => perceiver, {
      onFrame: () => processed++,
      onEvent: (e) => events.push(e),
    }).run();
    const faults = events.filter((e) => e.type === 'camera.fault');
    expect(faults).toEqual([{ type: 'camera.fault', kind: 'frame.failed', reason: expect.stringMatching(/^file .*faces-3-0\.mp4: frame 0: 921600 bytes for 641×480 RGB \(expected 923040\)$/) }]);
    expect(processed).toBe(2);
  });
});
