/**
 * Pronunciations from the recogniser's own dictionary (CMUdict as packaged with pocketsphinx-en-us):
 * a word's phones, for behaviors' `Pronounce` port (the sound-alike crisis check). Loaded on the first
 * lookup (about 0.2 s and 10 MB for 126,000 words), first pronunciation of each word only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POCKETSPHINX_EN_US } from './sphinx-decoder.js';

/** Phones of a lower-case word, or undefined when the dictionary lacks it (or is not installed). */
export function sphinxPronouncer(dict = join(POCKETSPHINX_EN_US, 'cmudict-en-us.dict')): (word: string) => readonly string[] | undefined {
  let words: Map<string, string> | null = null;
  return (word) => {
    if (!words) {
      words = new Map();
      if (existsSync(dict)) {
        for (const line of readFileSync(dict, 'utf8').split('\n')) {
          const i = line.indexOf(' ');
          if (i <= 0) continue;
          const w = line.slice(0, i);
          // Variants are "word(2)"; the first pronunciation is kept.
          if (!w.endsWith(')') && !words.has(w)) words.set(w, line.slice(i + 1).trim());
        }
      }
    }
    const phones = words.get(word.toLowerCase());
    return phones ? phones.split(' ') : undefined;
  };
}
