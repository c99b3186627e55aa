import { AUDIO_SAMPLE_RATE } from './audio-source.js';

/** A RIFF/WAVE file (PCM, 16-bit, mono) holding these samples. */
export function encodeWav(samples: Int16Array, sampleRate = AUDIO_SAMPLE_RATE): Buffer {
  const data = samples.length * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) b.writeInt16LE(samples[i]!, 44 + i * 2);
  return b;
}

/** The error `decodeWav` throws: names the source and what is wrong with the file. */
export class WavError extends Error {
  override readonly name = 'WavError';
}

/** Samples of a 16-bit PCM mono WAV file; `source` names it in errors. Other formats: decode with ffmpeg. */
export function decodeWav(bytes: Buffer, source = 'wav'): { samples: Int16Array; sampleRate: number } {
  if (bytes.length < 12 || bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavError(`${source}: not a RIFF/WAVE file`);
  }
  let at = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  while (at + 8 <= bytes.length) {
    const id = bytes.toString('ascii', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new WavError(`${source}: fmt chunk at byte ${at} is truncated`);
      fmt = { format: bytes.readUInt16LE(body), channels: bytes.readUInt16LE(body + 2), rate: bytes.readUInt32LE(body + 4), bits: bytes.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new WavError(`${source}: data chunk at byte ${at} comes before any fmt chunk`);
      if (fmt.format !== 1 || fmt.bits !== 16 || fmt.channels !== 1) {
        throw new WavError(`${source}: format ${fmt.format}, ${fmt.bits}-bit, ${fmt.channels} channel(s); only 16-bit PCM mono is read here`);
      }
      const end = Math.min(bytes.length, body + size) & ~1;
      const samples = new Int16Array((end - body) >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(body + i * 2);
      return { samples, sampleRate: fmt.rate };
    }
    at = body + size + (size & 1);
  }
  throw new WavError(`${source}: no data chunk`);
}
