import vader from 'vader-sentiment';

/** Valence −1..1 of what was said, with a confidence 0..1. */
export interface TextValence {
  valence: number;
  confidence: number;
  /** VADER's share of words that carry sentiment (1 − neutral share). */
  sentimentShare: number;
}

/** The most confidence text alone gets: VADER is a lexicon; sarcasm and context defeat it. */
const MAX_CONFIDENCE = 0.7;

/**
 * Valence of a transcript by VADER (Hutto & Gilbert 2014; handles negation and intensifiers).
 * Confidence grows with the words carrying sentiment and the length of the text, and is scaled by
 * how sure the speech recogniser was. Undefined for empty text.
 */
export function textValence(text: string, asrConfidence = 1): TextValence | undefined {
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  if (words === 0) return undefined;
  const s = vader.SentimentIntensityAnalyzer.polarity_scores(text);
  const sentimentShare = 1 - s.neu;
  // A text with no sentiment words is evidence of neutral valence, but weak evidence.
  const evidence = Math.min(1, 0.25 + 1.5 * sentimentShare) * Math.min(1, words / 4);
  const confidence = MAX_CONFIDENCE * evidence * Math.max(0, Math.min(1, asrConfidence));
  return { valence: s.compound, confidence, sentimentShare };
}
