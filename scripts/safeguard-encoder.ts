/**
 * The encoder for training and benchmarks: the device's own sentence encoder, with a disk cache
 * of vectors (node_modules/.cache/hearth-safeguards/, keyed by encoder id and text) so that
 * retraining after a settings change does not re-encode thousands of sentences.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SentenceEncoder } from '../behaviors/ports.js';
import { packageRoot } from '../data/index.js';
import { UseLiteEncoder } from '../perception/index.js';

/** Load the encoder the device uses (USE-lite from models/). */
export async function loadDefaultEncoder(): Promise<SentenceEncoder> {
  return UseLiteEncoder.load();
}

/** Wrap an encoder's `encode` with a disk cache. */
export function cachedEncoder(encoder: SentenceEncoder): (texts: string[]) => Promise<Float32Array[]> {
  const dir = join(packageRoot(), 'node_modules', '.cache', 'hearth-safeguards');
  const file = join(dir, `${encoder.id.replace(/[^\w.-]+/g, '_')}.json`);
  const cache: Record<string, string> = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  const key = (t: string) => createHash('sha1').update(t).digest('base64');
  return async (texts) => {
    const missing = [...new Set(texts.filter((t) => !(key(t) in cache)))];
    // The encoder batches internally (32 texts a run).
    const vs = await encoder.encode(missing);
    missing.forEach((t, j) => (cache[key(t)] = Buffer.from(vs[j]!.buffer, vs[j]!.byteOffset, vs[j]!.byteLength).toString('base64')));
    if (missing.length) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, JSON.stringify(cache));
    }
    return texts.map((t) => {
      const b = Buffer.from(cache[key(t)]!, 'base64');
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    });
  };
}
