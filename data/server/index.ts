/** The study server's records (`hearth serve`): its own tables in the study database, dashboard reads, secrets. */
export {
  ServerRecords, STAFF_ROLES, type AlertInput, type AlertReceipt, type DeviceAuth, type Enrollment, type HeartbeatInput, type LoginSession,
  type StaffRole, type StaffUser,
} from './server-records.js';
export {
  CLOCK_SKEW_FLAG_MS, DashboardQueries, type AdherenceView, type AlertView, type DeviceView, type HeartbeatView, type SessionView,
} from './dashboard.js';
export { dummyPasswordHash, hashPassword, newEnrollmentCode, normaliseEnrollmentCode, sha256Hex, verifyPassword } from './secrets.js';
export { readIncrementHeader, type IncrementHeader } from './increment-file.js';
