import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../package-root.js';
import {
  contentWords, detectEmotions, detectThemes, EMOTION_CUES, FEELING_CUES, hasPhrase, negatedAt, normalise, THEME_CUES, tokenise, words,
} from './index.js';

describe('the normal form', () => {
  it('writes every spelling of a contraction one way: "don\'t", "don’t" and "dont" are "do not"', () => {
    for (const t of ["I don't know", 'I don’t know', 'I dont know', 'I do not know', 'i DON\u2018T know']) expect(normalise(t)).toBe('i do not know');
    expect(normalise("I can't, I cannot")).toBe('i can not i can not');
    expect(normalise("won't, ain't, isn't, didn't")).toBe('will not am not is not did not');
    expect(normalise("I'm sure, im sure, you're, we'll, they've, I'd")).toBe('i am sure i am sure you are we will they have i would');
    expect(normalise("let's go, gonna, wanna")).toBe('let us go going to want to');
  });

  it('reads "\'s" after a pronoun as "is" and any other "\'s" as a possessive', () => {
    expect(normalise("It's my mum's garden, and that's that")).toBe('it is my mums garden and that is that');
  });

  it('keeps letters and digits of any script, drops punctuation, one space between words', () => {
    expect(normalise('  Café —  São Paulo, 4/5!  ')).toBe('café são paulo 4 5');
    expect(normalise('“Quoted” text… and   tabs\there')).toBe('quoted text and tabs here');
    expect(normalise('?!')).toBe('');
    expect(words('?!')).toEqual([]);
    expect(words("Don't go")).toEqual(['do', 'not', 'go']);
  });

  it('whole-word phrases match in the normal form only', () => {
    expect(hasPhrase("I just can’t wait!", "can't wait")).toBe(true);
    expect(hasPhrase('the scanner', 'can')).toBe(false);
    expect(hasPhrase('anything', '')).toBe(false);
  });
});

describe('the tokeniser', () => {
  it('gives the words of the normal form with the span of the original word each came from', () => {
    const text = "Don't forget my sister's garden.";
    const tokens = tokenise(text);
    expect(tokens.map((t) => t.word)).toEqual(['do', 'not', 'forget', 'my', 'sisters', 'garden']);
    expect(tokens.map((t) => text.slice(t.start, t.end))).toEqual(["Don't", "Don't", 'forget', 'my', "sister's", 'garden']);
  });

  it('agrees with the normal form on every text of the safeguard corpus', () => {
    const dir = join(packageRoot(), 'behaviors', 'safeguards', 'corpus');
    const texts: string[] = [];
    for (const part of ['train', 'test']) {
      for (const f of readdirSync(join(dir, part)).filter((x) => x.endsWith('.jsonl'))) {
        for (const line of readFileSync(join(dir, part, f), 'utf8').split('\n')) {
          const text = line.trim() ? (JSON.parse(line) as { text?: unknown }).text : undefined;
          if (typeof text === 'string') texts.push(text);
        }
      }
    }
    expect(texts.length).toBeGreaterThan(1000);
    const disagree = texts.filter((t) => tokenise(t).map((x) => x.word).join(' ') !== normalise(t));
    expect(disagree).toEqual([]);
  });
});

describe('negation', () => {
  const at = (norm: string, word: string) => norm.indexOf(word);

  it('finds a negator within the window before a word, whatever the contraction', () => {
    for (const t of ["I'm not happy", "I don't feel happy", 'I dont feel happy', "I didn't ever feel happy", 'never really happy', 'nobody is happy']) {
      const n = normalise(t);
      expect(negatedAt(n, at(n, 'happy'))).toBe(true);
    }
    const n = normalise('I am so very happy');
    expect(negatedAt(n, at(n, 'happy'))).toBe(false);
  });

  it('looks back only `window` words and only for the given negators', () => {
    const n = normalise('not that I would say I was ever happy');
    expect(negatedAt(n, at(n, 'happy'), 4)).toBe(false);
    expect(negatedAt(n, at(n, 'happy'), 9)).toBe(true);
    const w = normalise('a day without joy');
    expect(negatedAt(w, at(w, 'joy'))).toBe(false);
    expect(negatedAt(w, at(w, 'joy'), 3, new Set(['without']))).toBe(true);
  });
});

describe('lexicons', () => {
  it('are read in the normal form, so a cue matches every spelling of it', () => {
    for (const table of [THEME_CUES, EMOTION_CUES]) {
      for (const cues of Object.values(table)) for (const c of cues) expect(c).toBe(normalise(c));
    }
    for (const f of FEELING_CUES) for (const c of f.cues) expect(c).toBe(normalise(c));
    expect(detectEmotions("I can’t wait for Saturday")).toContain('excitement');
    expect(detectEmotions('I cannot wait for Saturday')).toContain('excitement');
    expect(detectEmotions("I couldn't believe it")).toContain('shock');
    expect(detectEmotions('I couldnt believe it')).toContain('shock');
  });

  it('no longer hears "I\'ll" as "ill" or "won\'t" as "won"', () => {
    expect(detectThemes("I'll see you next week")).not.toContain('illness');
    expect(detectThemes('I have been ill all week')).toContain('illness');
    expect(contentWords("I won't, I couldn't, I'll")).toEqual([]);
  });

  it('content words are stemmed, stopwords and contractions removed', () => {
    expect(contentWords("We walked the dogs; I'm walking again and she walks.")).toEqual(['walk', 'dog', 'walk', 'walk']);
  });
});
