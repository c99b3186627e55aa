import { join } from 'node:path';
import { bundledStories, type Listener, type RobotLine, type Speaker } from '../behaviors/index.js';
import { isValidTimeZone, localDate, SqliteStore } from '../data/index.js';
import { EspeakSpeaker, loadScript, ScriptedParticipant, SimSpeaker, TerminalParticipant } from '../hardware/index.js';
import { systemClock, type Clock } from './clock.js';
import { createCompanion } from './companion.js';

/** A configuration mistake found before anything starts. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly exitCode = 2;
}

/** Options for one live session on simulator hardware. */
export interface LiveOptions {
  deviceDir: string;
  dbFile?: string;
  deviceId: string;
  participantId: string;
  tz: string;
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
}

/** How a live run ended. */
export interface LiveResult {
  sessionId: string | null;
  status: string | null;
  reason: string | null;
}

/**
 * Boot the companion on simulator hardware (terminal or script), resume or close any session a
 * crash left open, run one session, and stop. Ctrl-C closes an open session as interrupted.
 */
export async function runLive(o: LiveOptions): Promise<LiveResult> {
  if (!isValidTimeZone(o.tz)) throw new ConfigError(`option --tz: "${o.tz}" is not an IANA time zone (e.g. America/New_York)`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(o.participantId)) {
    throw new ConfigError(`option --participant: "${o.participantId}" is not a pseudonymous id (letters, digits, - or _, e.g. P01)`);
  }
  const clock = o.clock ?? systemClock;
  const script = o.script ? loadScript(o.script) : null;
  const store = SqliteStore.open(o.dbFile ?? join(o.deviceDir, 'hearth.sqlite'));
  const stories = bundledStories();
  const log = store.forDevice({ deviceId: o.deviceId, tz: o.tz, clockSource: clock.source });
  const hardware = script ? 'sim-script' : 'sim-terminal';
  log.registerDevice({ hardware, hearthVersion: o.hearthVersion }, clock.now());
  const record = log.participant(o.participantId) ?? log.enrollParticipant(
    { participantId: o.participantId, startDate: localDate(clock.now(), o.tz), condition: null, protocolId: null, protocolVersion: null, protocolHash: null },
    clock.now(),
  );
  if (record.status === 'withdrawn') throw new ConfigError(`participant ${o.participantId} has withdrawn; no sessions are run`);

  const print = (line: RobotLine) => o.output.write(`Hearth: ${line.text}\n`);
  const voice = o.voice ? new EspeakSpeaker({ now: () => clock.now() }) : undefined;
  let speaker: Speaker;
  let listener: Listener;
  let terminal: TerminalParticipant | null = null;
  if (script) {
    const sim = new SimSpeaker(clock, { timeScale: o.timeScale ?? 1, onLine: print });
    speaker = voice ? { speak: async (line, signal) => { await sim.speak(line, signal); return voice.speak(line, signal); } } : sim;
    listener = new ScriptedParticipant(script, clock, { timeScale: o.timeScale ?? 1, onSay: (t) => o.output.write(`you> ${t}\n`) });
  } else {
    terminal = new TerminalParticipant({ input: o.input as never, output: o.output as never, now: () => clock.now(), voice });
    speaker = terminal;
    listener = terminal;
  }

  const companion = createCompanion({
    log, clock, participant: record, speaker, listener, stories, hardware,
    hearthVersion: o.hearthVersion, replyTimeoutMs: o.replyTimeoutMs,
  });
  const onSignal = () => companion.shutdown('stopped by the user');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let ranSession = false;
    await new Promise<void>((resolve) => {
      const sub = companion.actor.subscribe((snap) => {
        const state = String(snap.value);
        if (state === 'session') ranSession = true;
        if (state === 'idle') {
          if (ranSession) companion.shutdown('session finished');
          else companion.requestSession();
        }
        if (state === 'degraded' && ranSession) companion.shutdown('device failed');
        if (snap.status === 'done') {
          sub.unsubscribe();
          resolve();
        }
      });
      if (companion.state() === 'idle') companion.requestSession();
    });
    const last = log.sessions(o.participantId).at(-1);
    return { sessionId: last?.sessionId ?? null, status: last?.status ?? null, reason: last?.statusReason ?? null };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    terminal?.close();
    store.close();
  }
}
