import { describe, expect, it } from 'vitest';
import { IouTracker } from './tracker.js';

const box = (x: number, y = 100, w = 80, h = 80) => ({ x, y, w, h });

describe('IouTracker', () => {
  it('keeps an id while the face moves a little, and gives a new face a new id', () => {
    const t = new IouTracker<null>();
    const a = t.update([box(100)], () => null);
    expect(a.appeared.map((x) => x.id)).toEqual(['face1']);
    const b = t.update([box(110), box(400)], () => null);
    expect(b.matched.map((x) => x.id)).toEqual(['face1', 'face2']);
    expect(b.appeared.map((x) => x.id)).toEqual(['face2']);
  });

  it('matches by best overlap when two faces swap order in the detector output', () => {
    const t = new IouTracker<null>();
    t.update([box(100), box(300)], () => null);
    const r = t.update([box(305), box(95)], () => null);
    expect(r.matched.map((x) => x.id)).toEqual(['face2', 'face1']);
  });

  it('survives a few missed frames, then reports the face lost', () => {
    const t = new IouTracker<null>({ maxMissed: 2 });
    t.update([box(100)], () => null);
    expect(t.update([], () => null).lost).toEqual([]);
    expect(t.update([], () => null).lost).toEqual([]);
    expect(t.update([box(102)], () => null).matched[0]!.id).toBe('face1'); // back within the grace period
    t.update([], () => null);
    t.update([], () => null);
    expect(t.update([], () => null).lost.map((x) => x.id)).toEqual(['face1']);
    expect(t.update([box(100)], () => null).appeared.map((x) => x.id)).toEqual(['face2']);
  });
});
