// Knowing who is there: a face descriptor (Human's faceres) matched against the enrolled participant,
// anti-spoofing (Human's antispoof and liveness: a photo or a screen is not a person), and head pose from
// the detector's landmarks. Only descriptors leave this module, never pixels.
import type { OnnxModel } from '../onnx.js';
import type { RgbFrame } from './frame.js';
import { sampleRegion, type Rect } from './image.js';

/** The participant's enrolled face: descriptors only (unit vectors), never an image. */
export interface FaceEnrollment {
  /** Format version of this record. */
  version: 1;
  participantId: string;
  /** sha256 of the descriptor model the vectors came from; vectors of another model do not compare. */
  model: string;
  /** One unit-length descriptor per enrolment frame (1024 numbers each). */
  descriptors: number[][];
  /** Epoch ms of the enrolment. */
  enrolledAtMs: number;
}

/** Where enrolments are kept (a file in the device folder: `hardware/camera`'s `FileEnrollmentStore`). */
export interface EnrollmentStore {
  load(): FaceEnrollment | undefined;
  save(enrollment: FaceEnrollment): void;
  /** Remove the enrolment (consent for video withdrawn); true when there was one. */
  remove(): boolean;
}

/** Why an enrolment was refused. */
export class EnrollmentError extends Error {
  override readonly name = 'EnrollmentError';
}

/**
 * Thresholds, chosen on the calibration half of the test faces (`npm run bench:person`; see
 * perception/README.md "Knowing who is there"). A face is the participant when the mean of its
 * track's best cosine similarities to the enrolled descriptors reaches `matchAt`; it is someone
 * else below `otherBelow`; in between it stays undecided. A face whose mean antispoof score is below
 * `liveAt` *and* whose mean liveness score is below `livenessAt` is taken for a photo or screen (both
 * models must agree: on the test faces either one alone rejects about as many real faces as fakes).
 */
export interface IdentityTuning {
  matchAt: number;
  otherBelow: number;
  /** Antispoof "real" score (0..1) below which a face may be a photo or screen. */
  liveAt: number;
  /** Liveness "live" score (0..1) below which a face may be a photo or screen. */
  livenessAt: number;
  /** Descriptor readings a track needs before it is decided either way. */
  minReadings: number;
  /** Square crop side as a multiple of the detector box's longer side. */
  cropScale: number;
}

/** Defaults measured by `npm run bench:person` (calibration split). */
export const DEFAULT_IDENTITY_TUNING: IdentityTuning = {
  matchAt: 0.62,
  otherBelow: 0.52,
  liveAt: 0.44,
  livenessAt: 0.5,
  minReadings: 2,
  cropScale: 1.2,
};

/** The square region around a face box that the models see. */
export function faceCrop(box: Rect, scale: number): Rect {
  const side = Math.max(box.w, box.h) * scale;
  return { x: box.x + box.w / 2 - side / 2, y: box.y + box.h / 2 - side / 2, w: side, h: side };
}

/** Cosine similarity of two unit vectors. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Best similarity of a descriptor to an enrolment's descriptors (−1 when it has none). */
export function similarityToEnrollment(descriptor: ArrayLike<number>, enrollment: FaceEnrollment): number {
  let best = -1;
  for (const d of enrollment.descriptors) best = Math.max(best, cosine(descriptor, d));
  return best;
}

/** Runs faceres (descriptor), antispoof and liveness on face crops. */
export class FaceIdentifier {
  private readonly desc: Float32Array;
  private readonly spoofIn: Float32Array;
  private readonly liveIn: Float32Array;

  constructor(
    private readonly descriptorModel: OnnxModel,
    private readonly antispoofModel: OnnxModel,
    private readonly livenessModel: OnnxModel,
    readonly modelHash: string,
    private readonly cropScale = DEFAULT_IDENTITY_TUNING.cropScale,
  ) {
    this.desc = new Float32Array(224 * 224 * 3);
    this.spoofIn = new Float32Array(128 * 128 * 3);
    this.liveIn = new Float32Array(32 * 32 * 3);
  }

  /** The face's unit-length 1024-d descriptor (faceres `global_pooling/Mean`, L2-normalised). */
  async describe(frame: RgbFrame, box: Rect): Promise<Float32Array> {
    sampleRegion(frame, faceCrop(box, this.cropScale), 224, 224, 'nhwc-rgb-01', this.desc);
    for (let i = 0; i < this.desc.length; i++) this.desc[i] = this.desc[i]! * 255;
    const out = await this.descriptorModel.run({ [this.descriptorModel.inputNames[0]!]: { type: 'float32', data: this.desc, dims: [1, 224, 224, 3] } });
    const t = out['global_pooling/Mean'] ?? out[this.descriptorModel.outputNames[0]!];
    const v = Float32Array.from(t!.data as Float32Array);
    if (v.length !== 1024) throw new Error(`${this.descriptorModel.path}: descriptor has ${v.length} values, expected 1024`);
    let n = 0;
    for (const x of v) n += x * x;
    n = Math.sqrt(n) || 1;
    for (let i = 0; i < v.length; i++) v[i] = v[i]! / n;
    return v;
  }

  /** Anti-spoofing scores 0..1 (1 = a real face): Human's `antispoof` and `liveness`. */
  async liveness(frame: RgbFrame, box: Rect): Promise<{ antispoof: number; liveness: number }> {
    const crop = faceCrop(box, this.cropScale);
    sampleRegion(frame, crop, 128, 128, 'nhwc-rgb-01', this.spoofIn);
    sampleRegion(frame, crop, 32, 32, 'nhwc-rgb-01', this.liveIn);
    const a = await this.antispoofModel.run({ [this.antispoofModel.inputNames[0]!]: { type: 'float32', data: this.spoofIn, dims: [1, 128, 128, 3] } });
    const l = await this.livenessModel.run({ [this.livenessModel.inputNames[0]!]: { type: 'float32', data: this.liveIn, dims: [1, 32, 32, 3] } });
    return {
      antispoof: (a[this.antispoofModel.outputNames[0]!]!.data as Float32Array)[0]!,
      liveness: (l[this.livenessModel.outputNames[0]!]!.data as Float32Array)[0]!,
    };
  }
}

/**
 * Head pose from the detector's landmarks (BlazeFace: right eye, left eye, nose tip, mouth, right ear,
 * left ear; YuNet: right eye, left eye, nose tip, mouth corners). Yaw from how far the nose sits from
 * the eyes' midpoint, in eye distances (0 facing the camera, about ±0.5 at a three-quarter view);
 * pitch likewise from the nose's height below the eye line against a frontal face's ~0.45.
 * Degrees are a rough geometric reading (asin of the offset over a head radius), not a calibrated pose.
 */
export function headPose(landmarks: readonly [number, number][] | undefined): { yawDeg: number; pitchDeg: number; facing: number } | undefined {
  if (!landmarks || landmarks.length < 3) return undefined;
  const [re, le, nose] = landmarks as [[number, number], [number, number], [number, number]];
  const eyeDist = Math.hypot(le[0] - re[0], le[1] - re[1]);
  if (!(eyeDist > 1)) return undefined;
  // Along and across the eye line, so a tilted head is not read as a turned one.
  const ux = (le[0] - re[0]) / eyeDist;
  const uy = (le[1] - re[1]) / eyeDist;
  const mx = (le[0] + re[0]) / 2;
  const my = (le[1] + re[1]) / 2;
  const along = ((nose[0] - mx) * ux + (nose[1] - my) * uy) / eyeDist;
  const across = (-(nose[0] - mx) * uy + (nose[1] - my) * ux) / eyeDist;
  const clamp = (x: number) => Math.max(-1, Math.min(1, x));
  // The nose tip sits ~0.9 eye distances in front of the eye line's centre of rotation.
  const yawDeg = (Math.asin(clamp(along / 0.9)) * 180) / Math.PI;
  const pitchDeg = (Math.asin(clamp((across - 0.45) / 0.9)) * 180) / Math.PI;
  // 1 facing the robot, 0 at 45° or more away in yaw or pitch.
  const facing = Math.max(0, 1 - Math.max(Math.abs(yawDeg), Math.abs(pitchDeg) * 0.8) / 45);
  return { yawDeg, pitchDeg, facing };
}

/** Who a tracked face is. `spoof`: rejected by anti-spoofing (a photo, a screen): not present. */
export type FaceIdentity = 'participant' | 'other' | 'spoof' | 'unknown';

/** A track's identity evidence. */
export interface IdentityReading {
  identity: FaceIdentity;
  /** Mean best similarity to the enrolment over the track's readings, when any. */
  similarity?: number;
  /** Mean antispoof score over the track's readings, when any. */
  antispoof?: number;
  liveness?: number;
  readings: number;
}

/** Accumulates descriptor and anti-spoofing readings per track and decides who each face is. */
export class IdentityEvidence {
  private sims: number[] = [];
  private spoof: number[] = [];
  private live: number[] = [];

  constructor(private readonly tuning: IdentityTuning = DEFAULT_IDENTITY_TUNING) {}

  add(similarity: number | undefined, scores: { antispoof: number; liveness: number }): void {
    if (similarity !== undefined) this.sims.push(similarity);
    this.spoof.push(scores.antispoof);
    this.live.push(scores.liveness);
    // The last few readings: a face that turns, or a person who steps in front of a photo, is re-decided.
    for (const xs of [this.sims, this.spoof, this.live]) if (xs.length > 5) xs.shift();
  }

  get readings(): number {
    return this.spoof.length;
  }

  reading(): IdentityReading {
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
    const similarity = mean(this.sims);
    const antispoof = mean(this.spoof);
    const liveness = mean(this.live);
    const r: IdentityReading = { identity: 'unknown', readings: this.spoof.length };
    if (similarity !== undefined) r.similarity = similarity;
    if (antispoof !== undefined) r.antispoof = antispoof;
    if (liveness !== undefined) r.liveness = liveness;
    if (this.spoof.length < this.tuning.minReadings) return r;
    if (antispoof! < this.tuning.liveAt && liveness! < this.tuning.livenessAt) r.identity = 'spoof';
    else if (similarity === undefined) r.identity = 'unknown';
    else if (similarity >= this.tuning.matchAt) r.identity = 'participant';
    else if (similarity < this.tuning.otherBelow) r.identity = 'other';
    return r;
  }
}
