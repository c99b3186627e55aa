/** Public surface of `data/`: the durable store and time stamping. */
export { StoreError } from './errors.js';
export { SCHEMA_VERSION } from './migrations.js';
export { SqliteStore } from './sqlite-store.js';
export type * from './store.js';
export {
  addDays, isoLocal, isoUtc, isValidTimeZone, localDate, localTimeToMs, stamp, studyDay, type ClockSource, type Stamp,
} from './time.js';
