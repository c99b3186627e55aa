// Simple IoU tracking: a face keeps its id while its box overlaps the box it had in recent frames.
import { iou, type Rect } from './image.js';

/** A tracked face as the tracker reports it. */
export interface Track<T> {
  id: string;
  box: Rect;
  /** Frames since the face was last matched (0 when seen in this frame). */
  missed: number;
  /** Per-face state the caller keeps with the track (e.g. smoothed expression probabilities). */
  state: T;
}

/** Options for `IouTracker`. */
export interface TrackerOptions {
  /** Minimum overlap to call two boxes the same face (default 0.3). */
  minIou?: number;
  /** Frames a face may go unseen before it is lost (default 15, half a second at 30 fps). */
  maxMissed?: number;
}

/** Greedy IoU matching of detections to tracks; ids are `face1`, `face2`, … in order of appearance. */
export class IouTracker<T> {
  private tracks: Track<T>[] = [];
  private nextId = 1;
  private readonly minIou: number;
  private readonly maxMissed: number;

  constructor(options: TrackerOptions = {}) {
    this.minIou = options.minIou ?? 0.3;
    this.maxMissed = options.maxMissed ?? 15;
  }

  /**
   * Match this frame's boxes to tracks. Returns, for each box in order, its track (new or continued),
   * plus the tracks lost in this step.
   */
  update(boxes: readonly Rect[], init: () => T): { matched: Track<T>[]; appeared: Track<T>[]; lost: Track<T>[] } {
    const pairs: { t: number; b: number; v: number }[] = [];
    this.tracks.forEach((t, ti) => boxes.forEach((b, bi) => {
      const v = iou(t.box, b);
      if (v >= this.minIou) pairs.push({ t: ti, b: bi, v });
    }));
    pairs.sort((a, b) => b.v - a.v);
    const trackUsed = new Set<number>();
    const result: (Track<T> | undefined)[] = boxes.map(() => undefined);
    for (const p of pairs) {
      if (trackUsed.has(p.t) || result[p.b]) continue;
      trackUsed.add(p.t);
      const t = this.tracks[p.t]!;
      t.box = boxes[p.b]!;
      t.missed = 0;
      result[p.b] = t;
    }
    const appeared: Track<T>[] = [];
    boxes.forEach((b, i) => {
      if (result[i]) return;
      const t: Track<T> = { id: `face${this.nextId++}`, box: b, missed: 0, state: init() };
      this.tracks.push(t);
      appeared.push(t);
      result[i] = t;
    });
    const lost: Track<T>[] = [];
    const matchedSet = new Set(result);
    this.tracks = this.tracks.filter((t) => {
      if (matchedSet.has(t)) return true;
      t.missed++;
      if (t.missed > this.maxMissed) {
        lost.push(t);
        return false;
      }
      return true;
    });
    return { matched: result as Track<T>[], appeared, lost };
  }

  /** Forget every track (e.g. after the camera was lost). Returns the tracks dropped. */
  reset(): Track<T>[] {
    const dropped = this.tracks;
    this.tracks = [];
    return dropped;
  }
}
