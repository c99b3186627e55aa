/**
 * Who the robot is talking to. In a home with a partner, grandchildren and a television, the
 * participant is not simply the largest face. `ParticipantIdentity` is the port that says whether a
 * person is the enrolled participant (recognition fills it later; until then nobody can tell), and
 * `chooseAddressee` picks the person the session addresses from what is known.
 */
import { ENGAGEMENT_LEVELS, type Person } from './people.js';

/** Says whether a person is the study's enrolled participant. */
export interface ParticipantIdentity {
  /** true: the enrolled participant; false: someone else (a visitor, a face on the television); undefined: cannot tell. */
  isParticipant(person: Person): boolean | undefined;
}

/** No recognition: nobody can be told apart, so every person is undefined. */
export const UNRECOGNISED: ParticipantIdentity = { isParticipant: () => undefined };

/** How much engagement counts when choosing; DISENGAGED people are never addressed. */
const ENGAGEMENT_RANK: Record<Person['engagement'], number> = { ENGAGED: 4, ENGAGING: 3, DISENGAGING: 2, UNKNOWN: 1, DISENGAGED: 0 };

/**
 * The person to address, or undefined when nobody is there to address.
 * - Someone identified as another person is never addressed.
 * - Whoever is addressed now stays addressed while still turned to the robot (ENGAGED, ENGAGING or
 *   DISENGAGING), so two people in view do not make the robot flit between them; the identified
 *   participant takes over from someone who is not known to be the participant.
 * - Otherwise: the identified participant first, then the most engaged, then the nearest face
 *   (`nearness`), then whoever has been there longest, then the id (a stable order).
 */
export function chooseAddressee(
  people: readonly Person[],
  identity: ParticipantIdentity,
  current: string | undefined,
  nearness: (p: Person) => number,
): Person | undefined {
  const candidates = people
    .map((p) => ({ p, who: identity.isParticipant(p), rank: ENGAGEMENT_RANK[p.engagement] }))
    .filter((c) => c.who !== false && c.rank > 0);
  if (!candidates.length) return undefined;
  const known = candidates.find((c) => c.who === true && c.rank >= ENGAGEMENT_RANK.DISENGAGING);
  const now = candidates.find((c) => c.p.id === current);
  if (now && now.rank >= ENGAGEMENT_RANK.DISENGAGING && (now.who === true || !known)) return now.p;
  candidates.sort(
    (a, b) =>
      Number(b.who === true) - Number(a.who === true) ||
      b.rank - a.rank ||
      nearness(b.p) - nearness(a.p) ||
      a.p.firstSeenMs - b.p.firstSeenMs ||
      (a.p.id < b.p.id ? -1 : a.p.id > b.p.id ? 1 : 0),
  );
  return candidates[0]!.p;
}

/** The ROS4HRI code of a person's engagement (for `/humans/persons/<id>/engagement_status`). */
export const engagementCode = (p: Person): number => ENGAGEMENT_LEVELS[p.engagement];
