// The camera port: where frames come from. Adapters (ffmpeg for files and V4L2 devices) live in hardware/camera/.

/** One decoded video frame, packed RGB (3 bytes per pixel, row-major, no padding). */
export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8Array;
  /** 0-based index of the frame within its source. */
  index: number;
  /** Presentation time in milliseconds from the start of the source, when known. */
  ptsMs?: number;
}

/** A problem a frame source noticed that did not stop it (a corrupt frame, a truncated tail). */
export interface FrameSourceWarning {
  kind: 'frame.corrupt' | 'frame.truncated';
  reason: string;
}

/** Produces frames on demand; pulling (async iteration) keeps memory bounded to a frame or two. */
export interface FrameSource {
  /** Human-readable name for logs, e.g. `v4l2 /dev/video0`. */
  readonly name: string;
  /** True for live devices (retry when they fail); false for files (their end is final). */
  readonly live: boolean;
  /**
   * Yields frames until the source ends or `signal` aborts. Throws `FrameSourceError` when the device
   * fails or disappears; reports recoverable problems through `onWarning`.
   */
  open(options?: { signal?: AbortSignal; onWarning?: (w: FrameSourceWarning) => void }): AsyncIterable<RgbFrame>;
}

/** A frame source failed: the device vanished, ffmpeg exited, the input cannot be opened. */
export class FrameSourceError extends Error {
  override readonly name = 'FrameSourceError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
