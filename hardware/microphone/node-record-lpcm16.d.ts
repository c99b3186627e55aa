// Types for the parts of `node-record-lpcm16` (CommonJS, no types of its own) Hearth uses.
declare module 'node-record-lpcm16' {
  import type { ChildProcess } from 'node:child_process';
  import type { Readable } from 'node:stream';
  /** Recorder options: sample rate, channels, which recorder binary, device, container. */
  export interface RecordOptions {
    sampleRate?: number;
    channels?: number;
    /** A recorder by name, or the path of a module returning `{ cmd, args }` (node-record-lpcm16 resolves it from its own folder, so an absolute path is taken as is). */
    recorder?: 'sox' | 'rec' | 'arecord' | (string & {});
    /** Passed through to the recorder module (Hearth's arecord-periods.cjs reads it). */
    periodUs?: number;
    device?: string;
    audioType?: 'raw' | 'wav';
    endOnSilence?: boolean;
  }
  /** A running recorder subprocess. */
  export interface Recording {
    process: ChildProcess;
    stream(): Readable;
    stop(): void;
  }
  /** Start recording. */
  export function record(options?: RecordOptions): Recording;
  const _default: { record: typeof record };
  export default _default;
}
