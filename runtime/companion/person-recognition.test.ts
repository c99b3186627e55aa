// Knowing who is there in whole sessions (issue 15.4): the simulator's companion, a real SQLite file,
// the real camera runner, perceiver (face detector, faceres, antispoof, liveness), person recognition,
// perception service and enrolment file. Only the camera itself is scripted (there is none here): it
// shows a composed scene of real photos (Debian packages) once a simulated second during each session.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileEnrollmentStore } from '../../hardware/camera/index.js';
import { CameraPerceiver, CameraRunner, PerceptionService, type FrameSource, type RgbFrame } from '../../perception/index.js';
import { modelsDirForTests } from '../../test/fixtures/faces/faces.js';
import { installedPeople, readImage } from '../../test/fixtures/faces/people.js';
import { simRig, type SimRig } from '../../test/support/sim-rig.js';
import { settle } from '../clock.js';
import type { ConsentModality } from '../../study-protocol/index.js';
import { PersonRecognition } from './person-recognition.js';

/** A real photo (Debian packages) cropped around the face and scaled to 256×256, as a camera close to the person sees it. */
const faceOf = (identity: string): RgbFrame => {
  const p = installedPeople().find((x) => x.identity === identity);
  if (!p) throw new Error(`test face ${identity} is not installed (python3-skimage, python3-matplotlib)`);
  const [ax, ay] = p.at;
  const side = 'min(iw\\,ih)*0.6';
  return readImage(p.image, `crop=${side}:${side}:max(0\\,iw*${ax}-${side}/2):max(0\\,ih*${ay}-${side}/2),scale=256:256`);
};

/** Two photos side by side at one height (two people in view). */
function sideBySide(a: RgbFrame, b: RgbFrame): RgbFrame {
  const height = Math.min(a.height, b.height);
  const width = a.width + b.width;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    data.set(a.data.subarray(y * a.width * 3, (y + 1) * a.width * 3), y * width * 3);
    data.set(b.data.subarray(y * b.width * 3, (y + 1) * b.width * 3), (y * width + a.width) * 3);
  }
  return { width, height, data, index: 0 };
}

let participant: RgbFrame;
let stranger: RgbFrame;
let both: RgbFrame;
const empty = (): RgbFrame => ({ width: 320, height: 240, data: new Uint8Array(320 * 240 * 3).fill(128), index: 0 });
beforeAll(() => {
  participant = faceOf('astronaut');
  stranger = faceOf('hopper');
  both = sideBySide(participant, stranger);
});

/**
 * The camera of the simulator (a scripted boundary: there is no camera here): it shows `scene` each
 * time `shoot()` is called and resolves once the runner has handed that frame's result on.
 */
class ScriptedCamera implements FrameSource {
  readonly name = 'scripted camera';
  readonly live = true;
  scene: RgbFrame = empty();
  private next: ((frame: RgbFrame) => void) | null = null;
  private ready: Promise<void> = Promise.resolve();
  private markReady: () => void = () => undefined;
  private processed: (() => void) | null = null;
  private index = 0;

  constructor() {
    this.ready = new Promise((r) => (this.markReady = r));
  }

  async *open(options?: { signal?: AbortSignal }): AsyncIterable<RgbFrame> {
    while (!options?.signal?.aborted) {
      const frame = await new Promise<RgbFrame>((resolve) => {
        this.next = resolve;
        this.markReady();
      });
      yield frame;
    }
  }

  /** One frame of the scene; resolves when its result has been delivered (`delivered()`). */
  async shoot(): Promise<void> {
    await this.ready;
    this.ready = new Promise((r) => (this.markReady = r));
    const done = new Promise<void>((r) => (this.processed = r));
    const give = this.next!;
    this.next = null;
    give({ ...this.scene, index: this.index++ });
    await done;
  }

  /** The runner delivered the last frame's result. */
  delivered(): void {
    this.processed?.();
    this.processed = null;
  }
}

/** The wiring a device with a camera uses (as runtime/live.ts is to): camera → runner → recognition → perception → session. */
interface CameraRig {
  rig: SimRig;
  camera: ScriptedCamera;
  recognition: PersonRecognition;
  perception: PerceptionService;
  enrolmentFile: string;
  /** Run one session on study day `day` (1-based) at 15:00, the camera filming throughout. */
  session(day: number, scene: RgbFrame): Promise<{ sessionId: string; turns: { speaker: string; text: string; step: string | null }[] }>;
  close(): Promise<void>;
}

const sister = [
  { say: 'Not great. I had a fight with my sister about our mother and her care.', afterMs: 1000 },
  { say: 'It made me think of my sister and how we used to talk.', afterMs: 1500 },
  { say: 'Yes, that is all.', afterMs: 1500 },
  { say: '4', afterMs: 800 },
];
const again = [
  { say: "I'm alright today, I spoke to my sister on the phone.", afterMs: 1000 },
  { say: 'It reminded me of the garden at home.', afterMs: 1500 },
  { say: 'Yes, that is all.', afterMs: 1500 },
  { say: '5', afterMs: 800 },
];

function cameraRig(o: { consent: (m: ConsentModality) => boolean; camera: boolean; replies: typeof sister }): CameraRig {
  let rig: SimRig | undefined;
  const perception = new PerceptionService({ now: () => rig!.clock.now(), transcriber: null });
  const consent = { allows: o.consent };
  rig = simRig({ replies: o.replies }, { consent, ...(o.camera ? { presence: () => perception.presence() } : {}) });
  const r = rig;
  const enrollments = new FileEnrollmentStore(r.dir);
  const inSession = () => r.log.sessions('P01').some((s) => s.status === 'started');
  const recognition = new PersonRecognition({
    participantId: 'P01', consent, enrollments, perception, now: () => r.clock.now(), inSession,
    onEvent: (kind, detail) => r.log.recordEvent(kind, detail, r.clock.now()),
  });
  const camera = new ScriptedCamera();
  const runner = new CameraRunner(recognition.source(camera), recognition.createPerceiver((options) => CameraPerceiver.create({
    ...options, modelsDir: modelsDirForTests(), ...(options.identity ? { identity: { ...options.identity, checkEvery: 1 } } : {}),
  })), {
    now: () => r.clock.now(),
    onFrame: (result, atMs) => {
      recognition.onFrame(result, atMs);
      camera.delivered();
    },
  });
  const stop = new AbortController();
  const running = o.camera ? runner.run(stop.signal) : Promise.resolve();
  let filming = false;
  const film = () => {
    if (!filming) return;
    // The simulated clock waits for the frame (and an enrolment it starts) as it waits for other real work.
    void r.clock.track(camera.shoot().then(() => recognition.settled()));
    r.clock.setTimeout(film, 1000);
  };
  return {
    rig: r, camera, recognition, perception, enrolmentFile: enrollments.file,
    async session(day, scene) {
      await r.runUntilState('idle');
      // To the day's 15:00, firing what falls due meanwhile (the camera's last timer, the companion's own).
      const target = Date.UTC(2026, 11, day, 20, 0, 0);
      while (r.clock.nextAt !== undefined && r.clock.nextAt < target) {
        r.clock.step();
        await settle();
      }
      r.clock.jumpTo(target);
      camera.scene = scene;
      filming = o.camera;
      film();
      r.companion.requestSession();
      await r.runUntilState('idle');
      filming = false;
      const s = r.log.sessions('P01').at(-1)!;
      return { sessionId: s.sessionId, turns: r.log.turns(s.sessionId) };
    },
    async close() {
      stop.abort();
      // The camera waits for a frame; one more (never processed) lets it see the abort.
      void camera.shoot();
      await running;
    },
  };
}

const everything = () => true;
const noVideo = (m: ConsentModality) => m !== 'video_recording';
const responses = (rig: SimRig, sessionId: string) => rig.rows('SELECT item, value, status, raw_text FROM responses WHERE session_id = ? ORDER BY 1', sessionId);
const events = (rig: SimRig, kind: string) => rig.rows('SELECT detail_json FROM events WHERE kind = ?', kind).map((e) => JSON.parse(String(e.detail_json)) as Record<string, unknown>);
const recalled = (turns: { speaker: string; text: string }[]) => turns.filter((t) => t.speaker === 'robot' && /you told me about/.test(t.text));

describe('knowing who is there, in sessions (real camera runner and face models; scripted camera: no camera here)', () => {
  const rigs: CameraRig[] = [];
  const make = (o: Parameters<typeof cameraRig>[0]) => {
    const c = cameraRig(o);
    rigs.push(c);
    return c;
  };
  afterAll(async () => {
    for (const c of rigs) await c.close();
  });

  it('enrols the participant at the first session (descriptors only, in the device folder), then recognises them', async () => {
    const c = make({ consent: everything, camera: true, replies: [...sister, ...again] });
    expect(existsSync(c.enrolmentFile)).toBe(false);
    const first = await c.session(1, participant);
    expect(events(c.rig, 'person.enrolled')).toEqual([{ participantId: 'P01', frames: 3, model: expect.any(String) }]);
    const stored = JSON.parse(readFileSync(c.enrolmentFile, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(stored).sort()).toEqual(['descriptors', 'enrolledAtMs', 'model', 'participantId', 'version']);
    expect((stored.descriptors as number[][]).map((d) => d.length)).toEqual([1024, 1024, 1024]);
    expect(c.recognition.enrolled).toBe(true);
    // The answer was the participant's (alone in view): stored as usual.
    expect(responses(c.rig, first.sessionId)).toEqual([{ item: expect.any(String), value: 4, status: 'answered', raw_text: '4' }]);
    // The next day the participant alone is recognised: memory comes back, the answer is theirs.
    const second = await c.session(2, participant);
    expect(recalled(second.turns).map((t) => t.text)).toEqual([expect.stringMatching(/you told me about your sister/)]);
    expect(responses(c.rig, second.sessionId)).toMatchObject([{ value: 5, status: 'answered' }]);
    expect(events(c.rig, 'response.not_participant')).toEqual([]);
  }, 120_000);

  it('with someone else in view nothing of the participant\'s memories is said', async () => {
    const c = make({ consent: everything, camera: true, replies: [...sister, ...again] });
    await c.session(1, participant);
    expect(c.recognition.enrolled).toBe(true);
    const second = await c.session(2, both);
    expect(recalled(second.turns)).toEqual([]);
    expect(events(c.rig, 'memory.recalled')).toEqual([]);
    // The participant is in view too, so their answer is still theirs.
    expect(responses(c.rig, second.sessionId)).toMatchObject([{ value: 5, status: 'answered' }]);
  }, 120_000);

  it('a spoken answer with no enrolled face in view is not stored as the participant\'s, and what is said is not remembered as theirs', async () => {
    const c = make({ consent: everything, camera: true, replies: [...sister, ...again] });
    await c.session(1, participant);
    const memoriesBefore = c.rig.rows('SELECT COUNT(*) AS n FROM memories')[0]!.n;
    const second = await c.session(2, stranger);
    expect(responses(c.rig, second.sessionId)).toEqual([{ item: expect.any(String), value: null, status: 'unanswered', raw_text: null }]);
    expect(events(c.rig, 'response.not_participant')).toEqual([expect.objectContaining({ participant: 'absent', others: 1 })]);
    expect(c.rig.rows('SELECT COUNT(*) AS n FROM memories')[0]!.n).toBe(memoriesBefore);
    expect(recalled(second.turns)).toEqual([]);
    // The session stays kind and complete.
    expect(c.rig.log.sessions('P01').at(-1)!.status).toBe('completed');
  }, 120_000);

  it('without consent for video the camera recognises nobody, enrols nobody, and the sessions are the same as without a camera', async () => {
    const withCamera = make({ consent: noVideo, camera: true, replies: [...sister, ...again] });
    const without = make({ consent: noVideo, camera: false, replies: [...sister, ...again] });
    const a = [await withCamera.session(1, participant), await withCamera.session(2, stranger)];
    const b = [await without.session(1, participant), await without.session(2, stranger)];
    expect(existsSync(withCamera.enrolmentFile)).toBe(false);
    expect(withCamera.perception.presence()).toBeUndefined();
    expect(events(withCamera.rig, 'person.enrolled')).toEqual([]);
    const lines = (s: typeof a) => s.flatMap((x) => x.turns.map((t) => `${t.speaker}|${t.step}|${t.text}`));
    expect(lines(a)).toEqual(lines(b));
    expect(a.map((s) => responses(withCamera.rig, s.sessionId))).toEqual(b.map((s) => responses(without.rig, s.sessionId)));
    // As today: the stranger's answer is stored, and memory comes back on day 2.
    expect(responses(withCamera.rig, a[1]!.sessionId)).toMatchObject([{ value: 5, status: 'answered' }]);
    expect(recalled(a[1]!.turns)).toHaveLength(1);
  }, 120_000);
});
