/** Public surface of `data/`: the record ports, their SQLite and in-memory adapters, and time stamping. */
export { DiskFullError, isDiskFull, StoreError } from './errors.js';
export { SCHEMA_VERSION } from './migrations.js';
export type * from './ports.js';
export { SqliteStore } from './sqlite-store.js';
export { syncWal, tryExclusiveFileLock, type HeldFileLock } from './sqlite-store.js';
export { MemoryStore } from './memory-store.js';
export { COLLECTIONS_TABLE, openForAnalysis, type AnalysisSource } from './analysis-source.js';
export {
  collectDevices, collectInto, collectionsOf, INCREMENT_META, openStudyStore, parseIncrementMeta, type CollectIntoOptions, type IncrementMeta, type CollectionRecord, type CollectOptions, type CollectSummary, type DeviceCollected, type FileCollected,
  type FileRefused, type FileResult, type TableCounts, type WithdrawalPurge,
} from './collect/collect.js';
export {
  ADHERENCE_STATUSES, COMPLETENESS_TABLES, readReportData, type AdherenceCell, type AdherenceStatus, type AffectDay, type CompletenessCell,
  type ReportData, type ReportIncident, type ReportParticipant, type ReportResponse, type SafeguardDay, type SessionDuration,
} from './report/queries.js';
export type * from './store.js';
export {
  addDays, isoLocal, isoUtc, isValidTimeZone, localDate, localTimeToMs, stamp, studyDay, type ClockSource, type Stamp,
} from './time.js';
export {
  KEPT_TABLES, type AllocationRecord, type ConsentRecordRow, type InstanceRowStatus, type NewConsentRecord, type NewScheduleInstance,
  type ParticipantScope, type PurgeCounts, type RegistryStamp, type ScheduleInstanceRecord, type TableScan,
} from './study-records.js';
export {
  checksWithoutWords, incidentReportOf, incidentReportWithoutWords, RETAINED_REASON, type CheckWithoutWords, type DeliveryStatus,
  type IncidentInput, type IncidentRecord, type OutboxEntry, type OutboxLine, type RetainedIncident, type StoredIncidentReport,
  type ValueInput, type ValueRecord,
} from './safeguard-records.js';
export type { MemoryRecord, NewMemoryRecord } from './memory-records.js';
export { packageRoot } from './package-root.js';
export * from './language/index.js';
export { backoffDelay, networkReason, retryAfterMs, sleep, type BackoffPolicy } from './backoff.js';
export {
  checkExportOptions, dateShiftDays, EXPORT_FORMATS, ExportError, exportData, TABLE_NAMES, TABLES, type ColumnSpec, type ColumnType,
  type ExportFormat, type ExportOptions, type ExportProgress, type ExportSummary, type ScoringRule, type TableSpec,
} from './export/index.js';
export { DuckDb } from './duckdb.js';
export {
  buildIncrement, changedRowsSince, COMPLETE_TABLES, uplinkBacklog, type Backlog, type Increment, type IncrementOptions,
} from './uplink/increment.js';
export * from './server/index.js';
