import { describe, expect, it } from 'vitest';
import { cameraIdentity } from '../camera/presence.js';
import type { FrameResult } from '../camera/perceiver.js';
import { chooseAddressee, engagementFromCode, engagementScore, PeopleRegistry, type ParticipantIdentity, type PeopleEvent, type Person } from './index.js';

const W = 640;
const H = 480;
/** A face of `share` of the image height, centred at `cx` (0..1 of the width). */
const face = (id: string, share: number, cx = 0.5) => {
  const h = share * H;
  return { id, box: { x: cx * W - h / 2, y: 100, w: h, h }, score: 0.9 };
};

function run(reg: PeopleRegistry, fromMs: number, toMs: number, faces: ReturnType<typeof face>[], stepMs = 100): void {
  for (let t = fromMs; t <= toMs; t += stepMs) reg.observeFrame({ width: W, height: H, faces }, t);
}

describe('engagement from a face box', () => {
  it('is high for a near face straight ahead, low far away or at the edge of the image', () => {
    const box = (share: number, cx: number) => ({ xmin: cx - share / 2, ymin: 0.2, xmax: cx + share / 2, ymax: 0.2 + share });
    expect(engagementScore(box(0.25, 0.5))).toBeCloseTo(1);
    expect(engagementScore(box(0.025, 0.5))).toBe(0);
    expect(engagementScore(box(0.06, 0.5))).toBeLessThan(0.5);
    expect(engagementScore(box(0.25, 0.97))).toBeLessThan(engagementScore(box(0.25, 0.6)));
    expect(engagementScore({ xmin: NaN, ymin: NaN, xmax: NaN, ymax: NaN })).toBe(0);
  });

  it('maps hri_msgs/EngagementLevel codes both ways', () => {
    expect([0, 1, 2, 3, 4].map(engagementFromCode)).toEqual(['UNKNOWN', 'DISENGAGED', 'ENGAGING', 'ENGAGED', 'DISENGAGING']);
    expect(engagementFromCode(7)).toBeUndefined();
  });
});

describe('PeopleRegistry with the device camera', () => {
  it('makes an anonymous person per face, who engages after a second of facing the robot and is addressed', () => {
    const events: PeopleEvent[] = [];
    const reg = new PeopleRegistry({ onEvent: (e) => events.push(e) });
    run(reg, 0, 500, [face('face1', 0.02)]);
    expect(reg.person('anon-face1')?.engagement).toBe('DISENGAGED');
    expect(reg.addressee()).toBeUndefined();
    run(reg, 600, 2_000, [face('face1', 0.25)]);
    expect(reg.person('anon-face1')).toMatchObject({ anonymous: true, faceId: 'face1', engagement: 'ENGAGED' });
    expect(reg.addressee()?.id).toBe('anon-face1');
    const kinds = events.map((e) => (e.type === 'person.engagement' ? `${e.from}>${e.to}` : e.type));
    expect(kinds).toEqual(['face.appeared', 'person.appeared', 'UNKNOWN>DISENGAGED', 'DISENGAGED>ENGAGING', 'addressee.changed', 'ENGAGING>ENGAGED']);
    const engaged = events.find((e) => e.type === 'person.engagement' && e.to === 'ENGAGED')!;
    const engaging = events.find((e) => e.type === 'person.engagement' && e.to === 'ENGAGING')!;
    expect(engaged.atMs - engaging.atMs).toBeGreaterThanOrEqual(1_000);
  });

  it('keeps addressing the participant when someone larger walks into view, and never a face at the edge of the room', () => {
    const reg = new PeopleRegistry();
    run(reg, 0, 1_500, [face('face1', 0.2), face('face2', 0.05, 0.97)]);
    expect(reg.addressee()?.id).toBe('anon-face1');
    expect(reg.person('anon-face2')?.engagement).toBe('DISENGAGED');
    // The partner comes close, with a bigger face than the participant's: the robot does not switch.
    run(reg, 1_600, 4_000, [face('face1', 0.2, 0.4), face('face3', 0.3, 0.62)]);
    expect(reg.person('anon-face3')?.engagement).toBe('ENGAGED');
    expect(reg.addressee()?.id).toBe('anon-face1');
    // The participant leaves: the partner, engaged, is addressed.
    run(reg, 4_100, 7_000, [face('face3', 0.3, 0.62)]);
    expect(reg.person('anon-face1')).toBeUndefined();
    expect(reg.addressee()?.id).toBe('anon-face3');
  });

  it('lets a glance away pass (DISENGAGING), and lets go after two seconds', () => {
    const reg = new PeopleRegistry();
    run(reg, 0, 1_500, [face('face1', 0.25)]);
    run(reg, 1_600, 2_000, [face('face1', 0.02)]);
    expect(reg.person('anon-face1')?.engagement).toBe('DISENGAGING');
    expect(reg.addressee()?.id).toBe('anon-face1');
    run(reg, 2_100, 2_300, [face('face1', 0.25)]);
    expect(reg.person('anon-face1')?.engagement).toBe('ENGAGED');
    run(reg, 2_400, 5_000, [face('face1', 0.02)]);
    expect(reg.person('anon-face1')?.engagement).toBe('DISENGAGED');
    expect(reg.addressee()).toBeUndefined();
  });

  it('loses a face the tracker reports lost, or one not seen for 1.5 s, with its anonymous person', () => {
    const events: PeopleEvent[] = [];
    const reg = new PeopleRegistry({ onEvent: (e) => events.push(e) });
    run(reg, 0, 300, [face('face1', 0.25), face('face2', 0.25, 0.2)]);
    reg.observeFrame({ width: W, height: H, faces: [face('face2', 0.25, 0.2)], lost: ['face1'] }, 400);
    expect(reg.face('face1')).toBeUndefined();
    expect(events).toContainEqual({ type: 'person.lost', personId: 'anon-face1', atMs: 400 });
    reg.tick(2_000);
    expect(reg.people()).toEqual([]);
    expect(events.filter((e) => e.type === 'face.lost').map((e) => (e as { faceId: string }).faceId)).toEqual(['face1', 'face2']);
  });

  it('asks the identity port: someone known not to be the participant is never addressed, the participant takes over', () => {
    let participantFace = 'none';
    const identity: ParticipantIdentity = { isParticipant: (p) => (p.faceId === participantFace ? true : p.faceId === 'face9' ? false : undefined) };
    const reg = new PeopleRegistry({ identity });
    run(reg, 0, 1_500, [face('face9', 0.3), face('face1', 0.2, 0.3)]);
    expect(reg.addressee()?.id).toBe('anon-face1');
    run(reg, 1_600, 3_000, [face('face9', 0.3), face('face1', 0.2, 0.3), face('face2', 0.2, 0.7)]);
    expect(reg.addressee()?.id).toBe('anon-face1');
    participantFace = 'face2';
    reg.tick(3_100);
    expect(reg.addressee()?.id).toBe('anon-face2');
  });
});

describe('the camera as the identity port (cameraIdentity)', () => {
  it('addresses the face recognised as the enrolled participant, not a larger face recognised as someone else', () => {
    let latest: FrameResult | undefined;
    const reg = new PeopleRegistry({ identity: cameraIdentity(() => latest) });
    const frame = (t: number, grandchild: 'other' | 'unknown', participant: 'participant' | 'unknown') => {
      latest = {
        width: W, height: H, faces: [
          { ...face('face1', 0.35), identity: grandchild, expression: 'neutral', valence: 0, arousal: 0, confidence: 0.9 },
          { ...face('face2', 0.2, 0.3), identity: participant, expression: 'neutral', valence: 0, arousal: 0, confidence: 0.9 },
        ],
      } as FrameResult;
      reg.observeFrame(latest, t);
    };
    // Nobody recognised yet: the larger, nearer face is addressed.
    for (let t = 0; t <= 1_500; t += 100) frame(t, 'unknown', 'unknown');
    expect(reg.addressee()?.faceId).toBe('face1');
    // Recognition decides: the large face is someone else, the smaller one the participant.
    for (let t = 1_600; t <= 3_000; t += 100) frame(t, 'other', 'participant');
    expect(reg.addressee()?.faceId).toBe('face2');
  });
});

describe('PeopleRegistry with ROS4HRI persons', () => {
  it('takes persons, their face and voice ids and engagement from the robot, and drops its own anonymous persons', () => {
    const events: PeopleEvent[] = [];
    const reg = new PeopleRegistry({ onEvent: (e) => events.push(e) });
    reg.observeFaces([{ id: 'f1', box: { xmin: 0.4, ymin: 0.2, xmax: 0.6, ymax: 0.45 } }], 0);
    expect(reg.person('anon-f1')).toBeDefined();
    reg.observeVoices([{ id: 'v7', speaking: true }], 50);
    reg.observePersons([{ id: 'p1', faceId: 'f1', voiceId: 'v7', engagement: 'ENGAGED' }, { id: 'p2', engagement: 'DISENGAGED' }], 100);
    expect(reg.people().map((p) => p.id)).toEqual(['p1', 'p2']);
    expect(reg.person('p1')).toMatchObject({ anonymous: false, faceId: 'f1', voiceId: 'v7', engagement: 'ENGAGED' });
    expect(reg.addressee()?.id).toBe('p1');
    expect(events).toContainEqual({ type: 'person.lost', personId: 'anon-f1', atMs: 100 });
    // A new face does not make an anonymous person any more; a person who leaves the list is lost.
    reg.observeFaces([{ id: 'f1' }, { id: 'f2' }], 200);
    reg.observePersons([{ id: 'p2', engagement: 'ENGAGING' }], 300);
    expect(reg.people().map((p) => p.id)).toEqual(['p2']);
    expect(reg.addressee()?.id).toBe('p2');
    expect(reg.voice('v7')?.speaking).toBe(true);
  });
});

describe('chooseAddressee', () => {
  const p = (id: string, engagement: Person['engagement'], firstSeenMs = 0): Person => ({ id, anonymous: true, engagement, engagementSinceMs: 0, firstSeenMs, lastSeenMs: 0 });
  const none: ParticipantIdentity = { isParticipant: () => undefined };
  it('prefers the most engaged, then the nearest, then the longest there; never the disengaged', () => {
    expect(chooseAddressee([p('a', 'ENGAGING'), p('b', 'ENGAGED')], none, undefined, () => 0)?.id).toBe('b');
    expect(chooseAddressee([p('a', 'ENGAGED'), p('b', 'ENGAGED')], none, undefined, (x) => (x.id === 'a' ? 0.1 : 0.2))?.id).toBe('b');
    expect(chooseAddressee([p('a', 'ENGAGED', 5), p('b', 'ENGAGED', 1)], none, undefined, () => 0)?.id).toBe('b');
    expect(chooseAddressee([p('a', 'DISENGAGED')], none, undefined, () => 0)).toBeUndefined();
  });
});
