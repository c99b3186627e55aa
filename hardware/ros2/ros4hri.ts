import type { Listener, ListenerEvents, ListenRequest, Utterance } from '../../behaviors/index.js';
import { UtteranceListener } from '../utterance-listener.js';
import { engagementFromCode, type NormalizedBox, type PeopleRegistry, type PersonReport } from '../../perception/index.js';
import type { RclNode, RclSubscription } from './rcl.js';

/** hri_msgs/IdsList. */
interface IdsList { ids?: string[] }
/** hri_msgs/LiveSpeech. */
interface LiveSpeech { incremental?: string; final?: string; confidence?: number }
/** hri_msgs/Expression. */
interface Expression { expression?: string; valence?: number; arousal?: number; confidence?: number }

/** Follows a ROS4HRI tracked list (`/humans/<kind>/tracked`) and subscribes to topics of each tracked id. */
class TrackedTopics {
  private readonly subs = new Map<string, RclSubscription[]>();
  private readonly tracked: RclSubscription;

  constructor(
    private readonly node: RclNode,
    kind: 'voices' | 'faces' | 'persons',
    leaves: readonly { leaf: string; type: string }[],
    onMessage: (id: string, leaf: string, msg: unknown) => void,
    onTracked?: (ids: readonly string[]) => void,
  ) {
    this.tracked = node.createSubscription('hri_msgs/msg/IdsList', `/humans/${kind}/tracked`, (msg) => {
      const list = (msg as IdsList).ids ?? [];
      const ids = new Set(list);
      for (const [id, subs] of this.subs) if (!ids.has(id)) (subs.forEach((s) => node.destroySubscription(s)), this.subs.delete(id));
      for (const id of ids) {
        if (!this.subs.has(id)) this.subs.set(id, leaves.map(({ leaf, type }) => node.createSubscription(type, `/humans/${kind}/${id}/${leaf}`, (m) => onMessage(id, leaf, m))));
      }
      onTracked?.([...ids]);
    });
  }

  close(): void {
    for (const subs of this.subs.values()) for (const sub of subs) this.node.destroySubscription(sub);
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
    this.topics = new TrackedTopics(node, 'voices', [{ leaf: 'speech', type: 'hri_msgs/msg/LiveSpeech' }], (voiceId, _leaf, msg) => {
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
      const u: Utterance = { text, startedAt: this.speechStart ?? at, endedAt: at, ...(typeof m.confidence === 'number' ? { confidence: m.confidence } : {}), voiceId };
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
    this.topics = new TrackedTopics(node, 'faces', [{ leaf: 'expression', type: 'hri_msgs/msg/Expression' }], (faceId, _leaf, msg) => {
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

/** std_msgs/String, std_msgs/Bool, hri_msgs/EngagementLevel, hri_msgs/NormalizedRegionOfInterest2D. */
interface StringMsg { data?: string }
interface BoolMsg { data?: boolean }
interface EngagementMsg { level?: number }
interface RoiMsg { xmin?: number; ymin?: number; xmax?: number; ymax?: number }

/**
 * Feeds a `PeopleRegistry` from ROS4HRI: tracked faces and their `roi`, tracked voices and
 * `is_speaking`, tracked persons with `face_id`, `voice_id` and `engagement_status`, so the robot's
 * own association of faces and voices to persons (and its engagement estimate) is kept, ids and all.
 * A field not yet heard is undefined; a malformed message is ignored, never guessed.
 */
export class Ros4hriPeopleWatcher {
  private readonly faceBoxes = new Map<string, NormalizedBox | undefined>();
  private readonly speaking = new Map<string, boolean>();
  private readonly persons = new Map<string, PersonReport>();
  private readonly topics: TrackedTopics[];

  constructor(node: RclNode, private readonly now: () => number, private readonly people: PeopleRegistry) {
    const faces = new TrackedTopics(node, 'faces', [{ leaf: 'roi', type: 'hri_msgs/msg/NormalizedRegionOfInterest2D' }], (id, _leaf, msg) => {
      const m = msg as RoiMsg;
      const ok = [m.xmin, m.ymin, m.xmax, m.ymax].every((x) => typeof x === 'number' && Number.isFinite(x));
      if (!ok || !this.faceBoxes.has(id)) return;
      this.faceBoxes.set(id, { xmin: m.xmin!, ymin: m.ymin!, xmax: m.xmax!, ymax: m.ymax! });
      this.pushFaces();
    }, (ids) => {
      for (const id of [...this.faceBoxes.keys()]) if (!ids.includes(id)) this.faceBoxes.delete(id);
      for (const id of ids) if (!this.faceBoxes.has(id)) this.faceBoxes.set(id, undefined);
      this.pushFaces();
    });
    const voices = new TrackedTopics(node, 'voices', [{ leaf: 'is_speaking', type: 'std_msgs/msg/Bool' }], (id, _leaf, msg) => {
      const data = (msg as BoolMsg).data;
      if (typeof data !== 'boolean' || !this.speaking.has(id)) return;
      this.speaking.set(id, data);
      this.people.observeVoices([{ id, speaking: data }], this.now());
    }, (ids) => {
      for (const id of [...this.speaking.keys()]) if (!ids.includes(id)) this.speaking.delete(id);
      for (const id of ids) if (!this.speaking.has(id)) this.speaking.set(id, false);
      this.people.observeVoices(ids.map((id) => ({ id, speaking: this.speaking.get(id)! })), this.now());
    });
    const persons = new TrackedTopics(node, 'persons', [
      { leaf: 'face_id', type: 'std_msgs/msg/String' },
      { leaf: 'voice_id', type: 'std_msgs/msg/String' },
      { leaf: 'engagement_status', type: 'hri_msgs/msg/EngagementLevel' },
    ], (id, leaf, msg) => {
      const p = this.persons.get(id);
      if (!p) return;
      if (leaf === 'engagement_status') {
        const level = typeof (msg as EngagementMsg).level === 'number' ? engagementFromCode((msg as EngagementMsg).level!) : undefined;
        if (level === undefined) return;
        p.engagement = level;
      } else {
        const data = (msg as StringMsg).data;
        if (typeof data !== 'string') return;
        if (leaf === 'face_id') p.faceId = data || undefined;
        else p.voiceId = data || undefined;
      }
      this.pushPersons();
    }, (ids) => {
      for (const id of [...this.persons.keys()]) if (!ids.includes(id)) this.persons.delete(id);
      for (const id of ids) if (!this.persons.has(id)) this.persons.set(id, { id });
      this.pushPersons();
    });
    this.topics = [faces, voices, persons];
  }

  private pushFaces(): void {
    this.people.observeFaces([...this.faceBoxes].map(([id, box]) => (box ? { id, box } : { id })), this.now());
  }

  private pushPersons(): void {
    this.people.observePersons([...this.persons.values()].map((p) => ({ ...p })), this.now());
  }

  close(): void {
    for (const t of this.topics) t.close();
  }
}
