import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeWav } from './audio/wav.js';
import { NO_RAW_MEDIA, rawMediaConsent, RawMediaWriter, type RawMediaConsent, type RawMediaEvent } from './consent-gate.js';

/** Every file under a directory, recursively. */
const filesUnder = (dir: string): string[] => existsSync(dir)
  ? readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
  : [];

describe('RawMediaWriter (consent gate for raw audio and video)', () => {
  let root: string;
  let raw: string;
  let events: RawMediaEvent[];
  let now: number;
  const audio = { samples: Int16Array.from({ length: 1600 }, (_, i) => Math.round(3000 * Math.sin(i / 5))), startMs: Date.UTC(2026, 0, 5, 10) };
  const frame = { format: 'rgb24' as const, data: new Uint8Array(4 * 3 * 3).fill(200), width: 4, height: 3, atMs: Date.UTC(2026, 0, 5, 10) };
  const writer = (consent: RawMediaConsent) => new RawMediaWriter({ dir: raw, consent, log: (e) => events.push(e), now: () => now });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hearth-consent-'));
    raw = join(root, 'raw');
    events = [];
    now = 1_000;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('by default writes nothing at all, not even its directory, and logs the refusal', async () => {
    const w = writer(NO_RAW_MEDIA);
    expect(await w.writeAudio(audio)).toEqual({ kept: false, reason: 'no consent to keep raw audio' });
    expect(await w.writeFrame(frame)).toEqual({ kept: false, reason: 'no consent to keep raw video' });
    expect(existsSync(raw)).toBe(false);
    expect(filesUnder(root)).toEqual([]);
    expect(events.map((e) => [e.kind, e.modality])).toEqual([['raw_media.refused', 'audio'], ['raw_media.refused', 'video']]);
  });

  it('keeps only the modality consented to', async () => {
    const w = writer(rawMediaConsent({ keep_raw_audio: true }));
    const a = await w.writeAudio(audio);
    const v = await w.writeFrame(frame);
    expect(a.kept).toBe(true);
    expect(v.kept).toBe(false);
    expect(filesUnder(root)).toEqual([(a as { path: string }).path]);
    expect(Array.from(decodeWav(readFileSync((a as { path: string }).path)).samples)).toEqual(Array.from(audio.samples));
    expect((a as { path: string }).path).toMatch(/raw\/audio\/2026-01-05T10-00-00-000Z-utterance\.wav$/);
  });

  it('keeps video frames as viewable images when allowed', async () => {
    const w = writer(rawMediaConsent({ keep_raw_video: true }));
    const v = await w.writeFrame(frame);
    const bytes = readFileSync((v as { path: string }).path);
    expect(bytes.subarray(0, 11).toString('ascii')).toBe('P6\n4 3\n255\n');
    expect(bytes.length).toBe(11 + 36);
    await expect(w.writeFrame({ ...frame, data: new Uint8Array(5) })).rejects.toThrow(/4×3 rgb24 needs 36 bytes, got 5/);
  });

  it('asks at every write, so withdrawing consent stops writing at once', async () => {
    let allowed = true;
    const w = writer({ mayKeepRaw: () => allowed });
    expect((await w.writeAudio(audio, 'first')).kept).toBe(true);
    allowed = false;
    expect((await w.writeAudio({ ...audio, startMs: audio.startMs + 5000 }, 'second')).kept).toBe(false);
    expect(filesUnder(raw).map((p) => p.endsWith('first.wav'))).toEqual([true]);
  });

  it('logs a stream of refusals once, then at most once a minute with a count', async () => {
    const w = writer(NO_RAW_MEDIA);
    for (let i = 0; i < 30; i++) { await w.writeFrame(frame); now += 1000; }
    for (let i = 0; i < 40; i++) { await w.writeFrame(frame); now += 1000; }
    const refused = events.filter((e) => e.kind === 'raw_media.refused');
    expect(refused.map((e) => (e as { refusedSinceLastLog: number }).refusedSinceLastLog)).toEqual([1, 60]);
  });
});
