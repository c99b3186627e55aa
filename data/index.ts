/** Public surface of `data/`: the durable store and time stamping. */
export { StoreError } from './errors.js';
export { SCHEMA_VERSION } from './migrations.js';
export { commonColumns, SqliteStore, type CommonColumns } from './sqlite-store.js';
export type * from './store.js';
export {
  addDays, isoLocal, isoUtc, isValidTimeZone, localDate, localTimeToMs, stamp, studyDay, type ClockSource, type Stamp,
} from './time.js';
export * from './study-records.js';
export * from './safeguard-records.js';
export * from './memory-records.js';
export { packageRoot } from './package-root.js';
