// The per-frame camera pipeline: detect faces → classify each face's expression → track ids.
import { ModelError, type OnnxModel } from '../onnx.js';
import { loadManifestModel, readManifest, type ModelManifest } from '../models/registry.js';
import { loadOnnxModel } from '../onnx.js';
import { BlazeFaceDetector, CascadeDetector, YuNetDetector, type DetectorOptions, type FaceDetector } from './detectors.js';
import { expressionFromProbabilities, ExpressionClassifier, type BasicExpression } from './expression.js';
import type { RgbFrame } from './frame.js';
import { DEFAULT_IDENTITY_TUNING, FaceIdentifier, headPose, IdentityEvidence, similarityToEnrollment, type FaceEnrollment, type FaceIdentity, type IdentityTuning } from './identity.js';
import type { Rect } from './image.js';
import { IouTracker, type TrackerOptions } from './tracker.js';

/** One face in one frame: id, box in pixels, and an hri_msgs/Expression-shaped estimate. */
export interface FaceExpression {
  id: string;
  box: Rect;
  /** Detector score 0..1. */
  score: number;
  expression: BasicExpression;
  valence: number;
  arousal: number;
  confidence: number;
  /**
   * Who this is, when recognition runs (`PerceiverOptions.identity`): the enrolled participant,
   * someone else, a photo or screen (`spoof`: not present), or not yet known.
   */
  identity?: FaceIdentity;
  /** Mean cosine similarity of this track's descriptors to the enrolment, when measured. */
  similarity?: number;
  /** Mean antispoof "real" and liveness "live" scores of this track (0..1), when measured. */
  antispoof?: number;
  liveness?: number;
  /** Head pose from the detector's landmarks; `facing` 1 = turned to the camera, 0 = 45° or more away. */
  pose?: { yawDeg: number; pitchDeg: number; facing: number };
}

/** What a frame produced, with how long each stage took. */
export interface FrameResult {
  frame: number;
  width: number;
  height: number;
  faces: FaceExpression[];
  /** Ids that appeared and were lost in this frame (libhri-style callbacks can hang off these). */
  appeared: string[];
  lost: string[];
  timings: { detectMs: number; expressionMs: number; trackMs: number; identityMs?: number };
}

/** Which face detector to use: a manifest model, or YuNet by path (e.g. ../shared/models/yunet_s_dynamic.onnx). */
export type DetectorChoice =
  | { kind: 'blazeface-front' | 'blazeface-back' | 'blazeface-human' }
  /** blazeface-front every frame; blazeface-human when it finds nobody and every `farEvery` frames. */
  | { kind: 'cascade'; farEvery?: number }
  | { kind: 'yunet'; path: string; sha256?: string; longSide?: number }
  | { kind: 'blazeface-path'; path: string; size: 128 | 256; sha256?: string };

/** Options for `CameraPerceiver.create`. */
export interface PerceiverOptions {
  detector?: DetectorChoice;
  detection?: DetectorOptions;
  tracking?: TrackerOptions;
  /** Weight of the newest frame in each track's smoothed expression probabilities (default 0.6; 1 = no smoothing). */
  smoothing?: number;
  /** Expression model path instead of the manifest's (its sha256 is then checked only if given). */
  expressionModel?: { path: string; sha256?: string };
  /**
   * Person recognition: who each face is (anti-spoofing always, matching when an enrolment is given).
   * Off when absent. `checkEvery`: frames between re-checks of a decided track (default 10); at most
   * one face is checked per frame, undecided tracks first, so the cost per frame stays bounded.
   */
  identity?: { enrollment?: FaceEnrollment; tuning?: Partial<IdentityTuning>; checkEvery?: number };
  /** Models directory and manifest, for tests. */
  modelsDir?: string;
  manifest?: ModelManifest;
}

interface TrackState {
  probs: Float32Array | undefined;
  evidence: IdentityEvidence;
  /** Frame number of the track's last identity check. */
  checkedAt: number;
}

/** The default detector: chosen by measured IoU on the test faces (see perception/README.md). */
export const DEFAULT_DETECTOR: DetectorChoice = { kind: 'cascade' };

/** Runs detection, expression and tracking on frames; create with `CameraPerceiver.create`. */
export class CameraPerceiver {
  private readonly tracker: IouTracker<TrackState>;
  private readonly smoothing: number;
  private enrollment: FaceEnrollment | undefined;
  private readonly tuning: IdentityTuning;
  private readonly checkEvery: number;
  private frames = 0;

  private constructor(
    readonly detector: FaceDetector,
    private readonly classifier: ExpressionClassifier,
    private readonly models: OnnxModel[],
    options: PerceiverOptions,
    /** The recognition models, when `options.identity` was given. */
    readonly identifier?: FaceIdentifier,
  ) {
    this.tracker = new IouTracker(options.tracking);
    this.smoothing = options.smoothing ?? 0.6;
    this.enrollment = options.identity?.enrollment;
    this.tuning = { ...DEFAULT_IDENTITY_TUNING, ...options.identity?.tuning };
    this.checkEvery = Math.max(1, options.identity?.checkEvery ?? 10);
  }

  /** Load (and hash-check) the models; throws `ModelError` with the file and reason on failure. */
  static async create(options: PerceiverOptions = {}): Promise<CameraPerceiver> {
    const loadOpts = { ...(options.modelsDir ? { dir: options.modelsDir } : {}), ...(options.manifest ? { manifest: options.manifest } : {}) };
    const choice = options.detector ?? DEFAULT_DETECTOR;
    const loaded: OnnxModel[] = [];
    try {
      let detector: FaceDetector;
      if (choice.kind === 'yunet') {
        const m = await loadOnnxModel(choice.path, choice.sha256 ? { sha256: choice.sha256 } : {});
        loaded.push(m);
        detector = new YuNetDetector(m, choice.longSide ?? 320, options.detection);
      } else if (choice.kind === 'blazeface-path') {
        const m = await loadOnnxModel(choice.path, choice.sha256 ? { sha256: choice.sha256 } : {});
        loaded.push(m);
        detector = new BlazeFaceDetector(m, choice.size, 'blazeface', options.detection);
      } else if (choice.kind === 'cascade') {
        const near = await loadManifestModel('blazeface-front', loadOpts);
        loaded.push(near);
        const far = await loadManifestModel('blazeface-human', loadOpts);
        loaded.push(far);
        detector = new CascadeDetector(
          new BlazeFaceDetector(near, 128, 'blazeface-front', options.detection),
          new BlazeFaceDetector(far, 256, 'blazeface-human', options.detection),
          { ...(choice.farEvery !== undefined ? { farEvery: choice.farEvery } : {}), ...(options.detection?.nmsIou !== undefined ? { nmsIou: options.detection.nmsIou } : {}) },
        );
      } else {
        const m = await loadManifestModel(choice.kind, loadOpts);
        loaded.push(m);
        detector = new BlazeFaceDetector(m, choice.kind === 'blazeface-front' ? 128 : 256, choice.kind, options.detection);
      }
      const e = options.expressionModel
        ? await loadOnnxModel(options.expressionModel.path, options.expressionModel.sha256 ? { sha256: options.expressionModel.sha256 } : {})
        : await loadManifestModel('expression', loadOpts);
      loaded.push(e);
      let identifier: FaceIdentifier | undefined;
      if (options.identity) {
        const [d, a, l] = [await loadManifestModel('face-descriptor', loadOpts), await loadManifestModel('antispoof', loadOpts), await loadManifestModel('liveness', loadOpts)];
        loaded.push(d, a, l);
        const manifest = options.manifest ?? readManifest();
        identifier = new FaceIdentifier(d, a, l, manifest.models['face-descriptor']!.sha256, { ...DEFAULT_IDENTITY_TUNING, ...options.identity.tuning }.cropScale);
      }
      return new CameraPerceiver(detector, new ExpressionClassifier(e), loaded, options, identifier);
    } catch (cause) {
      await Promise.all(loaded.map((m) => m.release()));
      if (cause instanceof ModelError) throw cause;
      throw new ModelError(`camera models failed to load: ${(cause as Error).message}`, { cause });
    }
  }

  /** Detect, classify and track the faces of one frame. */
  async process(frame: RgbFrame): Promise<FrameResult> {
    if (!(frame.width > 0 && frame.height > 0) || frame.data.length !== frame.width * frame.height * 3) {
      throw new RangeError(`${frame.data.length} bytes for ${frame.width}×${frame.height} RGB (expected ${frame.width * frame.height * 3})`);
    }
    const t0 = performance.now();
    const dets = (await this.detector.detect(frame)).filter((d) => d.box.w >= 8 && d.box.h >= 8);
    const t1 = performance.now();
    const probs = await this.classifier.classify(frame, dets.map((d) => d.box));
    const t2 = performance.now();
    const { matched, appeared, lost } = this.tracker.update(dets.map((d) => d.box), () => ({ probs: undefined, evidence: new IdentityEvidence(this.tuning), checkedAt: -1e9 }));
    const t2b = performance.now();
    const frameNo = this.frames++;
    if (this.identifier && matched.length) {
      // One face per frame: the least-read undecided track, else the one checked longest ago, if due.
      const order = matched.map((t, i) => ({ t, i })).sort((x, y) => {
        const ux = x.t.state.evidence.readings < this.tuning.minReadings ? 0 : 1;
        const uy = y.t.state.evidence.readings < this.tuning.minReadings ? 0 : 1;
        return ux - uy || x.t.state.checkedAt - y.t.state.checkedAt;
      });
      const pick = order[0]!;
      const due = pick.t.state.evidence.readings < this.tuning.minReadings || frameNo - pick.t.state.checkedAt >= this.checkEvery;
      if (due) {
        const box = dets[pick.i]!.box;
        const scores = await this.identifier.liveness(frame, box);
        const sim = this.enrollment ? similarityToEnrollment(await this.identifier.describe(frame, box), this.enrollment) : undefined;
        pick.t.state.evidence.add(sim, scores);
        pick.t.state.checkedAt = frameNo;
      }
    }
    const t2c = performance.now();
    const a = this.smoothing;
    const faces = matched.map((track, i): FaceExpression => {
      const p = probs[i]!;
      const prev = track.state.probs;
      if (prev) for (let k = 0; k < 7; k++) prev[k] = a * p[k]! + (1 - a) * prev[k]!;
      else track.state.probs = Float32Array.from(p);
      const est = expressionFromProbabilities(track.state.probs!, dets[i]!.score);
      const face: FaceExpression = { id: track.id, box: dets[i]!.box, score: dets[i]!.score, expression: est.expression, valence: est.valence, arousal: est.arousal, confidence: est.confidence };
      const pose = headPose(dets[i]!.landmarks);
      if (pose) face.pose = pose;
      if (this.identifier) {
        const r = track.state.evidence.reading();
        face.identity = r.identity === 'participant' || r.identity === 'other' ? r.identity : r.identity === 'spoof' ? 'spoof' : 'unknown';
        if (r.similarity !== undefined) face.similarity = r.similarity;
        if (r.antispoof !== undefined) face.antispoof = r.antispoof;
        if (r.liveness !== undefined) face.liveness = r.liveness;
      }
      return face;
    });
    const t3 = performance.now();
    return {
      frame: frame.index,
      width: frame.width,
      height: frame.height,
      faces,
      appeared: appeared.map((t) => t.id),
      lost: lost.map((t) => t.id),
      timings: { detectMs: t1 - t0, expressionMs: t2 - t1, trackMs: t3 - t2 - (t2c - t2b), ...(this.identifier ? { identityMs: t2c - t2b } : {}) },
    };
  }

  /**
   * Use this enrolment from now on (or none); every track is re-read against it. Recognition must
   * have been asked for at `create` (`identity`).
   */
  setEnrollment(enrollment: FaceEnrollment | undefined): void {
    if (!this.identifier) throw new Error('setEnrollment: the perceiver was created without identity (PerceiverOptions.identity)');
    this.enrollment = enrollment;
    this.resetTracking();
  }

  /** Forget tracked faces (a new video, a camera that came back); returns the ids dropped. */
  resetTracking(): string[] {
    this.detector.reset?.();
    return this.tracker.reset().map((t) => t.id);
  }

  /** Free the models. */
  async close(): Promise<void> {
    await Promise.all(this.models.map((m) => m.release()));
  }
}
