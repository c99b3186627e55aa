/**
 * People as nouns, after libhri (ROS4HRI, REP-155): a `Face` seen by a camera, a `Voice` heard by a
 * microphone, and a `Person` who owns at most one of each, every one with an id that stays the same
 * while it is tracked. A value that is not known is `undefined`, never an error.
 */

/** ROS4HRI engagement levels (`hri_msgs/EngagementLevel`); the numbers are the message's codes. */
export const ENGAGEMENT_LEVELS = { UNKNOWN: 0, DISENGAGED: 1, ENGAGING: 2, ENGAGED: 3, DISENGAGING: 4 } as const;
export type EngagementLevel = keyof typeof ENGAGEMENT_LEVELS;

/** The engagement level for a `hri_msgs/EngagementLevel` code; undefined for a code the message does not define. */
export function engagementFromCode(code: number): EngagementLevel | undefined {
  return (Object.keys(ENGAGEMENT_LEVELS) as EngagementLevel[]).find((k) => ENGAGEMENT_LEVELS[k] === code);
}

/** A region of the image in normalised coordinates (0..1 of width and height), as `hri_msgs/NormalizedRegionOfInterest2D`. */
export interface NormalizedBox {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

/** A tracked face. */
export interface Face {
  /** The tracker's id (the local camera's track id, or the ROS4HRI face id). */
  readonly id: string;
  /** Where the face is, when the source says. */
  box?: NormalizedBox;
  /** Detector confidence 0..1, when known. */
  confidence?: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** A tracked voice. */
export interface Voice {
  /** The microphone's voice id (`mic` for a device with one microphone and no separation), or the ROS4HRI voice id. */
  readonly id: string;
  speaking: boolean;
  firstHeardMs: number;
  lastHeardMs: number;
}

/** A person: who a face and a voice belong to. */
export interface Person {
  readonly id: string;
  /**
   * True when nobody has said who this is: the local camera makes one anonymous person per face
   * track, as libhri does when no person identification runs.
   */
  anonymous: boolean;
  faceId?: string;
  voiceId?: string;
  engagement: EngagementLevel;
  /** Since when the person has been at this engagement level. */
  engagementSinceMs: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** What the people registry reports, in the order it happens. No images or biometrics: ids, levels, times. */
export type PeopleEvent =
  | { type: 'face.appeared'; faceId: string; atMs: number }
  | { type: 'face.lost'; faceId: string; atMs: number }
  | { type: 'voice.appeared'; voiceId: string; atMs: number }
  | { type: 'voice.lost'; voiceId: string; atMs: number }
  | { type: 'person.appeared'; personId: string; anonymous: boolean; atMs: number }
  | { type: 'person.lost'; personId: string; atMs: number }
  | { type: 'person.engagement'; personId: string; from: EngagementLevel; to: EngagementLevel; atMs: number }
  | { type: 'addressee.changed'; personId: string | undefined; previous: string | undefined; atMs: number };
