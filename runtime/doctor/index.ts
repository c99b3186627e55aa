/** `hearth doctor`'s checks: run them all with `runDoctor`, show them with `formatReport`. */
export { formatReport, type CheckResult, type CheckStatus, type DoctorReport } from './check.js';
export { runDoctor, type DoctorOptions } from './doctor.js';
export type { AudioParts, Player, Recorder } from './audio.js';
