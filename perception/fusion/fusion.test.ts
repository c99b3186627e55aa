import { describe, expect, it } from 'vitest';
import { affectLabel } from './affect.js';
import { AffectFusion } from './fusion.js';

const T = 1_800_000_000_000;

describe('AffectFusion', () => {
  it('with no source at all knows nothing: valence and arousal undefined, confidence 0', () => {
    const s = new AffectFusion().stateAt(T);
    expect(s.valence).toBeUndefined();
    expect(s.arousal).toBeUndefined();
    expect(s.label).toBeUndefined();
    expect(s.confidence).toBe(0);
    expect(s.sources.face).toEqual({ confidence: 0, freshness: 0, share: { valence: 0, arousal: 0 }, stale: true });
  });

  it('a face alone gives valence and arousal, with its age and full share', () => {
    const f = new AffectFusion();
    f.observe({ source: 'face', valence: 0.8, arousal: 0.3, confidence: 0.9, atMs: T });
    const s = f.stateAt(T + 500);
    expect(s.valence).toBeCloseTo(0.8);
    expect(s.arousal).toBeCloseTo(0.3);
    expect(s.label).toBe('happy');
    expect(s.sources.face.ageMs).toBe(500);
    expect(s.sources.face.share).toEqual({ valence: 1, arousal: 1 });
    expect(s.sources.voice.ageMs).toBeUndefined();
    expect(s.confidence).toBeGreaterThan(0.5);
  });

  it('weights sources by confidence: a confident face outweighs unsure words', () => {
    const f = new AffectFusion();
    f.observe({ source: 'face', valence: 0.6, confidence: 0.9, atMs: T });
    f.observe({ source: 'text', valence: -0.6, confidence: 0.2, atMs: T });
    const s = f.stateAt(T);
    expect(s.valence!).toBeGreaterThan(0.3);
    expect(s.sources.face.share.valence).toBeGreaterThan(s.sources.text.share.valence);
    expect(s.sources.face.share.valence + s.sources.text.share.valence).toBeCloseTo(1);
  });

  it('takes arousal from the voice and valence from the words when there is no face', () => {
    const f = new AffectFusion();
    f.observe({ source: 'voice', arousal: 0.7, confidence: 0.6, atMs: T });
    f.observe({ source: 'text', valence: -0.5, confidence: 0.6, atMs: T });
    const s = f.stateAt(T + 1000);
    expect(s.arousal).toBeCloseTo(0.7);
    expect(s.valence).toBeCloseTo(-0.5);
    expect(s.label).toBe('angry');
  });

  it('a source going stale lowers confidence and hands the estimate to the others, without a jump', () => {
    const f = new AffectFusion();
    f.observe({ source: 'face', valence: 0.8, arousal: 0.2, confidence: 0.9, atMs: T });
    f.observe({ source: 'text', valence: 0.0, confidence: 0.6, atMs: T });
    const fresh = f.stateAt(T);
    const older = f.stateAt(T + 3_000);
    const gone = f.stateAt(T + 7_000);
    expect(older.confidence).toBeLessThan(fresh.confidence);
    expect(gone.confidence).toBeLessThan(older.confidence);
    expect(gone.sources.face.stale).toBe(true);
    expect(gone.sources.face.share.valence).toBe(0);
    expect(gone.valence).toBeCloseTo(0);
    // The face fades continuously: just before and after it goes stale differ little.
    const justBefore = f.stateAt(T + 5_999).valence!;
    const justAfter = f.stateAt(T + 6_001).valence!;
    expect(Math.abs(justBefore - justAfter)).toBeLessThan(0.01);
  });

  it('when every source is stale, says nothing rather than repeat the old estimate', () => {
    const f = new AffectFusion();
    f.observe({ source: 'face', valence: 0.8, arousal: 0.2, confidence: 0.9, atMs: T });
    f.observe({ source: 'voice', arousal: 0.4, confidence: 0.5, atMs: T });
    const s = f.stateAt(T + 60_000);
    expect(s.valence).toBeUndefined();
    expect(s.arousal).toBeUndefined();
    expect(s.confidence).toBe(0);
    expect(s.sources.face.ageMs).toBe(60_000);
  });

  it('losing a source lowers confidence even when the others are fresh', () => {
    const both = new AffectFusion();
    const one = new AffectFusion();
    for (const f of [both, one]) f.observe({ source: 'voice', arousal: 0.4, confidence: 0.6, atMs: T });
    both.observe({ source: 'face', valence: 0.4, arousal: 0.4, confidence: 0.6, atMs: T });
    expect(one.stateAt(T).confidence).toBeLessThan(both.stateAt(T).confidence);
    // Arousal alone: valence unknown, so half the evidence is missing.
    expect(one.stateAt(T).valence).toBeUndefined();
    expect(one.stateAt(T).confidence).toBeLessThanOrEqual(0.5);
  });

  it('smooths by time constant: a jump moves the estimate 1 − e^(−Δt/τ) of the way', () => {
    const f = new AffectFusion({ face: { smoothingMs: 1000 } });
    f.observe({ source: 'face', valence: 0, confidence: 1, atMs: T });
    f.observe({ source: 'face', valence: 1, confidence: 1, atMs: T + 1000 });
    expect(f.stateAt(T + 1000).valence).toBeCloseTo(1 - Math.exp(-1), 6);
    // Same jump at 30 fps: after one frame it has barely moved.
    const g = new AffectFusion({ face: { smoothingMs: 1000 } });
    g.observe({ source: 'face', valence: 0, confidence: 1, atMs: T });
    g.observe({ source: 'face', valence: 1, confidence: 1, atMs: T + 33 });
    expect(g.stateAt(T + 33).valence!).toBeLessThan(0.05);
  });

  it('ignores observations older than the last one and rejects nonsense naming the source', () => {
    const f = new AffectFusion();
    f.observe({ source: 'face', valence: 0.5, confidence: 1, atMs: T });
    expect(f.observe({ source: 'face', valence: -1, confidence: 1, atMs: T - 10 })).toBe(false);
    expect(f.stateAt(T).valence).toBeCloseTo(0.5);
    expect(() => f.observe({ source: 'face', valence: 2, confidence: 1, atMs: T })).toThrow(`affect observation from face at ${T}: valence 2 is outside −1..1`);
    expect(() => f.observe({ source: 'voice', arousal: NaN, confidence: 1, atMs: T })).toThrow(/voice .*arousal NaN/);
    expect(() => f.observe({ source: 'text', valence: 0, confidence: 1.5, atMs: T })).toThrow(/confidence 1.5 is outside 0..1/);
  });
});

describe('affectLabel', () => {
  it('names the circumplex sectors as hri_msgs/Expression does', () => {
    expect(affectLabel(0.05, 0.05)).toBe('neutral');
    expect(affectLabel(0.8, 0)).toBe('happy');
    expect(affectLabel(0.6, 0.6)).toBe('excited');
    expect(affectLabel(0, 0.8)).toBe('surprised');
    expect(affectLabel(-0.6, 0.6)).toBe('angry');
    expect(affectLabel(-0.8, 0)).toBe('sad');
    expect(affectLabel(-0.6, -0.6)).toBe('bored');
    expect(affectLabel(0, -0.8)).toBe('tired');
    expect(affectLabel(undefined, 0.9)).toBeUndefined();
  });
});
