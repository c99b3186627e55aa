// Runs the camera pipeline against a FrameSource and never crashes on a device, frame or model fault:
// each fault becomes an event with a reason, the runner degrades, retries with backoff, and reports
// when perception resumes.
import { backoffDelay, sleep as abortableSleep } from '../../data/index.js';
import type { CameraPerceiver, FrameResult } from './perceiver.js';
import type { FrameSource, FrameSourceWarning } from './frame.js';

/** What the camera runner tells its owner; `camera.fault` always carries a human-readable reason. */
export type CameraEvent =
  | { type: 'camera.started'; source: string }
  | { type: 'camera.fault'; kind: CameraFaultKind; reason: string; retryInMs?: number }
  | { type: 'camera.recovered'; source: string; downMs: number }
  | { type: 'camera.ended'; source: string; frames: number }
  | { type: 'face.appeared'; id: string }
  | { type: 'face.lost'; id: string };

/** Kinds of camera fault. */
export type CameraFaultKind = 'camera.lost' | 'frame.corrupt' | 'frame.truncated' | 'frame.failed' | 'model.failed';

/** The runner's state, for the runtime's status line. */
export type CameraStatus = 'idle' | 'starting' | 'running' | 'degraded' | 'stopped';

/** Callbacks and timing for `CameraRunner`. */
export interface CameraRunnerOptions {
  /** Every processed frame, with the clock's time when the frame arrived. */
  onFrame?: (result: FrameResult, atMs: number) => void;
  /** Lifecycle and fault events. */
  onEvent?: (event: CameraEvent) => void;
  /** First retry delay (default 500 ms); doubles each failure up to `maxBackoffMs` (default 30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Wait function (tests pass a fast one); must reject or resolve early when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Clock for `downMs` (default `Date.now`). */
  now?: () => number;
}

/** Drives a `FrameSource` through a `CameraPerceiver`, turning faults into events and retrying. */
export class CameraRunner {
  private _status: CameraStatus = 'idle';
  private _lastFault: string | undefined;
  private perceiver: CameraPerceiver | undefined;

  constructor(
    private readonly source: FrameSource,
    private readonly createPerceiver: () => Promise<CameraPerceiver>,
    private readonly options: CameraRunnerOptions = {},
  ) {}

  /** Current state. */
  get status(): CameraStatus {
    return this._status;
  }

  /** The reason of the most recent fault, if any. */
  get lastFault(): string | undefined {
    return this._lastFault;
  }

  /**
   * Run until `signal` aborts (live sources) or the source ends (files). Resolves; never rejects on
   * device, frame or model faults.
   */
  async run(signal?: AbortSignal): Promise<void> {
    const sleep = this.options.sleep ?? abortableSleep;
    const now = this.options.now ?? Date.now;
    const policy = { baseMs: this.options.initialBackoffMs ?? 500, maxMs: this.options.maxBackoffMs ?? 30_000 };
    // Consecutive failures; the next retry waits backoffDelay(attempt): 0.5 s, 1 s, 2 s … 30 s.
    let attempt = 1;
    let backoff = backoffDelay(attempt, policy);
    const failedAgain = () => (backoff = backoffDelay(++attempt, policy));
    let downSince: number | undefined;
    this._status = 'starting';
    try {
      while (!signal?.aborted) {
        if (!this.perceiver) {
          try {
            this.perceiver = await this.createPerceiver();
          } catch (e) {
            this.fault('model.failed', (e as Error).message, backoff);
            await sleep(backoff, signal);
            failedAgain();
            continue;
          }
        }
        const perceiver = this.perceiver;
        let frames = 0;
        let failed = false;
        const onWarning = (w: FrameSourceWarning) => this.fault(w.kind, w.reason);
        try {
          this.emit({ type: 'camera.started', source: this.source.name });
          for await (const frame of this.source.open({ ...(signal ? { signal } : {}), onWarning })) {
            if (signal?.aborted) break;
            const atMs = now();
            if (frames++ === 0) {
              backoff = backoffDelay((attempt = 1), policy);
              if (downSince !== undefined) this.emit({ type: 'camera.recovered', source: this.source.name, downMs: now() - downSince });
              downSince = undefined;
            }
            this._status = 'running';
            let result: FrameResult;
            try {
              result = await perceiver.process(frame);
            } catch (e) {
              this.fault('frame.failed', `${this.source.name}: frame ${frame.index}: ${(e as Error).message}`);
              continue;
            }
            for (const id of result.appeared) this.emit({ type: 'face.appeared', id });
            for (const id of result.lost) this.emit({ type: 'face.lost', id });
            this.options.onFrame?.(result, atMs);
          }
        } catch (e) {
          failed = true;
          if (!signal?.aborted) {
            this.fault('camera.lost', (e as Error).message, this.source.live ? backoff : undefined);
          }
        }
        if (signal?.aborted) break;
        if (!this.source.live) {
          if (!failed) this.emit({ type: 'camera.ended', source: this.source.name, frames });
          break;
        }
        // A live camera never ends on its own: an end without an error is a lost device too.
        if (!failed) this.fault('camera.lost', `${this.source.name}: stream ended after ${frames} frames`, backoff);
        for (const id of perceiver.resetTracking()) this.emit({ type: 'face.lost', id });
        downSince ??= now();
        await sleep(backoff, signal);
        failedAgain();
      }
    } finally {
      this._status = 'stopped';
      await this.perceiver?.close();
      this.perceiver = undefined;
    }
  }

  private fault(kind: CameraFaultKind, reason: string, retryInMs?: number): void {
    this._lastFault = reason;
    if (kind === 'camera.lost' || kind === 'model.failed') this._status = 'degraded';
    this.emit({ type: 'camera.fault', kind, reason, ...(retryInMs !== undefined ? { retryInMs } : {}) });
  }

  private emit(event: CameraEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A failing listener must not stop perception; the listener owns its own errors.
    }
  }
}
