import type { Speaker } from '../../behaviors/index.js';
import type { AudioSource, HeardUtterance, PerceptionFault, TranscribeHint } from '../../perception/index.js';
import { UtteranceListener } from '../utterance-listener.js';
import { EchoGate } from './echo-gate.js';
import { LpcmMicrophone, type LpcmMicrophoneOptions } from './lpcm-microphone.js';

/** The device's microphone and how long it stays closed after the robot speaks. */
export interface MicrophonePathOptions extends LpcmMicrophoneOptions {
  /** Echo gate tail after each robot line, ms (default 250). */
  tailMs?: number;
  /** The microphone itself; default an `LpcmMicrophone` with these options. */
  audio?: AudioSource;
}

/**
 * The voice path of a device without echo cancellation, as `hearth talk --microphone` and `hearth run`
 * wire it: the sound card (node-record-lpcm16 → arecord) behind an echo gate, so the robot's own voice
 * never reaches voice activity detection, and a `Listener` fed by the perception service's utterances.
 * Give `audio` to the perception service, `heard`/`fault` as its events, and speak through `voice()`.
 */
export class MicrophonePath {
  readonly gate: EchoGate;
  readonly listener = new UtteranceListener();
  /** The gated microphone, for `PerceptionService({ audio })`. */
  readonly audio: AudioSource;

  constructor(options: MicrophonePathOptions = {}) {
    this.gate = new EchoGate({ ...(options.tailMs !== undefined ? { tailMs: options.tailMs } : {}), ...(options.now ? { now: options.now } : {}) });
    this.audio = this.gate.source(options.audio ?? new LpcmMicrophone(options));
  }

  /** The robot's voice: the microphone is closed while each line plays, and the tail after it. */
  voice(inner: Speaker): Speaker {
    return this.gate.speaker(inner);
  }

  /** For `PerceptionService({ expectation })`: the accepted answers of the question being listened for. */
  expectation(): TranscribeHint | undefined {
    return this.listener.expectation();
  }

  /** The perception service heard an utterance: hand it to the listener. */
  heard(u: HeardUtterance): void {
    this.listener.heard({
      text: u.text, startedAt: u.startedAt, endedAt: u.endedAt,
      ...(u.confidence !== undefined ? { confidence: u.confidence } : {}),
      ...(u.alternatives?.length ? { alternatives: u.alternatives } : {}),
      ...(u.answer ? { answer: u.answer } : {}),
    });
  }

  /** The perception service reported a fault: a lost microphone fails the listen in progress. */
  fault(f: PerceptionFault): void {
    if (f.kind === 'microphone.lost') this.listener.fault(f.reason);
  }
}
