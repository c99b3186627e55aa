import { describe, expect, it } from 'vitest';
import { SentenceSplitter, splitSentences } from './sentences.js';

describe('sentence splitting of streamed text', () => {
  it('emits each sentence once the next one starts, and the rest on flush', () => {
    const s = new SentenceSplitter();
    expect(s.push('It sounds like')).toEqual([]);
    expect(s.push(' a hard week.')).toEqual([]); // wait for the space: the next chunk could be "5" (a decimal)
    expect(s.push(' What')).toEqual(['It sounds like a hard week.']);
    expect(s.push(' helped most?')).toEqual([]);
    expect(s.flush()).toEqual(['What helped most?']);
    expect(s.flush()).toEqual([]);
  });

  it('does not split at abbreviations, initials or decimals', () => {
    expect(splitSentences('I saw Dr. Patel at 3.30 today. J. R. came too! Was it fun?')).toEqual([
      'I saw Dr. Patel at 3.30 today.', 'J. R. came too!', 'Was it fun?',
    ]);
  });

  it('keeps closing quotes and ellipses with their sentence', () => {
    expect(splitSentences('She said "I\'m home." Then… nothing. Really?!  Yes')).toEqual([
      'She said "I\'m home."', 'Then…', 'nothing.', 'Really?!', 'Yes',
    ]);
  });

  it('treats a blank line as a sentence end, and ignores empty fragments', () => {
    expect(splitSentences('First thought\n\nSecond thought. \n\n . ')).toEqual(['First thought', 'Second thought.']);
  });

  it('gives the same result however the text is chunked', () => {
    const text = 'That sounds lonely. Rosie was with you for years, wasn’t she? What do you remember first?';
    for (const size of [1, 2, 3, 7, 50]) {
      const s = new SentenceSplitter();
      const out: string[] = [];
      for (let i = 0; i < text.length; i += size) out.push(...s.push(text.slice(i, i + size)));
      out.push(...s.flush());
      expect(out).toEqual(splitSentences(text));
    }
    expect(splitSentences(text)).toHaveLength(3);
  });
});
