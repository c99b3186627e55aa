// Knowing who is there, wired to the camera (issue 15.4), only with consent for video: the perceiver
// recognises faces against the stored enrolment, each frame's presence goes to the perception service
// (which the session reads through `CompanionOptions.presence`), and a participant not yet enrolled is
// enrolled during their first session with the camera on, from frames with their face alone in view.
// Only the descriptor is stored (the `EnrollmentStore` port: `FileEnrollmentStore` in the device
// folder); the frame the enrolment reads is held in memory until the next frame, never written.
import {
  CameraPerceiver, cameraIdentity, enrollFace, EnrollmentError, presenceOf,
  type EnrollmentStore, type FaceEnrollment, type FrameResult, type FrameSource, type PerceiverOptions, type Presence, type RgbFrame,
} from '../../perception/index.js';
import type { ParticipantIdentity } from '../../perception/people/addressee.js';
import type { ConsentCheck } from './options.js';

/** What person recognition needs from the device. */
export interface PersonRecognitionOptions {
  participantId: string;
  /** Per-modality consent; recognition and enrolment run only while it allows `video_recording`. */
  consent: ConsentCheck | undefined;
  /** Where the enrolled descriptor is kept. */
  enrollments: EnrollmentStore;
  /** Where each frame's presence goes (`PerceptionService.observePresence`). */
  perception: { observePresence(p: Presence): void };
  now: () => number;
  /** Whether a session is open: enrolment happens only during a session (the participant is talking to the robot). */
  inSession: () => boolean;
  /** Enrolment and recognition events for the log (no image, no descriptor). */
  onEvent?: (kind: string, detail: Record<string, unknown>) => void;
  /** Frames (one face each, a few frames apart) an enrolment is made from; default 3. */
  enrollFrames?: number;
  /** Frames between two enrolment samples; default 5. */
  sampleEvery?: number;
}

/** Give up enrolling in a session after this many refusals (a photo or screen, say). */
const MAX_REFUSALS = 3;

/** Person recognition on the camera path: wrap the frame source, make the perceiver, and feed every frame result. */
export class PersonRecognition {
  private perceiver: CameraPerceiver | undefined;
  private enrollment: FaceEnrollment | undefined;
  private latestFrame: RgbFrame | undefined;
  private latestResult: FrameResult | undefined;
  private samples: { frame: RgbFrame; box: FrameResult['faces'][number]['box'] }[] = [];
  private sinceSample = Infinity;
  private enrolling: Promise<void> | null = null;
  private refusals = 0;
  /** The participant's identity for the people registry: from the latest frame's recognition. */
  readonly identity: ParticipantIdentity = cameraIdentity(() => this.latestResult);

  constructor(private readonly o: PersonRecognitionOptions) {
    if (this.allowed()) {
      try {
        this.enrollment = o.enrollments.load();
      } catch (error) {
        // A damaged file is reported; the participant is enrolled again at their next session.
        o.onEvent?.('person.enrollment_unreadable', { reason: (error as Error).message });
      }
      if (this.enrollment && this.enrollment.participantId !== o.participantId) {
        o.onEvent?.('person.enrollment_ignored', { reason: `enrolment is of ${this.enrollment.participantId}, not ${o.participantId}` });
        this.enrollment = undefined;
      }
    }
  }

  /** Consent for video now. */
  allowed(): boolean {
    return this.o.consent?.allows('video_recording') ?? false;
  }

  /** Whether a participant's face is enrolled (and consent for video allows using it). */
  get enrolled(): boolean {
    return this.allowed() && this.enrollment !== undefined;
  }

  /** Perceiver options: recognition against the enrolment with consent for video, nothing extra without. */
  perceiverOptions(): PerceiverOptions {
    return this.allowed() ? { identity: { ...(this.enrollment ? { enrollment: this.enrollment } : {}) } } : {};
  }

  /** The `createPerceiver` for `CameraRunner`: `create` (default `CameraPerceiver.create`) with recognition when consented. */
  createPerceiver(create: (options: PerceiverOptions) => Promise<CameraPerceiver> = (options) => CameraPerceiver.create(options)): () => Promise<CameraPerceiver> {
    return async () => {
      this.perceiver = await create(this.perceiverOptions());
      return this.perceiver;
    };
  }

  /** The frame source, with the latest frame kept in memory while an enrolment is to be made (never written anywhere). */
  source(inner: FrameSource): FrameSource {
    const self = this;
    return {
      name: inner.name,
      live: inner.live,
      async *open(options) {
        for await (const frame of inner.open(options)) {
          self.latestFrame = self.wantsEnrollment() ? frame : undefined;
          yield frame;
        }
      },
    };
  }

  /** Every processed frame (`CameraRunner`'s `onFrame`): presence to the perception service, and enrolment when due. */
  onFrame(result: FrameResult, atMs: number): void {
    if (!this.allowed()) {
      // Consent for video withdrawn while running: nothing is recognised or said about who is there.
      this.latestResult = undefined;
      this.latestFrame = undefined;
      this.samples = [];
      return;
    }
    this.latestResult = result;
    if (this.perceiver?.identifier) this.o.perception.observePresence(presenceOf(result, atMs, this.enrollment !== undefined));
    this.collect(result);
  }

  /** Resolves when an enrolment under way has finished (tests, shutdown). */
  async settled(): Promise<void> {
    await this.enrolling;
  }

  private wantsEnrollment(): boolean {
    return this.allowed() && !this.enrollment && this.enrolling === null && this.refusals < MAX_REFUSALS && this.o.inSession() && !!this.perceiver?.identifier;
  }

  /** A sample is a frame with exactly one face (nobody else who could be taken for the participant), a few frames apart. */
  private collect(result: FrameResult): void {
    if (!this.wantsEnrollment()) {
      if (!this.o.inSession()) this.samples = [];
      return;
    }
    const frame = this.latestFrame;
    this.sinceSample++;
    if (result.faces.length !== 1) {
      // Someone else came into view, or the face was lost: start again, so every sample is the same person.
      this.samples = [];
      return;
    }
    if (!frame || this.sinceSample < (this.o.sampleEvery ?? 5)) return;
    this.sinceSample = 0;
    this.samples.push({ frame, box: result.faces[0]!.box });
    if (this.samples.length < (this.o.enrollFrames ?? 3)) return;
    const frames = this.samples;
    this.samples = [];
    this.latestFrame = undefined;
    this.enrolling = this.enroll(frames).finally(() => (this.enrolling = null));
  }

  private async enroll(frames: { frame: RgbFrame; box: FrameResult['faces'][number]['box'] }[]): Promise<void> {
    const perceiver = this.perceiver;
    if (!perceiver?.identifier) return;
    try {
      const enrollment = await enrollFace({ identifier: perceiver.identifier, consent: { allows: (m) => this.o.consent?.allows(m) ?? false }, participantId: this.o.participantId, frames, now: this.o.now() });
      // Consent may have been withdrawn while the descriptors were computed.
      if (!this.allowed()) return;
      this.o.enrollments.save(enrollment);
      this.enrollment = enrollment;
      perceiver.setEnrollment(enrollment);
      this.o.onEvent?.('person.enrolled', { participantId: enrollment.participantId, frames: enrollment.descriptors.length, model: enrollment.model });
    } catch (error) {
      if (!(error instanceof EnrollmentError)) throw error;
      this.refusals++;
      this.o.onEvent?.('person.enrollment_refused', { reason: error.message, attempt: this.refusals });
    }
  }
}
