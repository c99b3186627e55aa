import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  AlertOutbox, bundledStories, DEFAULT_ALERT_TIMEOUT_MS, describeWebhookUrl, JsonlAlertChannel, LlmClient, resolveAlertWebhook, resolveLlmSettings, WebhookAlertTransport,
  type AlertWebhookSettings, type LearnedLayer, type Listener, type RobotLine, type Speaker,
} from '../behaviors/index.js';
import { isDiskFull, isValidTimeZone, localDate, SqliteStore, type DiskFullError, type Store } from '../data/index.js';
import { EspeakSpeaker, FfmpegFrameSource, FileEnrollmentStore, loadRclnodejs, loadScript, MicrophonePath, OpenAiTranscriber, openAiModels, Ros2Speaker, Ros4hriFaceWatcher, Ros4hriPeopleWatcher, Ros4hriVoiceListener, type Rcl, ScriptedParticipant, SimSpeaker, TerminalParticipant, type ParticipantScript } from '../hardware/index.js';
import { cameraIdentity, CameraRunner, FallbackTranscriber, faceObservation, PeopleRegistry, PerceptionService, PocketsphinxTranscriber, RawMediaWriter, UNRECOGNISED, type FrameResult, type PerceptionServiceOptions } from '../perception/index.js';
import { BUNDLED_PROTOCOL, loadProtocol, provisionDevice, type ConsentModality } from '../study-protocol/index.js';
import { ManualClock, systemClock, type Clock } from './clock.js';
import { createCompanion, type CompanionOptions } from './companion.js';
import { PersonRecognition } from './companion/person-recognition.js';
import { learnedSafeguardGate } from './safeguard-model.js';
import { StudyScheduler } from './scheduler.js';
import { trackedModel } from './simulate.js';
import { openStudyDevice } from './study-device.js';
import { fileStateStore, readUplinkConfig, UPLINK_FILE, type UplinkConfig } from './uplink/config.js';
import { deviceHealth } from './uplink/health.js';
import { HttpUplinkTransport } from './uplink/http-transport.js';
import { Uplink } from './uplink/uplink.js';

/** A configuration mistake found before anything starts. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly exitCode = 2;
}

/** Options for one live session on simulator hardware. */
export interface LiveOptions {
  /** A device folder made by `hearth provision`; a demo participant is provisioned there when it is empty. */
  deviceDir: string;
  /** For the demo participant only: id, zone and protocol. */
  participantId: string;
  tz: string;
  protocolFile?: string;
  /** Speak lines with espeak-ng too. */
  voice?: boolean;
  /** A participant script instead of the terminal. */
  script?: string;
  /** Multiply all script and speech durations (0.01 = a hundred times faster). */
  timeScale?: number;
  replyTimeoutMs?: number;
  hearthVersion: string;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  clock?: Clock;
  env?: Readonly<Record<string, string | undefined>>;
  /** Refuse an unprovisioned folder instead of setting up a demo participant. */
  requireProvisioned?: boolean;
  /** Hear the participant through this ALSA/PulseAudio capture device (voice activity, pocketsphinx) instead of typing. */
  microphone?: string;
  /**
   * With `microphone`: the study site's OpenAI-compatible transcription server (a whisper server) for
   * speech to text, the offline recogniser standing in whenever it fails. Audio leaves the device.
   */
  stt?: { baseURL: string; model: string; apiKey?: string };
  /** See the participant's face: a V4L2 device (/dev/video0), a video file or a stream. */
  camera?: string;
  /** `sim` (terminal, script, microphone) or `ros2` (a ROS4HRI robot: TTS action, voices, faces). */
  hardware?: 'sim' | 'ros2';
  /** Injected rclnodejs (tests); loaded on demand otherwise. */
  rcl?: Rcl;
  /** Loads the learned safeguard layer (tests inject a failing one); the shipped model and models/ otherwise. */
  loadLearned?: () => Promise<LearnedLayer>;
}

/** How a live run ended. */
export interface LiveResult {
  sessionId: string | null;
  status: string | null;
  reason: string | null;
}

/** What the demo participant consents to: talking, and keeping what was said. No model, no raw media. */
const DEMO_CONSENT: readonly ConsentModality[] = ['audio_recording', 'transcripts'];

/**
 * Boot the companion on simulator hardware (terminal or script) for a provisioned device, resume or
 * close any session a crash left open, run one session, and stop. Ctrl-C closes an open session as
 * interrupted. An empty device folder gets a demo participant on the bundled example study.
 */
async function wire(o: LiveOptions, extra: { onSessionClosed?: CompanionOptions['onSessionClosed'] } = {}) {
  const clock = o.clock ?? systemClock;
  const dir = resolve(o.deviceDir);
  const script = o.script ? loadScript(o.script) : null;
  if (!existsSync(join(dir, 'device.json'))) {
    if (o.requireProvisioned) throw new ConfigError(`${join(dir, 'device.json')} not found: provision the device first (hearth provision --device-dir ${o.deviceDir} …)`);
    if (!isValidTimeZone(o.tz)) throw new ConfigError(`option --tz: "${o.tz}" is not an IANA time zone (e.g. America/New_York)`);
    const config = provisionDevice({
      protocolFile: o.protocolFile ?? BUNDLED_PROTOCOL, participantId: o.participantId, tz: o.tz, startDate: localDate(clock.now(), o.tz),
      deviceDir: dir, now: clock.now(), consentGranted: DEMO_CONSENT, registryFile: join(dir, 'demo-allocation-registry.sqlite'),
      strata: { household: 'lives_with_others' },
    });
    o.output.write(
      `[hearth] set up demo participant ${config.participantId} in ${dir} (study ${config.protocol.id}, condition ${config.condition}, ` +
        `consent: ${DEMO_CONSENT.join(', ')})\n`,
    );
  }
  await deliverRetainedAlerts(dir, clock, o);
  const device = openStudyDevice(dir, clock);
  const { log, participant, config } = device;
  // Who is there and who the robot addresses: face affect is read from the addressed person only.
  // With a camera and consent for video, the faces recognised as the enrolled participant (or as
  // someone else) decide it (cameraIdentity); before enrolment, or without, the most engaged person in view.
  let lastFrame: FrameResult | undefined;
  const people = new PeopleRegistry({
    identity: o.camera ? cameraIdentity(() => (device.consent.allows('video_recording') ? lastFrame : undefined)) : UNRECOGNISED,
    onEvent: (e) => {
      if (e.type.startsWith('person.') || e.type === 'addressee.changed') log.recordEvent(e.type, e, clock.now());
    },
  });
  const enrollment = enrolledWith(dir, device);
  const alerts = alertOutbox(dir, device, clock, o, enrollment);

  const llmSettings = resolveLlmSettings(o.env ?? process.env, {});
  // The client's breaker cools down on the runtime's clock; on a simulated clock (the soak) its calls are
  // tracked, so simulated time follows real time while a request is pending instead of running ahead.
  const client = llmSettings.ok ? new LlmClient(openAiModels(llmSettings.settings), { now: () => clock.now() }) : undefined;
  const llm = client && clock instanceof ManualClock ? trackedModel(client, clock) : client;
  log.recordEvent('runtime.started', { dialogue: llm ? `model ${llmSettings.ok ? llmSettings.settings.model : ''}` : `offline (${llmSettings.ok ? '' : llmSettings.reason})` }, clock.now());

  const print = (line: RobotLine) => o.output.write(`Hearth: ${line.text}\n`);
  const voice = o.voice ? new EspeakSpeaker({ now: () => clock.now(), voice: config.hardware.voice, volume: config.hardware.volume }) : undefined;
  let companionRef: { actor: { getSnapshot(): { context: { session: { sessionId: string } | null } } } } | null = null;
  // One way to make the perception service: affect samples to the log, tagged with the open session.
  const makePerception = (extra: Partial<PerceptionServiceOptions> = {}) => new PerceptionService({
    now: () => clock.now(), sink: (samples) => log.recordAffectSamples(samples),
    sessionId: () => companionRef?.actor.getSnapshot().context.session?.sessionId ?? null,
    ...extra,
  });
  const backend: Backend = { o, clock, dir, device, people, voice, print, makePerception };
  const hw = o.hardware === 'ros2' ? await ros2Hardware(backend) : script ? scriptedHardware(backend, script) : o.microphone !== undefined ? microphoneHardware(backend, o.microphone) : terminalHardware(backend);
  const { speaker, listener, terminal, ros } = hw;
  let perception = hw.perception;

  // The learned safeguard layer is tried now (to say so at start-up) and again before each session.
  const policy = device.protocol.protocol.safeguards?.on_model_failure ?? 'block';
  const safeguardGate = learnedSafeguardGate(policy, o.loadLearned);
  const firstGate = await safeguardGate();
  if (firstGate.failure) {
    o.output.write(`[hearth] safeguards: the learned layer could not load (${firstGate.failure}); ${policy === 'block' ? 'no session will start until it is fixed' : 'sessions run on the rule checks alone'} (protocol safeguards.on_model_failure: ${policy}); study staff are alerted\n`);
  }

  const companion = createCompanion({
    safeguardGate,
    store: device.store, log, clock, participant, speaker, listener, stories: bundledStories(), hardware: o.hardware === 'ros2' ? 'ros2' : script ? 'sim-script' : 'sim-terminal',
    hearthVersion: o.hearthVersion, replyTimeoutMs: o.replyTimeoutMs, planFor: device.planFor, consent: device.consent, llm,
    recordVoiceConsent: device.recordVoiceConsent,
    storySeed: `${config.allocation.seed}|${config.participantId}`, alerts, region: 'US',
    maxSessionMs: (device.protocol.protocol.safeguards?.max_session_minutes ?? 45) * 60_000, onSessionClosed: extra.onSessionClosed,
    affect: () => perception?.current(),
    // Who the camera sees (PersonRecognition below, with consent for video only): memories stay unsaid
    // with someone else in view, and a survey answer with no enrolled face in view is not the participant's.
    presence: o.camera ? () => perception?.presence() : undefined,
    checkDevices: async () => {
      const mic = perception?.status().microphone;
      if (o.microphone !== undefined && mic !== 'running') throw new Error(`microphone is ${mic ?? 'off'}`);
    },
    onExpression: script || terminal || perception ? (cue) => o.output.write(`\x1b[2m  (${cue.expression}, ${cue.gesture.replace(/_/g, ' ')})\x1b[0m\n`) : undefined,
  });
  companionRef = companion;
  // A full disk stops the companion calmly: the open session is closed as interrupted (in the room the
  // store's reserve gave back), the fault recorded, a line said; the command then exits naming the file.
  let diskFull: DiskFullError | null = null;
  let farewell: Promise<unknown> = Promise.resolve();
  device.store.onDiskFull?.((e) => {
    if (diskFull) return;
    diskFull = e;
    // Not inside the store write that found the disk full: that transaction is still unwinding.
    queueMicrotask(() => {
      try {
        log.recordEvent('store.disk_full', { file: e.path, reserveReleased: e.released, error: e.message }, clock.now());
      } catch (again) {
        if (!isDiskFull(again)) throw again;
      }
      companion.shutdown(`the disk is full (${e.path})`);
      farewell = speaker.speak({ text: DISK_FULL_LINE, act: 'safe' }).catch(() => undefined);
    });
  });
  // The camera feeds the fused affect state; its faults are logged and retried, never fatal.
  let camera: CameraRunner | null = null;
  if (o.camera) {
    perception ??= makePerception();
    const service = perception;
    // Recognition and enrolment (descriptors only, in the device folder) run only with consent for video.
    const recognition = new PersonRecognition({
      participantId: config.participantId, consent: device.consent, enrollments: new FileEnrollmentStore(dir), perception: service,
      now: () => clock.now(), inSession: () => (companionRef?.actor.getSnapshot().context.session ?? null) !== null,
      onEvent: (kind, detail) => log.recordEvent(kind, detail, clock.now()),
    });
    camera = new CameraRunner(recognition.source(new FfmpegFrameSource(o.camera, { realtime: !o.camera.startsWith('/dev/') })), recognition.createPerceiver(), {
      onFrame: (result, atMs) => {
        recognition.onFrame(result, atMs);
        lastFrame = result;
        people.observeFrame(result, atMs);
        const face = faceObservation(result, atMs, people.addressee()?.faceId);
        if (face) service.observeFace({ valence: face.valence!, arousal: face.arousal!, confidence: face.confidence, atMs });
      },
      onEvent: (e) => {
        if (e.type !== 'face.appeared' && e.type !== 'face.lost') log.recordEvent(e.type, e, clock.now());
      },
    });
  }
  // Enrolled with a study server: data, heartbeats and (through the outbox above) alerts go there in the background.
  const uplink = enrollment ? new Uplink({
    transport: new HttpUplinkTransport({ server: enrollment.server, deviceId: enrollment.deviceId, token: enrollment.token }),
    store: device.store, log, deviceId: config.deviceId, state: fileStateStore(dir, enrollment), timers: clock,
    health: deviceHealth({
      dir, store: device.store, log, participantId: config.participantId, hearthVersion: o.hearthVersion, protocolHash: device.protocol.hash,
      clockSource: clock.source, perception: () => perception?.status() as Record<string, unknown> | undefined,
    }),
    // Data waits while a session runs (building a batch holds the event loop for tens of ms); heartbeats do not.
    busy: () => (companionRef?.actor.getSnapshot().context.session ?? null) !== null,
  }) : null;
  return { clock, device, companion, terminal, perception, camera, ros, alerts, people, uplink, diskFull: () => diskFull, farewell: () => farewell };
}

/** What the robot says when its disk is full, before it stops. */
export const DISK_FULL_LINE = "I'm sorry, I have to stop for now: my storage is full. Please let the study team know, and we can talk again once it's sorted.";

/** The device folder's enrollment with a study server (`uplink.json`), checked against the device; null when not enrolled. */
function enrolledWith(dir: string, device: ReturnType<typeof openStudyDevice>): UplinkConfig | null {
  let enrollment: UplinkConfig | null;
  try {
    enrollment = readUplinkConfig(dir);
  } catch (e) {
    device.store.close();
    throw e;
  }
  if (enrollment && enrollment.deviceId !== device.config.deviceId) {
    device.store.close();
    throw new ConfigError(`${join(dir, UPLINK_FILE)}: enrolled as device ${enrollment.deviceId}, but this device is ${device.config.deviceId}; enroll it again (hearth provision --server URL --code CODE --device-dir ${dir})`);
  }
  return enrollment;
}

/** The alert outbox's webhook settings for the study server's alerts route, under the device token. */
function serverAlertSettings(dir: string, enrollment: UplinkConfig): AlertWebhookSettings {
  const url = new HttpUplinkTransport({ server: enrollment.server, deviceId: enrollment.deviceId, token: enrollment.token }).alertsUrl;
  return { url, source: `${join(dir, UPLINK_FILE)} (study server)`, secret: null, secretSource: null, timeoutMs: DEFAULT_ALERT_TIMEOUT_MS, bearerToken: enrollment.token };
}

/** What every hardware backend is built from. */
interface Backend {
  o: LiveOptions;
  clock: Clock;
  dir: string;
  device: ReturnType<typeof openStudyDevice>;
  people: PeopleRegistry;
  voice: EspeakSpeaker | undefined;
  print: (line: RobotLine) => void;
  makePerception: (extra?: Partial<PerceptionServiceOptions>) => PerceptionService;
}

/** What a backend gives the companion: a voice, ears, and what else it runs. */
interface Hardware {
  speaker: Speaker;
  listener: Listener;
  perception: PerceptionService | null;
  terminal: TerminalParticipant | null;
  ros: { close(): void } | null;
}

/** A ROS4HRI robot: its TTS action speaks, /humans/voices/*\/speech is heard, /humans/faces/*\/expression and /humans/persons are seen. */
async function ros2Hardware({ o, clock, people, makePerception }: Backend): Promise<Hardware> {
  const rcl = o.rcl ?? (await loadRclnodejs());
  await rcl.init();
  const node = rcl.createNode('hearth');
  const speaker = new Ros2Speaker(rcl, node, { now: () => clock.now() });
  const voices = new Ros4hriVoiceListener(node, () => clock.now());
  const perception = makePerception();
  const faces = new Ros4hriFaceWatcher(node, () => clock.now(), (r) => {
    if (r.faceId === people.addressee()?.faceId) perception.observeFace(r);
  });
  const persons = new Ros4hriPeopleWatcher(node, () => clock.now(), people);
  node.spin?.();
  return { speaker, listener: voices, perception, terminal: null, ros: { close: () => (voices.close(), faces.close(), persons.close(), rcl.shutdown?.()) } };
}

/** A scripted participant on the simulated clock; lines printed (and spoken with --voice). */
function scriptedHardware({ o, clock, voice, print }: Backend, script: ParticipantScript): Hardware {
  const sim = new SimSpeaker(clock, { timeScale: o.timeScale ?? 1, onLine: print });
  const speaker: Speaker = voice ? { speak: async (line, signal) => { await sim.speak(line, signal); return voice.speak(line, signal); } } : sim;
  const listener = new ScriptedParticipant(script, clock, { timeScale: o.timeScale ?? 1, onSay: (t) => o.output.write(`you> ${t}\n`) });
  return { speaker, listener, perception: null, terminal: null, ros: null };
}

/** Speech in, through the microphone pipeline; lines printed (and spoken with --voice). */
function microphoneHardware({ o, clock, dir, device, voice, print, makePerception }: Backend, microphone: string): Hardware {
  const { log } = device;
  // The robot's own voice closes the microphone while it plays, plus a tail (echo gating: hardware/README).
  const mic = new MicrophonePath({ device: microphone || undefined });
  const ears = mic.listener;
  // The site's whisper server, when configured, with the offline recogniser standing in while it fails.
  const transcriber = o.stt
    ? new FallbackTranscriber(
      new OpenAiTranscriber({ ...o.stt, language: 'en', timeoutMs: STT_TIMEOUT_MS, maxRetries: 0 }),
      new PocketsphinxTranscriber(),
      { now: () => clock.now(), onFallback: (e) => log.recordEvent('transcriber.fallback', e, clock.now()) },
    )
    : undefined;
  if (transcriber) log.recordEvent('transcriber.configured', { engine: transcriber.name }, clock.now());
  const perception = makePerception({
    audio: mic.audio,
    ...(transcriber ? { transcriber } : {}),
    expectation: () => mic.expectation(),
    // Utterance audio is kept only with consent to keep raw media *and* to record audio (re-read each time).
    rawMedia: new RawMediaWriter({
      dir: join(dir, 'raw-media'),
      consent: { mayKeepRaw: (m) => device.consent.allows('keep_raw_media') && device.consent.allows(m === 'audio' ? 'audio_recording' : 'video_recording') },
      log: (e) => log.recordEvent(e.kind, e, clock.now()),
      now: () => clock.now(),
    }),
    events: {
      utterance: (u) => {
        o.output.write(`you> ${u.text}\n`);
        mic.heard(u);
      },
      fault: (f) => {
        log.recordEvent('perception.fault', f, clock.now());
        mic.fault(f);
      },
    },
  });
  const gated = voice ? mic.voice(voice) : undefined;
  const speaker: Speaker = { speak: async (line, signal) => { print(line); return gated ? gated.speak(line, signal) : { startedAt: clock.now(), endedAt: clock.now() }; } };
  return { speaker, listener: ears, perception, terminal: null, ros: null };
}

/** The longest a participant waits for the site's transcription server before the offline recogniser answers instead. */
const STT_TIMEOUT_MS = 6000;

/** Typed conversation in the terminal (spoken with --voice). */
function terminalHardware({ o, clock, voice }: Backend): Hardware {
  const terminal = new TerminalParticipant({ input: o.input as never, output: o.output as never, now: () => clock.now(), voice });
  return { speaker: terminal, listener: terminal, perception: null, terminal, ros: null };
}

/**
 * The alert outbox for a device: the local copy in `alerts.jsonl`, delivery to the configured webhook in
 * the background, and one line at start-up when no webhook is configured. A bad setting stops the start.
 */
function alertOutbox(dir: string, device: ReturnType<typeof openStudyDevice>, clock: Clock, o: LiveOptions, enrollment: UplinkConfig | null): AlertOutbox {
  const { log } = device;
  const resolved = resolveAlertWebhook({
    env: o.env ?? process.env, protocol: device.protocol.protocol.device?.alert_webhook, protocolFile: join(dir, 'protocol.yaml'), deviceDir: dir,
  });
  if (!resolved.ok) {
    device.store.close();
    throw new ConfigError(resolved.reason);
  }
  // An enrolled device sends its alerts to the study server, which shows them to staff on the dashboard.
  const settings = enrollment ? serverAlertSettings(dir, enrollment) : resolved.settings;
  if (settings) {
    log.recordEvent('alerts.webhook', {
      url: describeWebhookUrl(settings.url), signed: settings.secret !== null, source: settings.source, ...(settings.bearerToken ? { deviceToken: true } : {}),
    }, clock.now());
  } else {
    o.output.write('[hearth] alerts: no webhook configured; safeguard incidents stay on this device (alerts.jsonl, hearth.sqlite) until one is (device.alert_webhook in the protocol, or HEARTH_ALERT_WEBHOOK)\n');
    log.recordEvent('alerts.no-webhook', { where: 'device.alert_webhook in the protocol, or HEARTH_ALERT_WEBHOOK' }, clock.now());
  }
  return new AlertOutbox({
    store: device.store.safeguards(log), transport: settings ? new WebhookAlertTransport(settings) : null, deviceId: device.config.deviceId,
    localCopy: new JsonlAlertChannel(dir), timers: clock, timeoutMs: settings?.timeoutMs, onEvent: (kind, detail) => log.recordEvent(kind, detail, clock.now()),
  });
}

/**
 * A device whose participant withdrew runs no sessions, but the incident records it kept (without the
 * participant's words) must still reach staff: try each undelivered one once, and say how it went.
 * Nothing is logged to `events`, so the withdrawn device gains no rows.
 */
async function deliverRetainedAlerts(dir: string, clock: Clock, o: LiveOptions): Promise<void> {
  let record: { status?: string; deviceId?: string; tz?: string };
  try {
    record = JSON.parse(readFileSync(join(dir, 'device.json'), 'utf8')) as typeof record;
  } catch {
    return;
  }
  if (record.status !== 'withdrawn' || !record.deviceId || !record.tz || !existsSync(join(dir, 'hearth.sqlite'))) return;
  let setting;
  try {
    setting = loadProtocol(join(dir, 'protocol.yaml')).protocol.device?.alert_webhook;
  } catch {
    setting = undefined;
  }
  const webhook = resolveAlertWebhook({ env: o.env ?? process.env, protocol: setting, protocolFile: join(dir, 'protocol.yaml'), deviceDir: dir });
  const enrollment = readUplinkConfig(dir);
  const resolved = enrollment ? { ok: true as const, settings: serverAlertSettings(dir, enrollment) } : webhook;
  const store: Store = SqliteStore.open(join(dir, 'hearth.sqlite'), { create: false });
  try {
    const log = store.forDevice({ deviceId: record.deviceId, tz: record.tz, clockSource: clock.source });
    if (enrollment) {
      // The tombstone (and what is left) must reach the study server, so its copy is purged too.
      const uplink = new Uplink({
        transport: new HttpUplinkTransport({ server: enrollment.server, deviceId: enrollment.deviceId, token: enrollment.token }), store, log,
        deviceId: record.deviceId, state: fileStateStore(dir, enrollment), timers: clock, health: () => { throw new Error('no heartbeat from a withdrawn device'); },
      });
      const flushed = await uplink.flush();
      o.output.write(`[hearth] uplink: participant withdrew; ${flushed.caughtUp ? `the study server is up to date (${flushed.batches} batch(es) sent)` : `not up to date with the study server (${flushed.error}); run again`}\n`);
    }
    const records = store.safeguards(log);
    const waiting = records.dueAlerts(null).length;
    if (waiting === 0) return;
    if (!resolved.ok || !resolved.settings) {
      o.output.write(`[hearth] alerts: ${waiting} retained alert(s) not delivered: ${resolved.ok ? 'no webhook configured' : resolved.reason}\n`);
      return;
    }
    const outbox = new AlertOutbox({ store: records, transport: new WebhookAlertTransport(resolved.settings), deviceId: record.deviceId, timers: clock, timeoutMs: resolved.settings.timeoutMs });
    const pass = await outbox.deliverAllOnce();
    o.output.write(`[hearth] alerts: participant withdrew; delivered ${pass.delivered} of ${pass.attempted} retained alert(s)` +
      `${pass.retrying ? `, ${pass.retrying} still unsent (run again)` : ''}${pass.failed ? `, ${pass.failed} refused (see hearth status)` : ''}\n`);
  } finally {
    store.close();
  }
}

/**
 * Boot the companion on simulator hardware (terminal or script) for a provisioned device, resume or
 * close any session a crash left open, run one session, and stop. Ctrl-C closes an open session as
 * interrupted. An empty device folder gets a demo participant on the bundled example study.
 */
export async function runLive(o: LiveOptions): Promise<LiveResult> {
  const wired = await wire(o);
  return operate(wired, (companion, { log, participant }) => new Promise<LiveResult>((done) => {
    let requested = false;
    let ranSession = false;
    const step = (state: string, status: string) => {
      if (state === 'session') ranSession = true;
      if (state === 'idle') {
        if (ranSession || requested) companion.shutdown(ranSession ? 'session finished' : 'no session could start');
        else {
          requested = true;
          companion.requestSession();
        }
      }
      if (state === 'degraded' && ranSession) companion.shutdown('device failed');
      if (status === 'done') {
        if (!ranSession) {
          // Say why nothing happened (outside the study's days, consent declined…), from the log.
          const why = log.lastEvent('session.not_started') as { reason?: string } | null;
          return done({ sessionId: null, status: null, reason: why?.reason ?? 'no session could start' });
        }
        const last = log.sessions(participant.participantId).at(-1);
        done({ sessionId: last?.sessionId ?? null, status: last?.status ?? null, reason: last?.statusReason ?? null });
      }
    };
    const sub = companion.actor.subscribe({
      next: (snap) => {
        step(String(snap.value), snap.status);
        if (snap.status === 'done') sub.unsubscribe();
      },
      // The companion itself failed (a write its own actions make, on a disk without room even for them).
      error: () => done({ sessionId: null, status: null, reason: 'the runtime failed' }),
    });
    const snap = companion.actor.getSnapshot();
    step(String(snap.value), snap.status);
  }));
}

/**
 * The device runtime: boot (resuming or closing an interrupted session), then follow the study's
 * schedule — invite inside each window, outside quiet hours — until stopped with Ctrl-C or SIGTERM.
 */
export async function runDevice(o: LiveOptions): Promise<void> {
  let scheduler: StudyScheduler | null = null;
  const wired = await wire(o, { onSessionClosed: (c) => scheduler?.sessionClosed(c.instanceId, c.sessionId, c.outcome) });
  const { clock, device, companion } = wired;
  scheduler = new StudyScheduler({ clock, store: device.store, log: device.log, config: device.config, protocol: device.protocol, companion });
  const running = scheduler;
  try {
    await operate(wired, () => {
      running.start();
      return new Promise<void>((done) => {
        const sub = companion.actor.subscribe({
          next: (snap) => {
            if (snap.status === 'done') {
              sub.unsubscribe();
              done();
            }
          },
          error: () => done(),
        });
      });
    });
  } finally {
    running.stop();
  }
}

/**
 * Run a wired companion: start perception and the camera, stop on Ctrl-C or SIGTERM (an open session
 * is closed as interrupted first), and release every device and the database whatever happens.
 */
async function operate<T>(wired: Awaited<ReturnType<typeof wire>>, body: (companion: Wired['companion'], device: Wired['device']) => Promise<T>): Promise<T> {
  const { device, companion, terminal, perception, camera, ros, alerts, uplink } = wired;
  let result: T;
  const onSignal = () => companion.shutdown('stopped by the user');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const cameraStop = new AbortController();
  let cameraDone: Promise<void> | undefined;
  try {
    // Unsent incidents (from before a restart too) go out in the background from now on.
    alerts.start();
    uplink?.start();
    await perception?.start();
    cameraDone = camera?.run(cameraStop.signal);
    result = await body(companion, device);
    await wired.farewell();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    terminal?.close();
    ros?.close();
    cameraStop.abort();
    await cameraDone;
    await perception?.stop();
    await alerts.stop();
    // What the session wrote goes out before the process ends, if the server answers within a few seconds.
    await uplink?.stop({ drainMs: 5_000 });
    if (wired.diskFull() || companion.actor.getSnapshot().status === 'error') closeLeftOpen(device, wired.clock, wired.diskFull()?.path);
    device.store.close();
  }
  // One line naming the file (the CLI prints a StoreError so), after the session was closed.
  const full = wired.diskFull();
  if (full) throw full;
  return result;
}

/** Sessions the companion could not close itself (it failed, or the disk filled) are closed as interrupted, if the disk lets us. */
function closeLeftOpen(device: Wired['device'], clock: Clock, fullFile: string | undefined): void {
  try {
    for (const s of device.log.openSessions()) device.log.finishSession(s.sessionId, 'interrupted', fullFile ? `the disk is full (${fullFile})` : 'the runtime failed', clock.now());
  } catch (error) {
    // Still no room: the next start closes them (boot closes or resumes every open session).
    if (!isDiskFull(error)) throw error;
  }
}

type Wired = Awaited<ReturnType<typeof wire>>;
