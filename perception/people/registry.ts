/**
 * The people the robot perceives, kept as nouns (libhri style): faces from the camera or ROS4HRI,
 * voices from the microphone or ROS4HRI, and persons who own them, each with a stable id, with
 * appeared/lost events, an engagement level per person, and the person the session addresses.
 *
 * Two ways in:
 * - the device's own camera (`observeFrame`): each face track becomes an anonymous person
 *   (`anon-face3`), whose engagement is estimated from the face box (see `engagement.ts`);
 * - ROS4HRI (`observeFaces`, `observeVoices`, `observePersons`): the robot's own pipeline says which
 *   face and voice belong to which person and how engaged they are; once persons are given, the
 *   registry stops making anonymous ones.
 * Pure bookkeeping: time comes in with every call, events go out through `onEvent`, nothing else.
 */
import { chooseAddressee, UNRECOGNISED, type ParticipantIdentity } from './addressee.js';
import { DEFAULT_ENGAGEMENT_TUNING, engagementScore, EngagementTracker, type EngagementTuning } from './engagement.js';
import type { EngagementLevel, Face, NormalizedBox, PeopleEvent, Person, Voice } from './people.js';

/** A face as a frame gives it: pixel box in a `width`×`height` image. */
export interface FrameFaces {
  width: number;
  height: number;
  faces: readonly { id: string; box: { x: number; y: number; w: number; h: number }; score?: number }[];
  /** Track ids the tracker lost in this frame. */
  lost?: readonly string[];
}

/** A person as ROS4HRI describes one (`/humans/persons/<id>/…`). */
export interface PersonReport {
  id: string;
  faceId?: string;
  voiceId?: string;
  engagement?: EngagementLevel;
}

export interface PeopleRegistryOptions {
  onEvent?: (event: PeopleEvent) => void;
  identity?: ParticipantIdentity;
  engagement?: EngagementTuning;
  /** A face not seen for this long is lost (the local tracker also reports losses itself). Default 1,500 ms. */
  faceLostAfterMs?: number;
  /** A voice not heard for this long is lost. Default 30 s. */
  voiceLostAfterMs?: number;
}

interface PersonState {
  person: Person;
  engagement: EngagementTracker;
  /** ROS4HRI gave this person's engagement level: the registry does not estimate it. */
  engagementGiven: boolean;
}

export class PeopleRegistry {
  private readonly faces = new Map<string, Face>();
  private readonly voices = new Map<string, Voice>();
  private readonly persons = new Map<string, PersonState>();
  /** True once ROS4HRI has reported persons: from then on persons come only from there. */
  private personsGiven = false;
  private addresseeId: string | undefined;
  private readonly identity: ParticipantIdentity;
  private readonly tuning: EngagementTuning;

  constructor(private readonly options: PeopleRegistryOptions = {}) {
    this.identity = options.identity ?? UNRECOGNISED;
    this.tuning = options.engagement ?? DEFAULT_ENGAGEMENT_TUNING;
  }

  /** The device camera's faces in one frame (pixel boxes). */
  observeFrame(frame: FrameFaces, atMs: number): void {
    for (const id of frame.lost ?? []) this.loseFace(id, atMs);
    const w = frame.width || 1;
    const h = frame.height || 1;
    for (const f of frame.faces) {
      const box: NormalizedBox = { xmin: f.box.x / w, ymin: f.box.y / h, xmax: (f.box.x + f.box.w) / w, ymax: (f.box.y + f.box.h) / h };
      this.seeFace(f.id, box, f.score, atMs);
    }
    this.tick(atMs);
  }

  /** The full set of tracked faces (ROS4HRI `/humans/faces/tracked`, with each face's ROI when known): the others are lost. */
  observeFaces(faces: readonly { id: string; box?: NormalizedBox; confidence?: number }[], atMs: number): void {
    const ids = new Set(faces.map((f) => f.id));
    for (const id of [...this.faces.keys()]) if (!ids.has(id)) this.loseFace(id, atMs);
    for (const f of faces) this.seeFace(f.id, f.box, f.confidence, atMs);
    this.tick(atMs);
  }

  /** Voices and whether each is speaking (ROS4HRI `/humans/voices/tracked` + `is_speaking`, or the local microphone as `mic`). */
  observeVoices(voices: readonly { id: string; speaking: boolean }[], atMs: number): void {
    for (const v of voices) {
      const known = this.voices.get(v.id);
      if (known) {
        known.speaking = v.speaking;
        known.lastHeardMs = atMs;
      } else {
        this.voices.set(v.id, { id: v.id, speaking: v.speaking, firstHeardMs: atMs, lastHeardMs: atMs });
        this.emit({ type: 'voice.appeared', voiceId: v.id, atMs });
      }
    }
    this.tick(atMs);
  }

  /** The full set of tracked persons from ROS4HRI (`/humans/persons/tracked` with `face_id`, `voice_id`, `engagement_status`). */
  observePersons(reports: readonly PersonReport[], atMs: number): void {
    if (!this.personsGiven) {
      this.personsGiven = true;
      for (const id of [...this.persons.keys()]) if (this.persons.get(id)!.person.anonymous) this.losePerson(id, atMs);
    }
    const ids = new Set(reports.map((r) => r.id));
    for (const id of [...this.persons.keys()]) if (!ids.has(id)) this.losePerson(id, atMs);
    for (const r of reports) {
      const s = this.persons.get(r.id) ?? this.addPerson(r.id, false, atMs);
      s.person.faceId = r.faceId || undefined;
      s.person.voiceId = r.voiceId || undefined;
      s.person.lastSeenMs = atMs;
      s.engagementGiven = r.engagement !== undefined;
      if (r.engagement) this.setEngagement(s, s.engagement.set(r.engagement, atMs), atMs);
      else this.scoreEngagement(s, atMs);
    }
    this.tick(atMs);
  }

  /** Age everything to `atMs`: lose faces and voices not seen for too long, update engagement, re-choose the addressee. */
  tick(atMs: number): void {
    const faceLost = this.options.faceLostAfterMs ?? 1_500;
    const voiceLost = this.options.voiceLostAfterMs ?? 30_000;
    for (const f of [...this.faces.values()]) if (atMs - f.lastSeenMs > faceLost) this.loseFace(f.id, atMs);
    for (const v of [...this.voices.values()]) {
      if (atMs - v.lastHeardMs > voiceLost) {
        this.voices.delete(v.id);
        for (const s of this.persons.values()) if (s.person.voiceId === v.id && !this.personsGiven) s.person.voiceId = undefined;
        this.emit({ type: 'voice.lost', voiceId: v.id, atMs });
      }
    }
    for (const s of this.persons.values()) if (!s.person.faceId || !this.faces.has(s.person.faceId)) this.scoreEngagement(s, atMs);
    this.chooseAddressee(atMs);
  }

  /** Everyone tracked now, in order of appearance. */
  people(): Person[] {
    return [...this.persons.values()].map((s) => ({ ...s.person }));
  }

  person(id: string): Person | undefined {
    const s = this.persons.get(id);
    return s ? { ...s.person } : undefined;
  }

  face(id: string): Face | undefined {
    const f = this.faces.get(id);
    return f ? { ...f, ...(f.box ? { box: { ...f.box } } : {}) } : undefined;
  }

  voice(id: string): Voice | undefined {
    const v = this.voices.get(id);
    return v ? { ...v } : undefined;
  }

  /** The person the session addresses now, if anyone (see `chooseAddressee`). */
  addressee(): Person | undefined {
    return this.addresseeId === undefined ? undefined : this.person(this.addresseeId);
  }

  private seeFace(id: string, box: NormalizedBox | undefined, confidence: number | undefined, atMs: number): void {
    let f = this.faces.get(id);
    if (!f) {
      f = { id, firstSeenMs: atMs, lastSeenMs: atMs };
      this.faces.set(id, f);
      this.emit({ type: 'face.appeared', faceId: id, atMs });
      if (!this.personsGiven) this.addPerson(`anon-${id}`, true, atMs).person.faceId = id;
    }
    f.lastSeenMs = atMs;
    if (box) f.box = box;
    if (confidence !== undefined) f.confidence = confidence;
    for (const s of this.persons.values()) {
      if (s.person.faceId !== id) continue;
      s.person.lastSeenMs = atMs;
      this.scoreEngagement(s, atMs);
    }
  }

  private loseFace(id: string, atMs: number): void {
    if (!this.faces.delete(id)) return;
    this.emit({ type: 'face.lost', faceId: id, atMs });
    if (!this.personsGiven) {
      // An anonymous person is the face: when the face goes, so does the person.
      this.losePerson(`anon-${id}`, atMs);
    }
  }

  private addPerson(id: string, anonymous: boolean, atMs: number): PersonState {
    const engagement = new EngagementTracker(atMs, this.tuning);
    const s: PersonState = { person: { id, anonymous, engagement: engagement.level, engagementSinceMs: atMs, firstSeenMs: atMs, lastSeenMs: atMs }, engagement, engagementGiven: false };
    this.persons.set(id, s);
    this.emit({ type: 'person.appeared', personId: id, anonymous, atMs });
    return s;
  }

  private losePerson(id: string, atMs: number): void {
    if (!this.persons.delete(id)) return;
    this.emit({ type: 'person.lost', personId: id, atMs });
    if (this.addresseeId === id) this.chooseAddressee(atMs);
  }

  /** Engagement from the person's face box; a person whose level ROS4HRI gives is left alone. */
  private scoreEngagement(s: PersonState, atMs: number): void {
    if (s.engagementGiven) return;
    const box = s.person.faceId ? this.faces.get(s.person.faceId)?.box : undefined;
    // No face (voice only, or a face without a box): the camera cannot tell, so the level stays as it is
    // for a person never seen, and an engaged person whose face is gone starts to disengage.
    if (box === undefined && s.engagement.level === 'UNKNOWN') return;
    this.setEngagement(s, s.engagement.observe(box ? engagementScore(box, this.tuning) : undefined, atMs), atMs);
  }

  private setEngagement(s: PersonState, changed: EngagementLevel | undefined, atMs: number): void {
    if (changed === undefined) return;
    const from = s.person.engagement;
    s.person.engagement = changed;
    s.person.engagementSinceMs = atMs;
    this.emit({ type: 'person.engagement', personId: s.person.id, from, to: changed, atMs });
  }

  private chooseAddressee(atMs: number): void {
    const chosen = chooseAddressee(this.people(), this.identity, this.addresseeId, (p) => {
      const box = p.faceId ? this.faces.get(p.faceId)?.box : undefined;
      return box ? box.ymax - box.ymin : 0;
    });
    if (chosen?.id === this.addresseeId) return;
    const previous = this.addresseeId;
    this.addresseeId = chosen?.id;
    this.emit({ type: 'addressee.changed', personId: chosen?.id, previous, atMs });
  }

  private emit(event: PeopleEvent): void {
    this.options.onEvent?.(event);
  }
}
