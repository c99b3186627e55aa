// Types for the parts of `vader-sentiment` (a webpack CommonJS bundle without its own types) Hearth uses.
declare module 'vader-sentiment' {
  /** VADER polarity scores: proportions of negative, neutral and positive text, and a compound −1..1. */
  export interface PolarityScores {
    neg: number;
    neu: number;
    pos: number;
    compound: number;
  }
  const vader: { SentimentIntensityAnalyzer: { polarity_scores(text: string): PolarityScores } };
  export default vader;
}
