/** Running Hearth as a systemd service: the heartbeat `hearth run` writes and its check, and the unit files. */
export {
  checkHeartbeat, heartbeatPath, HEARTBEAT_FILE, HEARTBEAT_INTERVAL_MS, ServiceHeartbeat, systemHeartbeatEffects, withServiceHeartbeat,
  type HeartbeatCheck, type HeartbeatEffects, type HeartbeatRecord,
} from './heartbeat.js';
export { ENVIRONMENT_FILE, execArg, renderUnits, validUnitName, validUserName, type UnitFile, type UnitOptions } from './unit.js';
export { nextSteps, ServiceError, systemdRunning, writeUnits, type UnitWrite } from './install.js';
