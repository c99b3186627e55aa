// Image preprocessing on typed arrays: bilinear sampling of a frame region into model input tensors.
// No per-pixel objects; callers pass output buffers so they can be reused frame after frame.
import type { RgbFrame } from './frame.js';

/** A rectangle in frame pixels (may extend outside the frame; outside pixels read as black). */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** How to lay out and scale the sampled pixels. */
export type InputLayout =
  /** NHWC RGB, (v / 127.5) − 1 (BlazeFace). */
  | 'nhwc-rgb-pm1'
  /** NCHW BGR, 0..255 (YuNet). */
  | 'nchw-bgr-255'
  /** NHWC RGB, 0..1 (Human's antispoof and liveness; faceres takes this × 255). */
  | 'nhwc-rgb-01'
  /** NHWC single channel gray = 0.2989R + 0.587G + 0.114B, /255 then (g − 0.5)·2 (emotion model). */
  | 'nhwc-gray-pm1';

/**
 * Sample `rect` of `frame` into `out` at `outW`×`outH` with bilinear interpolation.
 * `out` must hold outW·outH·channels floats starting at `offset`.
 */
export function sampleRegion(frame: RgbFrame, rect: Rect, outW: number, outH: number, layout: InputLayout, out: Float32Array, offset = 0): void {
  const { width: W, height: H, data } = frame;
  const sx = rect.w / outW;
  const sy = rect.h / outH;
  const plane = outW * outH;
  // Column tables, computed once per call: byte offsets of the two neighbours and their weights
  // (zero for neighbours outside the frame, which therefore read as black).
  const cx0 = new Int32Array(outW);
  const cx1 = new Int32Array(outW);
  const cw0 = new Float32Array(outW);
  const cw1 = new Float32Array(outW);
  for (let ox = 0; ox < outW; ox++) {
    const fx = rect.x + (ox + 0.5) * sx - 0.5;
    const x0 = Math.floor(fx);
    const wx = fx - x0;
    const x1 = x0 + 1;
    cw0[ox] = x0 >= 0 && x0 < W ? 1 - wx : 0;
    cw1[ox] = x1 >= 0 && x1 < W ? wx : 0;
    cx0[ox] = (x0 < 0 ? 0 : x0 >= W ? W - 1 : x0) * 3;
    cx1[ox] = (x1 < 0 ? 0 : x1 >= W ? W - 1 : x1) * 3;
  }
  for (let oy = 0; oy < outH; oy++) {
    const fy = rect.y + (oy + 0.5) * sy - 0.5;
    const y0 = Math.floor(fy);
    const wy = fy - y0;
    const y1 = y0 + 1;
    const rw0 = y0 >= 0 && y0 < H ? 1 - wy : 0;
    const rw1 = y1 >= 0 && y1 < H ? wy : 0;
    const r0 = (y0 < 0 ? 0 : y0 >= H ? H - 1 : y0) * W * 3;
    const r1 = (y1 < 0 ? 0 : y1 >= H ? H - 1 : y1) * W * 3;
    const rowOut = oy * outW;
    for (let ox = 0; ox < outW; ox++) {
      const w00 = rw0 * cw0[ox]!;
      const w01 = rw0 * cw1[ox]!;
      const w10 = rw1 * cw0[ox]!;
      const w11 = rw1 * cw1[ox]!;
      const i00 = r0 + cx0[ox]!;
      const i01 = r0 + cx1[ox]!;
      const i10 = r1 + cx0[ox]!;
      const i11 = r1 + cx1[ox]!;
      const r = data[i00]! * w00 + data[i01]! * w01 + data[i10]! * w10 + data[i11]! * w11;
      const g = data[i00 + 1]! * w00 + data[i01 + 1]! * w01 + data[i10 + 1]! * w10 + data[i11 + 1]! * w11;
      const b = data[i00 + 2]! * w00 + data[i01 + 2]! * w01 + data[i10 + 2]! * w10 + data[i11 + 2]! * w11;
      const p = rowOut + ox;
      if (layout === 'nhwc-rgb-pm1') {
        const o = offset + p * 3;
        out[o] = r / 127.5 - 1;
        out[o + 1] = g / 127.5 - 1;
        out[o + 2] = b / 127.5 - 1;
      } else if (layout === 'nhwc-rgb-01') {
        const o = offset + p * 3;
        out[o] = r / 255;
        out[o + 1] = g / 255;
        out[o + 2] = b / 255;
      } else if (layout === 'nchw-bgr-255') {
        out[offset + p] = b;
        out[offset + plane + p] = g;
        out[offset + 2 * plane + p] = r;
      } else {
        out[offset + p] = ((0.2989 * r + 0.587 * g + 0.114 * b) / 255 - 0.5) * 2;
      }
    }
  }
}

/** The square centred on `frame` that contains it (letterboxing keeps faces undistorted). */
export function letterboxRect(width: number, height: number): Rect {
  const s = Math.max(width, height);
  return { x: (width - s) / 2, y: (height - s) / 2, w: s, h: s };
}

/** Intersection over union of two rectangles. */
export function iou(a: Rect, b: Rect): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.w, b.x + b.w);
  const y1 = Math.min(a.y + a.h, b.y + b.h);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}
