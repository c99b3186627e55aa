// Who is in view, as the session needs it: is the enrolled participant there, is anyone else, and how
// turned to the robot each person is. Built from a camera frame's recognised faces.
import type { Person } from '../people/people.js';
import type { ParticipantIdentity } from '../people/addressee.js';
import { DEFAULT_IDENTITY_TUNING, EnrollmentError, type FaceEnrollment, type FaceIdentifier, type FaceIdentity, type IdentityTuning } from './identity.js';
import type { FrameResult } from './perceiver.js';
import type { RgbFrame } from './frame.js';
import type { Rect } from './image.js';

/** One face in view, for the session: ids, identity and engagement only (no image, no descriptor). */
export interface PresentPerson {
  faceId: string;
  identity: FaceIdentity;
  /** 0..1: how squarely the face is turned to the robot (head pose), when landmarks gave one. */
  facing?: number;
  /** Turned to the robot: `facing` ≥ 0.5. */
  engaged: boolean;
}

/**
 * Who is in view. `participant`: `present` when a live face matched the enrolment, `absent` when faces
 * are in view and none can be the participant (all decided as someone else or a photo/screen) or
 * nobody is in view, `unknown` when nothing is enrolled or a face is still undecided.
 */
export interface Presence {
  atMs: number;
  enrolled: boolean;
  participant: 'present' | 'absent' | 'unknown';
  /** Live faces decided to be someone other than the participant. */
  others: number;
  /** Faces rejected by anti-spoofing (photos, screens): not counted as people. */
  spoofs: number;
  people: PresentPerson[];
}

/** Presence from one frame's recognised faces (`CameraPerceiver` created with `identity`). */
export function presenceOf(result: FrameResult, atMs: number, enrolled: boolean): Presence {
  const people: PresentPerson[] = result.faces.map((f) => {
    const p: PresentPerson = { faceId: f.id, identity: f.identity ?? 'unknown', engaged: (f.pose?.facing ?? 0) >= 0.5 };
    if (f.pose) p.facing = f.pose.facing;
    return p;
  });
  const others = people.filter((p) => p.identity === 'other').length;
  const spoofs = people.filter((p) => p.identity === 'spoof').length;
  let participant: Presence['participant'] = 'unknown';
  if (enrolled) {
    if (people.some((p) => p.identity === 'participant')) participant = 'present';
    else if (people.every((p) => p.identity === 'other' || p.identity === 'spoof')) participant = 'absent';
  }
  return { atMs, enrolled, participant, others, spoofs, people };
}

/**
 * A `ParticipantIdentity` for the people registry from the camera's recognition: a person whose face
 * the latest frame decided is the participant (true), someone else or a photo/screen (false), else undefined.
 */
export function cameraIdentity(latest: () => FrameResult | undefined): ParticipantIdentity {
  return {
    isParticipant(person: Person): boolean | undefined {
      const face = person.faceId ? latest()?.faces.find((f) => f.id === person.faceId) : undefined;
      if (!face?.identity || face.identity === 'unknown') return undefined;
      return face.identity === 'participant';
    },
  };
}

/** What enrolment needs to know about consent (study-protocol's `ConsentState` fits): only with consent for video. */
export interface VideoConsent {
  allows(modality: 'video_recording'): boolean;
}

/**
 * Enrol the participant from frames of their face (at provisioning or the first session): one face per
 * frame, each checked by anti-spoofing, described, and kept as a descriptor only. Refuses without
 * consent for video, with no usable face, or when a frame holds a photo or screen.
 */
export async function enrollFace(o: {
  identifier: FaceIdentifier;
  consent: VideoConsent;
  participantId: string;
  frames: readonly { frame: RgbFrame; box: Rect }[];
  now: number;
  tuning?: Partial<IdentityTuning>;
}): Promise<FaceEnrollment> {
  if (!o.consent.allows('video_recording')) throw new EnrollmentError(`participant ${o.participantId} has not consented to video: no face is enrolled`);
  if (!o.frames.length) throw new EnrollmentError('no face to enrol: give at least one frame with the participant\'s face');
  const descriptors: number[][] = [];
  for (const [i, { frame, box }] of o.frames.entries()) {
    const live = await o.identifier.liveness(frame, box);
    if (live.antispoof < (o.tuning?.liveAt ?? DEFAULT_IDENTITY_TUNING.liveAt) && live.liveness < (o.tuning?.livenessAt ?? DEFAULT_IDENTITY_TUNING.livenessAt)) {
      throw new EnrollmentError(`enrolment frame ${i}: the face looks like a photo or a screen (antispoof ${live.antispoof.toFixed(2)}); enrol the participant in person`);
    }
    descriptors.push(Array.from(await o.identifier.describe(frame, box), (x) => Math.round(x * 1e6) / 1e6));
  }
  return { version: 1, participantId: o.participantId, model: o.identifier.modelHash, descriptors, enrolledAtMs: o.now };
}

/**
 * Presence as behaviors/memory's `MemoryContext.presence` reads it: `other` when anyone but the
 * participant is in view (nothing of theirs is said, even if they are there too), `participant` when
 * the enrolled participant is there alone, `unknown` when no face matched; undefined without a fresh
 * reading (no camera, no recognition), where the session keeps its behaviour without recognition.
 */
export function memoryPresence(p: Presence | undefined): 'participant' | 'other' | 'unknown' | undefined {
  if (!p || !p.enrolled) return undefined;
  if (p.others > 0) return 'other';
  return p.participant === 'present' ? 'participant' : 'unknown';
}

/**
 * Whether what was just heard can be the participant's answer to a survey item: not when the camera
 * recognises faces, the participant is enrolled, and no enrolled face is in view (`absent`). Undefined
 * presence (no camera, no recognition, stale) leaves the answer as it is.
 */
export function mayBeParticipantsAnswer(p: Presence | undefined): boolean {
  return !(p && p.enrolled && p.participant === 'absent');
}
