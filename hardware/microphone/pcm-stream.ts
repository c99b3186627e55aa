import type { Readable } from 'node:stream';
import type { AudioChunk } from '../../perception/index.js';

/**
 * Turn a byte stream of s16le samples into audio chunks, carrying an odd trailing byte to the next read.
 * `atMsOf(n)` gives the time of sample number `n` since the stream began.
 */
export async function* pcmChunks(stream: Readable, atMsOf: (sampleIndex: number) => number): AsyncGenerator<AudioChunk> {
  let carry: Buffer | null = null;
  let sampleIndex = 0;
  for await (const data of stream) {
    let buf: Buffer = typeof data === 'string' ? Buffer.from(data, 'binary') : (data as Buffer);
    if (carry) {
      buf = Buffer.concat([carry, buf]);
      carry = null;
    }
    const even = buf.length & ~1;
    if (even < buf.length) carry = buf.subarray(even);
    if (even === 0) continue;
    // Copy: the Buffer may share a pool and be unaligned for an Int16Array view.
    const samples = new Int16Array(even / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(i * 2);
    yield { samples, atMs: atMsOf(sampleIndex) };
    sampleIndex += samples.length;
  }
}
