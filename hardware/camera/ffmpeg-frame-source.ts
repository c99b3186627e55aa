// Frames from ffmpeg: video files, still images and V4L2 cameras, decoded to raw rgb24 on stdout.
// Reading is pull-based: while the consumer is busy, the pipe fills and ffmpeg blocks, so memory
// stays at about one frame whatever the input's length.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { FrameSourceError, type FrameSource, type FrameSourceWarning, type RgbFrame } from '../../perception/index.js';

const execFileAsync = promisify(execFile);

/** Options for `FfmpegFrameSource`. */
export interface FfmpegFrameSourceOptions {
  /** `v4l2` for a camera device; `file` for videos and images. Default: `v4l2` for /dev/video*, else `file`. */
  kind?: 'file' | 'v4l2';
  /** Output size; frames are scaled to it. Default: the input's own size (probed), 640×480 for cameras. */
  width?: number;
  height?: number;
  /** Frame rate asked of the camera (default 30), or resampled to for files (default: the file's own). */
  fps?: number;
  /** Deliver file frames at their own pace (ffmpeg `-re`), as a camera would. Default false. */
  realtime?: boolean;
  /**
   * Treat the input as a live camera (network stream, pipe from `rpicam-vid`): its end is a fault and
   * the runner retries it. Default: true for V4L2 devices, false for files.
   */
  live?: boolean;
  /** ffmpeg and ffprobe binaries; default on PATH. */
  ffmpegPath?: string;
  ffprobePath?: string;
}

/** Decodes a video file, an image or a V4L2 camera through ffmpeg into `RgbFrame`s. */
export class FfmpegFrameSource implements FrameSource {
  readonly live: boolean;
  private readonly kind: 'file' | 'v4l2';

  constructor(
    private readonly input: string,
    private readonly options: FfmpegFrameSourceOptions = {},
  ) {
    this.kind = options.kind ?? (input.startsWith('/dev/video') ? 'v4l2' : 'file');
    this.live = options.live ?? this.kind === 'v4l2';
  }

  get name(): string {
    return `${this.kind === 'v4l2' ? 'v4l2' : this.live ? 'stream' : 'file'} ${this.input}`;
  }

  /** The frame size this source will deliver (probing the input when no size was configured). */
  async size(): Promise<{ width: number; height: number }> {
    if (this.options.width && this.options.height) return { width: this.options.width, height: this.options.height };
    if (this.kind === 'v4l2') return { width: 640, height: 480 };
    let out: string;
    try {
      ({ stdout: out } = await execFileAsync(this.options.ffprobePath ?? 'ffprobe', [
        '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0:s=x', this.input,
      ]));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new FrameSourceError(`${this.input}: cannot run ${this.options.ffprobePath ?? 'ffprobe'} (not installed? Debian package ffmpeg)`, { cause });
      }
      const msg = ((cause as { stderr?: string }).stderr || (cause as Error).message).trim().split('\n').at(-1);
      throw new FrameSourceError(`${this.input}: cannot read video (${msg})`, { cause });
    }
    const m = /^(\d+)x(\d+)/.exec(out.trim());
    if (!m) throw new FrameSourceError(`${this.input}: no video stream found (ffprobe said ${JSON.stringify(out.trim())})`);
    return { width: Number(m[1]), height: Number(m[2]) };
  }

  async *open(options: { signal?: AbortSignal; onWarning?: (w: FrameSourceWarning) => void } = {}): AsyncIterable<RgbFrame> {
    const { signal, onWarning } = options;
    const { width, height } = await this.size();
    const o = this.options;
    const input =
      this.kind === 'v4l2'
        ? ['-f', 'v4l2', '-framerate', String(o.fps ?? 30), '-video_size', `${o.width ?? 640}x${o.height ?? 480}`, '-i', this.input]
        : [...(o.realtime ? ['-re'] : []), '-i', this.input];
    const filters = [...(o.fps && this.kind === 'file' ? [`fps=${o.fps}`] : []), `scale=${width}:${height}`];
    const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', ...input, '-an', '-vf', filters.join(','), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
    const child = spawn(o.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderrTail = '';
    let frameIndex = 0;
    // ffmpeg conceals decode errors and carries on; its messages become warnings once a later frame
    // shows it carried on (a fatal last message goes into the error instead).
    let pending: string[] = [];
    let partial = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderrTail = (stderrTail + d).slice(-4000);
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) pending.push(`${this.name}: near frame ${frameIndex}: ${line.trim()}`);
    });
    const flush = (atEnd: boolean, keepLast = false) => {
      if (atEnd && partial.trim()) pending.push(`${this.name}: near frame ${frameIndex}: ${partial.trim()}`);
      if (atEnd) partial = '';
      const out = keepLast ? pending.slice(0, -1) : pending;
      pending = [];
      for (const reason of out) onWarning?.({ kind: 'frame.corrupt', reason });
    };
    const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, error }));
      child.once('close', (code) => resolve({ code }));
    });
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    const frameBytes = width * height * 3;
    // allocUnsafe: every byte is overwritten before the frame is handed out.
    let buf: Uint8Array = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
        if (signal?.aborted) return;
        let at = 0;
        while (at < chunk.length) {
          const n = Math.min(frameBytes - filled, chunk.length - at);
          buf.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === frameBytes) {
            flush(false);
            yield { width, height, data: buf, index: frameIndex++ };
            buf = Buffer.allocUnsafe(frameBytes);
            filled = 0;
          }
        }
      }
      const { code, error } = await exited;
      if (signal?.aborted) return;
      // An input that never produced a frame failed to open: its messages explain the error, they are
      // not corrupt frames.
      if (code !== 0 && frameIndex === 0) pending = [];
      else flush(true, code !== 0);
      if (error) throw new FrameSourceError(`${this.name}: cannot run ffmpeg (${error.message})`, { cause: error });
      if (filled > 0) {
        onWarning?.({ kind: 'frame.truncated', reason: `${this.name}: stream ended inside frame ${frameIndex} (${filled} of ${frameBytes} bytes); frame dropped` });
      }
      if (code !== 0) {
        const lines = stderrTail.trim().split('\n').map((l) => l.trim()).filter(Boolean);
        const why = (frameIndex === 0 ? lines.slice(-3) : lines.slice(-1)).join(' / ');
        throw new FrameSourceError(`${this.name}: ffmpeg stopped with exit code ${code} after ${frameIndex} frames: ${why}`);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
  }
}
