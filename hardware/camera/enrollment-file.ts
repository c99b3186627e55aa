// The participant's enrolled face in the device folder (`face-enrollment.json`): descriptors only.
// Withdrawal removes it with every other participant file in the folder (study-protocol/withdrawal.ts).
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnrollmentError, type EnrollmentStore, type FaceEnrollment } from '../../perception/index.js';

/** The enrolment file's name inside a device folder. */
export const ENROLLMENT_FILE = 'face-enrollment.json';

/** Keeps a `FaceEnrollment` as JSON in a device folder, readable by its owner only (mode 0600). */
export class FileEnrollmentStore implements EnrollmentStore {
  readonly file: string;

  constructor(deviceDir: string) {
    this.file = join(deviceDir, ENROLLMENT_FILE);
  }

  load(): FaceEnrollment | undefined {
    if (!existsSync(this.file)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (cause) {
      throw new EnrollmentError(`${this.file}: not valid JSON (${(cause as Error).message}); enrol the participant again`, { cause });
    }
    const e = parsed as Partial<FaceEnrollment>;
    const ok = e.version === 1 && typeof e.participantId === 'string' && typeof e.model === 'string' && typeof e.enrolledAtMs === 'number' &&
      Array.isArray(e.descriptors) && e.descriptors.length > 0 && e.descriptors.every((d) => Array.isArray(d) && d.length === 1024 && d.every((x) => typeof x === 'number' && Number.isFinite(x)));
    if (!ok) throw new EnrollmentError(`${this.file}: not a face enrolment (version 1, participantId, model, enrolledAtMs, descriptors of 1024 numbers); enrol the participant again`);
    // Only the known fields are used, whatever else the file holds.
    return { version: 1, participantId: e.participantId!, model: e.model!, descriptors: e.descriptors!, enrolledAtMs: e.enrolledAtMs! };
  }

  save(enrollment: FaceEnrollment): void {
    const { version, participantId, model, descriptors, enrolledAtMs } = enrollment;
    // Whole or not at all: a temporary file beside it, renamed into place.
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify({ version, participantId, model, enrolledAtMs, descriptors })}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }

  remove(): boolean {
    if (!existsSync(this.file)) return false;
    rmSync(this.file, { force: true });
    return true;
  }
}
