// Face detectors on ONNX models: BlazeFace (MediaPipe anchors) and YuNet (anchor-free, per-stride grids).
import type { OnnxModel, TensorData } from '../onnx.js';
import type { RgbFrame } from './frame.js';
import { iou, letterboxRect, sampleRegion, type Rect } from './image.js';

/** A face found in a frame: box in frame pixels, score 0..1, optional landmarks in pixels. */
export interface Detection {
  box: Rect;
  score: number;
  landmarks?: [number, number][];
}

/** Finds faces in a frame. */
export interface FaceDetector {
  /** The model behind it, for logs. */
  readonly name: string;
  detect(frame: RgbFrame): Promise<Detection[]>;
  /** Forget what earlier frames taught it (a new video, a camera that came back). */
  reset?(): void;
}

/** Thresholds shared by the detectors. */
export interface DetectorOptions {
  /** Minimum score to keep a face (default 0.6). */
  scoreThreshold?: number;
  /** Overlap above which the weaker of two boxes is dropped (default 0.3). */
  nmsIou?: number;
  /** Keep at most this many faces, best first (default 8). */
  maxFaces?: number;
}

/** A model whose output does not look like the detector expects; names the model and output. */
export class DetectorOutputError extends Error {
  override readonly name = 'DetectorOutputError';
}

/** Greedy non-maximum suppression, best score first. */
export function nonMaxSuppression(dets: Detection[], threshold: number, max: number): Detection[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.length >= max) break;
    if (kept.every((k) => iou(k.box, d.box) <= threshold)) kept.push(d);
  }
  return kept;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** BlazeFace (MediaPipe): 896 anchors on two grids (16×16×2 and 8×8×6), NHWC RGB input in −1..1. */
export class BlazeFaceDetector implements FaceDetector {
  readonly name: string;
  private readonly size: number;
  private readonly input: Float32Array;
  private readonly threshold: number;
  private readonly nmsIou: number;
  private readonly maxFaces: number;
  private readonly inputName: string;

  constructor(private readonly model: OnnxModel, size: number, name: string, options: DetectorOptions = {}) {
    this.name = name;
    this.size = size;
    this.input = new Float32Array(size * size * 3);
    this.threshold = options.scoreThreshold ?? 0.6;
    this.nmsIou = options.nmsIou ?? 0.3;
    this.maxFaces = options.maxFaces ?? 8;
    this.inputName = model.inputNames[0]!;
  }

  async detect(frame: RgbFrame): Promise<Detection[]> {
    const rect = letterboxRect(frame.width, frame.height);
    sampleRegion(frame, rect, this.size, this.size, 'nhwc-rgb-pm1', this.input);
    const out = await this.model.run({ [this.inputName]: { type: 'float32', data: this.input, dims: [1, this.size, this.size, 3] } });
    // Outputs come as (scores, boxes) pairs per grid; tell them apart by shape.
    const grids: { scores?: Float32Array; boxes?: Float32Array }[] = [{}, {}];
    for (const [name, t] of Object.entries(out)) {
      const n = t.dims[1];
      const last = t.dims[2];
      const g = n === 512 ? 0 : n === 384 ? 1 : -1;
      if (g < 0 || (last !== 1 && last !== 16)) {
        throw new DetectorOutputError(`${this.model.path}: output ${name} has shape [${t.dims.join(',')}], expected [1,512|384,1|16] (BlazeFace)`);
      }
      grids[g]![last === 1 ? 'scores' : 'boxes'] = t.data as Float32Array;
    }
    const layers = [
      { cells: 16, anchors: 2 },
      { cells: 8, anchors: 6 },
    ];
    const dets: Detection[] = [];
    const scale = 1 / this.size;
    const logit = Math.log(this.threshold / (1 - this.threshold));
    layers.forEach((layer, g) => {
      const { scores, boxes } = grids[g]!;
      if (!scores || !boxes) throw new DetectorOutputError(`${this.model.path}: missing the scores or boxes output of grid ${g}`);
      let i = 0;
      for (let cy = 0; cy < layer.cells; cy++) {
        for (let cx = 0; cx < layer.cells; cx++) {
          for (let a = 0; a < layer.anchors; a++, i++) {
            if (scores[i]! < logit) continue;
            const ax = (cx + 0.5) / layer.cells;
            const ay = (cy + 0.5) / layer.cells;
            const b = i * 16;
            const cxn = ax + boxes[b]! * scale;
            const cyn = ay + boxes[b + 1]! * scale;
            const wn = boxes[b + 2]! * scale;
            const hn = boxes[b + 3]! * scale;
            const landmarks: [number, number][] = [];
            for (let k = 0; k < 6; k++) {
              landmarks.push([rect.x + (ax + boxes[b + 4 + 2 * k]! * scale) * rect.w, rect.y + (ay + boxes[b + 5 + 2 * k]! * scale) * rect.h]);
            }
            dets.push({
              box: { x: rect.x + (cxn - wn / 2) * rect.w, y: rect.y + (cyn - hn / 2) * rect.h, w: wn * rect.w, h: hn * rect.h },
              score: sigmoid(scores[i]!),
              landmarks,
            });
          }
        }
      }
    });
    return nonMaxSuppression(dets, this.nmsIou, this.maxFaces).map((d) => clipToFrame(d, frame));
  }
}

/** YuNet (libfacedetection): NCHW BGR 0..255 input of any size divisible by 32; outputs per stride 8/16/32. */
export class YuNetDetector implements FaceDetector {
  readonly name = 'yunet';
  private input: Float32Array = new Float32Array(0);
  private readonly threshold: number;
  private readonly nmsIou: number;
  private readonly maxFaces: number;
  private readonly inputName: string;

  /** `longSide` is the model input's longer side in pixels (rounded to a multiple of 32). */
  constructor(private readonly model: OnnxModel, private readonly longSide = 320, options: DetectorOptions = {}) {
    this.threshold = options.scoreThreshold ?? 0.6;
    this.nmsIou = options.nmsIou ?? 0.3;
    this.maxFaces = options.maxFaces ?? 8;
    this.inputName = model.inputNames[0]!;
  }

  async detect(frame: RgbFrame): Promise<Detection[]> {
    const k = this.longSide / Math.max(frame.width, frame.height);
    const inW = Math.max(32, Math.ceil((frame.width * k) / 32) * 32);
    const inH = Math.max(32, Math.ceil((frame.height * k) / 32) * 32);
    // Sample a region of the frame with the input's aspect ratio (extra area is black padding).
    const rect: Rect = { x: 0, y: 0, w: inW / k, h: inH / k };
    if (this.input.length !== 3 * inW * inH) this.input = new Float32Array(3 * inW * inH);
    sampleRegion(frame, rect, inW, inH, 'nchw-bgr-255', this.input);
    const out = await this.model.run({ [this.inputName]: { type: 'float32', data: this.input, dims: [1, 3, inH, inW] } });
    const get = (name: string, per: number, cells: number): Float32Array => {
      const t: TensorData | undefined = out[name];
      if (!t) throw new DetectorOutputError(`${this.model.path}: output ${name} is missing (YuNet needs cls/obj/bbox/kps per stride)`);
      if (t.data.length !== per * cells) throw new DetectorOutputError(`${this.model.path}: output ${name} holds ${t.data.length} values, expected ${per * cells}`);
      return t.data as Float32Array;
    };
    const dets: Detection[] = [];
    const sx = rect.w / inW;
    const sy = rect.h / inH;
    for (const s of [8, 16, 32]) {
      const cols = inW / s;
      const rows = inH / s;
      const cells = cols * rows;
      const cls = get(`cls_${s}`, 1, cells);
      const obj = get(`obj_${s}`, 1, cells);
      const bbox = get(`bbox_${s}`, 4, cells);
      const kps = get(`kps_${s}`, 10, cells);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const i = r * cols + c;
          const score = Math.sqrt(Math.min(1, Math.max(0, cls[i]!)) * Math.min(1, Math.max(0, obj[i]!)));
          if (score < this.threshold) continue;
          const cx = (c + bbox[i * 4]!) * s;
          const cy = (r + bbox[i * 4 + 1]!) * s;
          const w = Math.exp(bbox[i * 4 + 2]!) * s;
          const h = Math.exp(bbox[i * 4 + 3]!) * s;
          const landmarks: [number, number][] = [];
          for (let j = 0; j < 5; j++) landmarks.push([(kps[i * 10 + 2 * j]! + c) * s * sx, (kps[i * 10 + 2 * j + 1]! + r) * s * sy]);
          dets.push({ box: { x: (cx - w / 2) * sx, y: (cy - h / 2) * sy, w: w * sx, h: h * sy }, score, landmarks });
        }
      }
    }
    return nonMaxSuppression(dets, this.nmsIou, this.maxFaces).map((d) => clipToFrame(d, frame));
  }
}

function clipToFrame(d: Detection, frame: RgbFrame): Detection {
  const x0 = Math.max(0, d.box.x);
  const y0 = Math.max(0, d.box.y);
  const x1 = Math.min(frame.width, d.box.x + d.box.w);
  const y1 = Math.min(frame.height, d.box.y + d.box.h);
  return { ...d, box: { x: x0, y: y0, w: Math.max(0, x1 - x0), h: Math.max(0, y1 - y0) } };
}

/**
 * Two detectors in a cascade: the cheap `near` one every frame, the `far` one when `near` finds fewer
 * faces than the last `far` pass saw (someone further away is still there: a grandchild across the
 * room, a second person beside the participant), and every `farEvery`-th frame so a person further
 * away is not missed for long. A participant alone near the robot costs one small model per frame; a
 * wide shot still finds, and keeps, small faces.
 */
export class CascadeDetector implements FaceDetector {
  readonly name: string;
  private frames = 0;
  /** Faces the last pass of both detectors found. */
  private farSaw = 0;

  constructor(
    private readonly near: FaceDetector,
    private readonly far: FaceDetector,
    private readonly options: { farEvery?: number; nmsIou?: number; maxFaces?: number } = {},
  ) {
    this.name = `${near.name}+${far.name}`;
  }

  async detect(frame: RgbFrame): Promise<Detection[]> {
    const every = this.options.farEvery ?? 15;
    const n = this.frames++;
    const near = await this.near.detect(frame);
    if (near.length && near.length >= this.farSaw && (every <= 0 || n % every !== 0)) return near;
    const far = await this.far.detect(frame);
    const both = nonMaxSuppression([...near, ...far], this.options.nmsIou ?? 0.3, this.options.maxFaces ?? 8);
    this.farSaw = both.length;
    return both;
  }

  reset(): void {
    this.frames = 0;
    this.farSaw = 0;
  }
}
