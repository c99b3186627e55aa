/**
 * The camera check: one frame through `FfmpegFrameSource` (as `--camera` opens it in `hearth talk`/`run`)
 * and the runtime's face detector (`CameraPerceiver`, the default cascade) on it.
 */
import { existsSync } from 'node:fs';
import { FfmpegFrameSource } from '../../hardware/index.js';
import { CameraPerceiver, type RgbFrame } from '../../perception/index.js';
import { result, type CheckResult } from './check.js';

/** The V4L2 device the runtime is pointed at unless told otherwise. */
export const DEFAULT_CAMERA = '/dev/video0';

/** What the camera check uses (tests may give a file source; the models directory for a copy). */
export interface CameraParts {
  /** `/dev/video0`, a video or image file, or a stream. */
  source: string;
  modelsDir?: string;
  /** How long to wait for the frame. Default 15 s. */
  timeoutMs?: number;
}

/** One frame from the source; a camera skips its first frames, which are often dark while exposure settles. */
export async function grabFrame(source: string, timeoutMs: number): Promise<{ frame: RgbFrame; name: string }> {
  const frames = new FfmpegFrameSource(source);
  const skip = source.startsWith('/dev/') ? 5 : 0;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    for await (const frame of frames.open({ signal: ac.signal })) {
      if (frame.index >= skip) return { frame: { ...frame, data: Uint8Array.from(frame.data) }, name: frames.name };
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  throw new Error(ac.signal.aborted ? `no frame from ${frames.name} within ${timeoutMs} ms` : `${frames.name} ended before giving a frame`);
}

/** Grab a frame and look for faces; no camera at a device path is a skip, not a failure. */
export async function cameraCheck(parts: CameraParts): Promise<CheckResult> {
  const { source } = parts;
  if (source.startsWith('/dev/') && !existsSync(source)) {
    return result('camera', 'skip', `no camera at ${source} (nothing to check; give another source with --camera SOURCE)`);
  }
  let grabbed;
  try {
    grabbed = await grabFrame(source, parts.timeoutMs ?? 15_000);
  } catch (e) {
    return result('camera', 'fail', `could not grab a frame: ${(e as Error).message}`,
      'check the camera cable and that no other program holds the camera (`fuser /dev/video0`); `ffmpeg -f v4l2 -i /dev/video0 -frames 1 x.jpg` should work');
  }
  let perceiver: CameraPerceiver;
  try {
    perceiver = await CameraPerceiver.create(parts.modelsDir ? { modelsDir: parts.modelsDir } : {});
  } catch (e) {
    return result('camera', 'fail', `grabbed a frame, but the face models did not load: ${(e as Error).message}`, 're-run `bash scripts/setup.sh` to restore the models');
  }
  try {
    const { frame, name } = grabbed;
    const found = await perceiver.process(frame);
    const size = `${frame.width}×${frame.height} frame from ${name}`;
    if (found.faces.length === 0) {
      return result('camera', 'warn', `${size}; no face found`, 'sit in front of the robot, facing the camera in good light, and run doctor again; clean the lens if the picture is blurred');
    }
    const best = Math.max(...found.faces.map((f) => f.score));
    return result('camera', 'ok', `${size}; ${found.faces.length} face${found.faces.length === 1 ? '' : 's'} found (best detector score ${best.toFixed(2)}, ${found.faces[0]!.expression})`);
  } finally {
    await perceiver.close();
  }
}
