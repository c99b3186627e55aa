// Camera and model checks on real files: Debian's test images through ffmpeg and the runtime's face
// detector, and the repo's models (copied, one byte flipped, to fail the manifest check).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FACES, modelsDirForTests } from '../../test/fixtures/faces/faces.js';
import { cameraCheck } from './camera.js';
import { modelFilesCheck, sentenceEncoderCheck } from './models.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-doctor-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const models = modelsDirForTests();

describe('camera check', () => {
  it('skips with a clear reason when there is no camera device', async () => {
    const r = await cameraCheck({ source: '/dev/video97' });
    expect(r).toEqual({ name: 'camera', status: 'skip', detail: 'no camera at /dev/video97 (nothing to check; give another source with --camera SOURCE)' });
  });

  it('grabs a frame from an image source and finds the face with the runtime detector', async () => {
    const r = await cameraCheck({ source: FACES.astronaut.image, modelsDir: models });
    expect(r.status).toBe('ok');
    expect(r.detail).toMatch(/^512×512 frame from file .*astronaut\.png; 1 face found \(best detector score 0\.\d\d, \w+\)$/);
  });

  it('warns when the frame holds no face, telling staff to sit in front of the camera', async () => {
    const empty = join(dir, 'wall.png');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=gray:s=320x240', '-frames:v', '1', empty]);
    const r = await cameraCheck({ source: empty, modelsDir: models });
    expect(r.status).toBe('warn');
    expect(r.detail).toMatch(/320×240 frame .*; no face found$/);
    expect(r.fix).toMatch(/sit in front/);
  });

  it('fails a source that gives no frame, with ffmpeg\'s reason', async () => {
    const junk = join(dir, 'junk.mp4');
    writeFileSync(junk, 'not a video');
    const r = await cameraCheck({ source: junk });
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/^could not grab a frame: .*junk\.mp4/);
  });
});

// Every model of the manifest, plus the Silero VAD pinned in its npm package.
const PINNED = Object.keys((JSON.parse(readFileSync(new URL('../../perception/models/manifest.json', import.meta.url), 'utf8')) as { models: Record<string, unknown> }).models).length + 1;

describe('model files check', () => {
  it('passes the installed models and the Silero VAD against their pins', async () => {
    const r = await modelFilesCheck({ modelsDir: models });
    expect(r).toMatchObject({ status: 'ok', detail: expect.stringMatching(new RegExp(`^${PINNED} model files match their sha256 pins`)) });
  });

  /** A models folder linking to the real files, with `damaged` copied and one byte flipped, and `missing` left out. */
  function modelsCopy(name: string, damaged: string | null, missing: string | null): string {
    const copy = join(dir, name);
    execFileSync('mkdir', ['-p', copy]);
    for (const f of readdirSync(models)) {
      if (f === missing || f === 'vendor') continue;
      if (f === damaged) {
        copyFileSync(join(models, f), join(copy, f));
        const bytes = readFileSync(join(copy, f));
        bytes[bytes.length >> 1]! ^= 0x01;
        writeFileSync(join(copy, f), bytes);
      } else symlinkSync(join(models, f), join(copy, f));
    }
    return copy;
  }

  it('fails a model with one flipped byte, naming the file, while the others pass', async () => {
    const copy = modelsCopy('flipped', 'emotion.onnx', null);
    const r = await modelFilesCheck({ modelsDir: copy });
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(new RegExp(`^1 of ${PINNED} model files wrong: ${join(copy, 'emotion.onnx').replace(/[.]/g, '\\.')}: sha256 [0-9a-f]{12}… does not match the pinned 54edd2bf2848…`));
    expect(r.fix).toMatch(/scripts\/setup\.sh/);
    // The encoder does not use the expression model: it still loads from the same folder.
    expect((await sentenceEncoderCheck({ modelsDir: copy })).status).toBe('ok');
  });

  it('fails a missing model, naming it', async () => {
    const copy = modelsCopy('missing', null, 'blazeface-back-256.onnx');
    const r = await modelFilesCheck({ modelsDir: copy });
    expect(r.detail).toContain(`${join(copy, 'blazeface-back-256.onnx')}: missing`);
  });

  it('loads the sentence encoder with the safeguard model and gets a unit 512-d vector; a damaged encoder fails naming its file', async () => {
    const ok = await sentenceEncoderCheck({ modelsDir: models });
    expect(ok).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^use-lite\/@energetic-ai\/model-embeddings-en@0\.2\.0 loaded with the safeguard model and encoded a sentence \(512-d, \d+ ms\)$/) });
    const copy = modelsCopy('bad-encoder', 'use-lite.onnx', null);
    const bad = await sentenceEncoderCheck({ modelsDir: copy });
    expect(bad.status).toBe('fail');
    expect(bad.detail).toMatch(/use-lite\.onnx: sha256 .* does not match the manifest/);
  });
});
