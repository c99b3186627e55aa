// How pocketsphinx scores become probabilities. Fitted by `npm run bench:asr -- --calibrate`, which
// rewrites this file from the benchmark's calibration set (see perception/README.md, "Confidence").

/** Platt scaling of a word's lattice posterior p: P(word right) = σ(a·p + b). */
export const WORD_CALIBRATION = { a: 4, b: -2 };

/**
 * Logistic model of P(the constrained answer is what was said) over features of one utterance
 * (`answerFeatures` in pocketsphinx-transcriber.ts): σ(bias + Σ weight·feature).
 */
export const ANSWER_CALIBRATION = {
  bias: -1,
  weights: { gap: 0.05, margin: 0.05, agree: 3, extra: -0.8, posterior: 0 },
};

/** Where the figures above came from. */
export const CALIBRATION_SOURCE = 'hand-set starting values (not yet fitted)';
