import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWav } from './audio/wav.js';

/** Raw media kinds a participant may allow to be kept. */
export type RawModality = 'audio' | 'video';

/**
 * Answers, at the moment of writing, whether raw media of a modality may be kept. Asked on every write
 * so a withdrawal takes effect at once. The runtime builds it from the participant's consent.
 */
export interface RawMediaConsent {
  mayKeepRaw(modality: RawModality): boolean;
}

/** Consent from fixed flags, as named in study consent forms; both default to false. */
export function rawMediaConsent(flags: { keep_raw_audio?: boolean; keep_raw_video?: boolean }): RawMediaConsent {
  return { mayKeepRaw: (m) => (m === 'audio' ? flags.keep_raw_audio : flags.keep_raw_video) === true };
}

/** Consent that never allows keeping raw media: the default. */
export const NO_RAW_MEDIA: RawMediaConsent = { mayKeepRaw: () => false };

/** What the writer reports: a file kept, or media refused for lack of consent. */
export type RawMediaEvent =
  | { kind: 'raw_media.kept'; modality: RawModality; path: string; bytes: number; atMs: number }
  | { kind: 'raw_media.refused'; modality: RawModality; reason: string; refusedSinceLastLog: number; atMs: number };

/** A frame as delivered by a camera pipeline. */
export interface RawFrame {
  /** `rgb24`: width × height × 3 bytes, kept as PPM; `jpeg`: kept as is. */
  format: 'rgb24' | 'jpeg';
  data: Uint8Array;
  width: number;
  height: number;
  atMs: number;
}

/** Options for the raw media writer. */
export interface RawMediaWriterOptions {
  /** Directory raw media goes to (created only when something may be kept). */
  dir: string;
  consent: RawMediaConsent;
  /** Where kept files and refusals are reported (e.g. DeviceLog.recordEvent). */
  log: (event: RawMediaEvent) => void;
  /** Clock for refusal-log throttling; default Date.now. */
  now?: () => number;
  /** A stream of refusals is logged once, then at most this often with a count. Default 60 000 ms. */
  refusalLogEveryMs?: number;
}

/** What a write did. */
export type RawWriteResult = { kept: true; path: string } | { kept: false; reason: string };

const stampName = (ms: number) => new Date(ms).toISOString().replace(/[:.]/g, '-');

/**
 * The only way perception puts raw audio or video on disk. Without consent for that modality it
 * writes nothing (not even a directory) and logs the refusal; by default only derived features are
 * stored elsewhere. Files are written to a temporary name and renamed, so a power cut leaves no half file.
 */
export class RawMediaWriter {
  private readonly refused: Record<RawModality, { count: number; lastLogMs: number | undefined }> = {
    audio: { count: 0, lastLogMs: undefined },
    video: { count: 0, lastLogMs: undefined },
  };

  constructor(private readonly options: RawMediaWriterOptions) {}

  /** Keep one utterance's audio as a 16 kHz WAV file, if consent allows. */
  async writeAudio(segment: { samples: Int16Array; startMs: number }, label = 'utterance'): Promise<RawWriteResult> {
    return this.write('audio', segment.startMs, `${label}.wav`, () => encodeWav(segment.samples));
  }

  /** Keep one camera frame (PPM for rgb24, JPEG as is), if consent allows. */
  async writeFrame(frame: RawFrame, label = 'frame'): Promise<RawWriteResult> {
    return this.write('video', frame.atMs, `${label}.${frame.format === 'jpeg' ? 'jpg' : 'ppm'}`, () => {
      if (frame.format === 'jpeg') return Buffer.from(frame.data);
      const expected = frame.width * frame.height * 3;
      if (frame.data.length !== expected) {
        throw new RangeError(`raw frame at ${frame.atMs}: ${frame.width}×${frame.height} rgb24 needs ${expected} bytes, got ${frame.data.length}`);
      }
      return Buffer.concat([Buffer.from(`P6\n${frame.width} ${frame.height}\n255\n`, 'ascii'), Buffer.from(frame.data)]);
    });
  }

  private async write(modality: RawModality, atMs: number, name: string, encode: () => Buffer): Promise<RawWriteResult> {
    if (!this.options.consent.mayKeepRaw(modality)) {
      const reason = `no consent to keep raw ${modality}`;
      this.noteRefusal(modality, reason);
      return { kept: false, reason };
    }
    const bytes = encode();
    const dir = join(this.options.dir, modality);
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${stampName(atMs)}-${name}`);
    await writeFile(`${path}.part`, bytes);
    await rename(`${path}.part`, path);
    this.options.log({ kind: 'raw_media.kept', modality, path, bytes: bytes.length, atMs });
    return { kept: true, path };
  }

  private noteRefusal(modality: RawModality, reason: string): void {
    const r = this.refused[modality];
    r.count++;
    const now = (this.options.now ?? Date.now)();
    if (r.lastLogMs === undefined || now - r.lastLogMs >= (this.options.refusalLogEveryMs ?? 60_000)) {
      this.options.log({ kind: 'raw_media.refused', modality, reason, refusedSinceLastLog: r.count, atMs: now });
      r.count = 0;
      r.lastLogMs = now;
    }
  }
}
