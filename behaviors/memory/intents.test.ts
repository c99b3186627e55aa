import { describe, expect, it } from 'vitest';
import { asksToForget, asksWhatIsRemembered, detectMemoryIntent } from './intents.js';

describe('memory intents', () => {
  it.each([
    'What do you remember about me?', 'so what do you know about me', 'What have I told you?', 'Tell me what you remember.',
    'Do you remember anything about me?',
  ])('"%s" asks what is remembered', (t) => expect(asksWhatIsRemembered(t)).toBe(true));

  it.each([
    ['Forget that.', 'forget-last'], ['Please forget that', 'forget-last'], ['Could you forget what I just said?', 'forget-last'],
    ["I'd like you to forget that, please.", 'forget-last'], ["Please don't remember that.", 'forget-last'], ['Delete that.', 'forget-last'],
    ['Forget everything.', 'forget-all'], ['Please forget everything I told you', 'forget-all'], ['Can you erase everything you know about me?', 'forget-all'],
    ['Hearth, forget all about me.', 'forget-all'], ['Delete all my memories please', 'forget-all'], ['I want you to forget everything', 'forget-all'],
  ])('"%s" is %s', (t, kind) => expect(detectMemoryIntent(t)?.kind).toBe(kind));

  it('extracts the topic of "forget about …"', () => {
    expect(detectMemoryIntent('Please forget about my sister.')).toEqual({ kind: 'forget-about', topic: 'my sister' });
    expect(detectMemoryIntent('Can you forget what I told you about the hospital')).toEqual({ kind: 'forget-about', topic: 'the hospital' });
    expect(detectMemoryIntent('forget everything I said about my job please')).toEqual({ kind: 'forget-about', topic: 'my job' });
  });

  it.each([
    "I'll never forget that day.", "Don't forget my birthday is next week!", 'I always forget my keys.', 'I forgot to call my mum.',
    'Forget it, it does not matter, anyway the weather was nice.', 'My sister told me to forget about him.', 'I can never forget that.',
    'Do you remember the story about the dog?', 'I remember my grandmother well.', 'We had to delete all the photos from the old phone.',
    "Forget that, anyway I went to the shop and bought bread.",
  ])('"%s" is not a memory request', (t) => expect(detectMemoryIntent(t)).toBeUndefined());

  it('asksToForget covers all three scopes', () => {
    expect(['forget that', 'forget everything', 'forget about my job', 'hello'].map(asksToForget)).toEqual([true, true, true, false]);
  });
});
