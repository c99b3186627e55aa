/** Public surface of `data/language/`: the shared text layer (normal form, tokens, negation, lexicons). */
export { hasPhrase, normalise, tokenise, words, type Token } from './normalise.js';
export { negatedAt, NEGATORS } from './negation.js';
export {
  CONTENT_STOPWORDS, contentWords, DETAIL_STOPWORDS, detectEmotions, detectThemes, EMOTION_CUES, FEELING_CUES, namesFound, stem, THEME_CUES,
  type FeelingCues,
} from './lexicon.js';
