import { describe, expect, it } from 'vitest';
import { EXPRESSIVE_ACTS, expressionFor, moodOf } from './expression.js';

describe('robot expression', () => {
  it('reads mood from valence and arousal, ignoring unsure estimates', () => {
    expect(moodOf(undefined)).toBe('unknown');
    expect(moodOf({ valence: null, arousal: 0.5 })).toBe('unknown');
    expect(moodOf({ valence: -0.7, arousal: -0.2 })).toBe('low');
    expect(moodOf({ valence: -0.6, arousal: 0.7 })).toBe('distressed');
    expect(moodOf({ valence: 0.6, arousal: 0.6 })).toBe('elated');
    expect(moodOf({ valence: 0.5, arousal: 0 })).toBe('content');
    expect(moodOf({ valence: 0.1, arousal: 0.9 })).toBe('neutral');
    expect(moodOf({ valence: -0.9, arousal: -0.5, confidence: 0.2 })).toBe('unknown');
  });

  it('greets with a wave, and gently when the participant is low', () => {
    expect(expressionFor('greeting')).toMatchObject({ expression: 'happy', gesture: 'wave' });
    expect(expressionFor('greeting', { valence: -0.6, arousal: -0.3 })).toMatchObject({ expression: 'calm', gesture: 'small_wave', mood: 'low' });
  });

  it('mirrors sadness softly in empathy and grows with how sad, but stays capped', () => {
    const mild = expressionFor('empathy', { valence: -0.3, arousal: 0 });
    const deep = expressionFor('empathy', { valence: -1, arousal: -0.5 });
    expect(mild).toMatchObject({ expression: 'sad', gesture: 'slow_nod' });
    expect(deep.intensity).toBeGreaterThan(mild.intensity);
    expect(deep.intensity).toBeLessThanOrEqual(0.6);
  });

  it('meets distress with calm concern, never with anger or cheer', () => {
    const c = expressionFor('empathy', { valence: -0.8, arousal: 0.9 });
    expect(c).toMatchObject({ expression: 'concerned', gesture: 'lean_in', mood: 'distressed' });
  });

  it('shares joy', () => {
    expect(expressionFor('checkin.ack', { valence: 0.8, arousal: 0.7 })).toMatchObject({ expression: 'happy', gesture: 'nod', mood: 'elated' });
  });

  it('is calm and still for safety lines whatever the mood', () => {
    for (const affect of [undefined, { valence: 0.9, arousal: 0.9 }, { valence: -0.9, arousal: 0.9 }]) {
      expect(expressionFor('safe', affect)).toMatchObject({ expression: 'calm', gesture: 'still' });
    }
  });

  it('covers every speech act and is never cheerful at a low or distressed participant', () => {
    // Every act of the SpeechAct union (ports.ts) has a rule: greeting … safe, 20 in all.
    expect(EXPRESSIVE_ACTS).toHaveLength(20);
    for (const act of EXPRESSIVE_ACTS) {
      for (const affect of [{ valence: -0.7, arousal: -0.4 }, { valence: -0.7, arousal: 0.8 }]) {
        const c = expressionFor(act, affect);
        expect(c.expression, act).not.toBe('happy');
        expect(['wave'], act).not.toContain(c.gesture);
        expect(c.intensity).toBeGreaterThanOrEqual(0);
        expect(c.intensity).toBeLessThanOrEqual(1);
      }
    }
  });

  it('rejects an unknown act by name', () => {
    expect(() => expressionFor('dance' as never)).toThrow(/unknown speech act "dance"/);
  });
});
