import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Listener, ListenerEvents, ListenRequest, RobotLine, Speaker, SpokenLine } from '../../behaviors/index.js';

/**
 * A participant at a terminal: robot lines are printed (and also spoken by `voice` when given),
 * and each line the participant types is one utterance. Lines typed while the robot is speaking
 * wait for the next question. End of input (Ctrl-D) means the participant left.
 */
export class TerminalParticipant implements Speaker, Listener {
  private readonly rl: Interface;
  private readonly queued: string[] = [];
  private waiting: { events: ListenerEvents; since: number } | null = null;
  private closed = false;
  private onSpeechStart: (() => void) | null = null;

  constructor(
    private readonly io: { input: Readable; output: Writable; now: () => number; voice?: Speaker },
  ) {
    this.rl = createInterface({ input: io.input, terminal: false });
    this.rl.on('line', (line) => this.heard(line));
    this.rl.on('close', () => {
      this.closed = true;
      const w = this.waiting;
      this.waiting = null;
      w?.events.left();
    });
  }

  async speak(line: RobotLine, signal?: AbortSignal): Promise<SpokenLine> {
    const startedAt = this.io.now();
    this.io.output.write(`\x1b[36mHearth:\x1b[0m ${line.text}\n`);
    if (this.io.voice) await this.io.voice.speak(line, signal);
    return { startedAt, endedAt: this.io.now() };
  }

  listen(_request: ListenRequest, events: ListenerEvents): () => void {
    // Lines typed (or piped) ahead are answered first, even after the input has ended.
    const typed = this.queued.shift();
    if (typed !== undefined) {
      const now = this.io.now();
      setImmediate(() => events.spoke({ text: typed, startedAt: now, endedAt: now }));
      return () => undefined;
    }
    if (this.closed) {
      setImmediate(() => events.left());
      return () => undefined;
    }
    this.io.output.write('\x1b[33myou>\x1b[0m ');
    this.waiting = { events, since: this.io.now() };
    return () => {
      if (this.waiting?.events === events) this.waiting = null;
    };
  }

  /** Typing while the robot is talking is speaking over it. */
  watchBargeIn(onSpeechStart: () => void): () => void {
    this.onSpeechStart = onSpeechStart;
    return () => {
      if (this.onSpeechStart === onSpeechStart) this.onSpeechStart = null;
    };
  }

  private heard(raw: string): void {
    const text = raw.trim();
    if (text === '') return;
    const w = this.waiting;
    if (!w) {
      this.queued.push(text);
      // Only a robot that is talking out loud (--voice) can be talked over; printed lines are instant.
      if (this.io.voice) this.onSpeechStart?.();
      return;
    }
    this.waiting = null;
    w.events.spoke({ text, startedAt: w.since, endedAt: this.io.now() });
  }

  /** Stop reading the terminal. */
  close(): void {
    this.rl.close();
  }
}
