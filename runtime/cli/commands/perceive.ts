import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { FfmpegFrameSource } from '../../../hardware/index.js';
import { CameraPerceiver, DEFAULT_DETECTOR, FrameSourceError, type DetectorChoice } from '../../../perception/index.js';
import { UsageError } from '../errors.js';

interface PerceiveOptions {
  detector: string;
  yunet?: string;
  threshold: string;
  fps?: string;
  models?: string;
  smoothing: boolean;
}

const MANIFEST_DETECTORS = ['cascade', 'blazeface-human', 'blazeface-back', 'blazeface-front'] as const;

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** `hearth perceive FILE...`: one JSON line per image or video frame with each face's box and expression. */
export function register(program: Command): void {
  program
    .command('perceive')
    .description('detect faces and their expressions in images or videos; prints one JSON line per image or video frame')
    .argument('<files...>', 'images or videos (anything ffmpeg reads)')
    .option('--detector <name>', `face detector: ${MANIFEST_DETECTORS.join(', ')}`, DEFAULT_DETECTOR.kind)
    .option('--yunet <onnx>', 'use a YuNet ONNX file as the face detector instead (e.g. yunet_s_dynamic.onnx)')
    .option('--threshold <score>', 'minimum face detection score, 0..1', '0.6')
    .option('--fps <n>', 'resample videos to this frame rate first')
    .option('--models <dir>', 'models directory (default: <repo>/models or $HEARTH_MODELS_DIR)')
    .option('--no-smoothing', "report each frame's expression alone instead of smoothing along each face's track")
    .action(async (files: string[], o: PerceiveOptions) => {
      for (const f of files) {
        if (!existsSync(f)) throw new UsageError(`perceive: ${f}: no such file`);
        if (!statSync(f).isFile()) throw new UsageError(`perceive: ${f}: not a file`);
      }
      const threshold = Number(o.threshold);
      if (!(threshold >= 0 && threshold <= 1)) throw new UsageError(`option --threshold: expected a number in 0..1, got "${o.threshold}"`);
      const fps = o.fps === undefined ? undefined : Number(o.fps);
      if (fps !== undefined && !(fps > 0)) throw new UsageError(`option --fps: expected a positive number, got "${o.fps}"`);
      let detector: DetectorChoice;
      if (o.yunet) {
        if (!existsSync(o.yunet)) throw new UsageError(`option --yunet: ${o.yunet}: no such file`);
        detector = { kind: 'yunet', path: o.yunet };
      } else if ((MANIFEST_DETECTORS as readonly string[]).includes(o.detector)) {
        detector = { kind: o.detector as (typeof MANIFEST_DETECTORS)[number] };
      } else {
        throw new UsageError(`option --detector: expected one of ${MANIFEST_DETECTORS.join(', ')}, got "${o.detector}"`);
      }
      const perceiver = await CameraPerceiver.create({
        detector,
        detection: { scoreThreshold: threshold },
        ...(o.smoothing ? {} : { smoothing: 1 }),
        ...(o.models ? { modelsDir: o.models } : {}),
      });
      try {
        for (const file of files) {
          perceiver.resetTracking();
          const source = new FfmpegFrameSource(file, { kind: 'file', ...(fps ? { fps } : {}) });
          try {
            const onWarning = (w: { reason: string }) => process.stderr.write(`hearth perceive: warning: ${w.reason}\n`);
            for await (const frame of source.open({ onWarning })) {
              const r = await perceiver.process(frame);
              console.log(JSON.stringify({
                file,
                frame: r.frame,
                faces: r.faces.map((f) => ({
                  id: f.id,
                  box: [f.box.x, f.box.y, f.box.w, f.box.h].map((v) => Math.round(v)),
                  expression: f.expression,
                  valence: round(f.valence),
                  arousal: round(f.arousal),
                  confidence: round(f.confidence),
                })),
              }));
            }
          } catch (e) {
            if (e instanceof FrameSourceError) throw new UsageError(`perceive: ${e.message}`, { cause: e });
            throw e;
          }
        }
      } finally {
        await perceiver.close();
      }
    });
}
