import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../data/index.js';
import { CameraPerceiver, EnrollmentError, enrollFace } from '../../perception/index.js';
import { BUNDLED_PROTOCOL, provisionDevice, withdrawParticipant } from '../../study-protocol/index.js';
import { modelsDirForTests } from '../../test/fixtures/faces/faces.js';
import { installedPeople, probeFrame } from '../../test/fixtures/faces/people.js';
import { ENROLLMENT_FILE, FileEnrollmentStore } from './enrollment-file.js';

describe('FileEnrollmentStore (the enrolled face in the device folder)', () => {
  it('keeps descriptors only (no pixels, owner-readable), survives a reload, and withdrawal removes it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hearth-enrol-'));
    const dir = join(root, 'device');
    provisionDevice({
      protocolFile: BUNDLED_PROTOCOL, participantId: 'P01', tz: 'America/New_York', startDate: '2026-12-01', deviceDir: dir, now: Date.parse('2026-11-20T15:00:00Z'),
      registryFile: join(root, 'registry.sqlite'), strata: { household: 'lives_alone' }, consentGranted: ['audio_recording', 'video_recording', 'transcripts'],
    });
    const perceiver = await CameraPerceiver.create({ modelsDir: modelsDirForTests(), identity: {} });
    try {
      const photo = installedPeople().find((p) => p.identity === 'astronaut')!;
      const frames = [];
      for (const v of ['orig', 'bright'] as const) {
        const frame = probeFrame(photo, v, { width: 512, height: 512 }).frame;
        frames.push({ frame, box: (await perceiver.detector.detect(frame))[0]!.box });
      }
      const enrollment = await enrollFace({ identifier: perceiver.identifier!, consent: { allows: () => true }, participantId: 'P01', frames, now: 5 });
      const store = new FileEnrollmentStore(dir);
      store.save(enrollment);
      const file = join(dir, ENROLLMENT_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const raw = readFileSync(file, 'utf8');
      const parsed = JSON.parse(raw);
      expect(Object.keys(parsed).sort()).toEqual(['descriptors', 'enrolledAtMs', 'model', 'participantId', 'version']);
      // Two 1024-number vectors and nothing else: far smaller than the 512x512x3 bytes of the face images.
      expect(parsed.descriptors.map((d: number[]) => d.length)).toEqual([1024, 1024]);
      expect(raw.length).toBeLessThan(40_000);
      expect(raw).not.toMatch(/[A-Za-z0-9+/]{200,}/);
      expect(store.load()).toEqual(enrollment);
      // The database holds no copy of it either: the enrolment lives in this file only.
      const db = SqliteStore.open(join(dir, 'hearth.sqlite'));
      db.close();
      expect(readFileSync(join(dir, 'hearth.sqlite')).includes(Buffer.from(enrollment.descriptors[0]!.slice(0, 3).join(',')))).toBe(false);

      const report = withdrawParticipant({ deviceDir: dir, participantId: 'P01', now: Date.parse('2026-12-05T12:00:00Z') });
      expect(report.filesPurged).toContain(ENROLLMENT_FILE);
      expect(existsSync(file)).toBe(false);
      expect(store.load()).toBeUndefined();
    } finally {
      await perceiver.close();
    }
  });

  it('refuses a damaged file with a message naming it, and remove() reports whether there was one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-enrol-'));
    const store = new FileEnrollmentStore(dir);
    expect(store.load()).toBeUndefined();
    expect(store.remove()).toBe(false);
    writeFileSync(store.file, '{"version":1,"participantId":"P01","model":"x","enrolledAtMs":1,"descriptors":[[1,2,3]]}');
    expect(() => store.load()).toThrow(new EnrollmentError(`${store.file}: not a face enrolment (version 1, participantId, model, enrolledAtMs, descriptors of 1024 numbers); enrol the participant again`));
    writeFileSync(store.file, 'garbage');
    expect(() => store.load()).toThrow(EnrollmentError);
    expect(store.remove()).toBe(true);
    expect(existsSync(store.file)).toBe(false);
  });
});
