/** People as nouns (libhri style): faces, voices, persons with stable ids, engagement, and who is addressed. */
export { ENGAGEMENT_LEVELS, engagementFromCode, type EngagementLevel, type Face, type NormalizedBox, type PeopleEvent, type Person, type Voice } from './people.js';
export { DEFAULT_ENGAGEMENT_TUNING, engagementScore, EngagementTracker, type EngagementTuning } from './engagement.js';
export { chooseAddressee, engagementCode, UNRECOGNISED, type ParticipantIdentity } from './addressee.js';
export { PeopleRegistry, type FrameFaces, type PeopleRegistryOptions, type PersonReport } from './registry.js';
