import type { Listener, ListenerEvents, ListenRequest, Utterance } from '../../behaviors/index.js';
import { UtteranceListener } from '../utterance-listener.js';
import type { RclNode, RclSubscription } from './rcl.js';

/** hri_msgs/IdsList. */
interface IdsList { ids?: string[] }
/** hri_msgs/LiveSpeech. */
interface LiveSpeech { incremental?: string; final?: string; confidence?: number }
/** hri_msgs/Expression. */
interface Expression { expression?: string; valence?: number; arousal?: number; confidence?: number }

/** Follows a ROS4HRI tracked list (`/humans/<kind>/tracked`) and subscribes to a topic of each tracked id. */
class TrackedTopics {
  private readonly subs = new Map<string, RclSubscription>();
  private readonly tracked: RclSubscription;

  constructor(private readonly node: RclNode, kind: 'voices' | 'faces', type: string, leaf: string, onMessage: (id: string, msg: unknown) => void) {
    this.tracked = node.createSubscription('hri_msgs/msg/IdsList', `/humans/${kind}/tracked`, (msg) => {
      const ids = new Set((msg as IdsList).ids ?? []);
      for (const [id, sub] of this.subs) if (!ids.has(id)) (node.destroySubscription(sub), this.subs.delete(id));
      for (const id of ids) {
        if (!this.subs.has(id)) this.subs.set(id, node.createSubscription(type, `/humans/${kind}/${id}/${leaf}`, (m) => onMessage(id, m)));
      }
    });
  }

  close(): void {
    for (const sub of this.subs.values()) this.node.destroySubscription(sub);
    this.node.destroySubscription(this.tracked);
  }
}

/**
 * The participant's speech from ROS4HRI: final results of `hri_msgs/LiveSpeech` on
 * `/humans/voices/<id>/speech` for every tracked voice. Speech heard while the robot is not listening
 * waits for the next question.
 */
export class Ros4hriVoiceListener implements Listener {
  // ROS4HRI voices come from the robot's own, echo-cancelled speech pipeline: barge-in is safe.
  private readonly ears = new UtteranceListener({ bargeIn: true });
  /** When the current utterance's first incremental result arrived. */
  private speechStart: number | null = null;
  private readonly topics: TrackedTopics;

  constructor(node: RclNode, private readonly now: () => number) {
    this.topics = new TrackedTopics(node, 'voices', 'hri_msgs/msg/LiveSpeech', 'speech', (_id, msg) => {
      const m = msg as LiveSpeech;
      const at = this.now();
      const text = (m.final ?? '').trim();
      if (!text) {
        if (m.incremental && this.speechStart === null) {
          this.speechStart = at;
          this.ears.started();
        }
        return;
      }
      const u: Utterance = { text, startedAt: this.speechStart ?? at, endedAt: at, ...(typeof m.confidence === 'number' ? { confidence: m.confidence } : {}) };
      this.speechStart = null;
      this.ears.heard(u);
    });
  }

  listen(request: ListenRequest, events: ListenerEvents): () => void {
    return this.ears.listen(request, events);
  }

  watchBargeIn(onSpeechStart: () => void): () => void {
    return this.ears.watchBargeIn(onSpeechStart);
  }

  close(): void {
    this.topics.close();
  }
}

/** A face expression from ROS4HRI, valence and arousal in −1..1. */
export interface FaceReading {
  faceId: string;
  expression: string;
  valence: number;
  arousal: number;
  confidence: number;
  atMs: number;
}

/** Watches `/humans/faces/<id>/expression` (`hri_msgs/Expression`) for every tracked face. */
export class Ros4hriFaceWatcher {
  private readonly topics: TrackedTopics;

  constructor(node: RclNode, now: () => number, onReading: (r: FaceReading) => void) {
    this.topics = new TrackedTopics(node, 'faces', 'hri_msgs/msg/Expression', 'expression', (faceId, msg) => {
      const m = msg as Expression;
      const clamp = (x: unknown, lo: number) => (typeof x === 'number' && Number.isFinite(x) ? Math.max(lo, Math.min(1, x)) : null);
      const valence = clamp(m.valence, -1);
      const arousal = clamp(m.arousal, -1);
      const confidence = clamp(m.confidence, 0);
      // A message without numbers says nothing; it is dropped rather than guessed.
      if (valence === null || arousal === null || confidence === null) return;
      onReading({ faceId, expression: m.expression ?? 'neutral', valence, arousal, confidence, atMs: now() });
    });
  }

  close(): void {
    this.topics.close();
  }
}
