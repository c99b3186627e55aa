/** Public surface of `behaviors/memory/`: longitudinal memory, its intents and relative-time phrasing. */
export { findPeople, findPlaces, summariseShared, toSecondPerson, type MemoryNote } from './extract.js';
export { asksToForget, asksWhatIsRemembered, detectMemoryIntent, type MemoryIntent } from './intents.js';
export {
  LongitudinalMemory, type MemoryContext, type MemoryEventLog, type MemoryReply, type MemoryStorePort, type Recall, type StoredMemory,
} from './memory.js';
export { capitalise, relativeTimePhrase } from './relative-time.js';
