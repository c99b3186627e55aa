// How pocketsphinx scores become probabilities. Fitted by `npm run bench:asr -- --calibrate`, which
// rewrites this file from the benchmark's calibration set (see perception/README.md, "Confidence").

/** Platt scaling of a word's lattice posterior p: P(word right) = σ(a·p + b). */
export const WORD_CALIBRATION = { a: 2.05, b: 0.376 };

/**
 * Logistic model of P(the constrained answer is what was said) over features of one utterance
 * (`answerFeatures` in pocketsphinx-transcriber.ts): σ(bias + Σ weight·feature).
 */
export const ANSWER_CALIBRATION = {
  bias: 2.38,
  weights: { gap: 0.159, margin: 0.052, agree: 1.044, extra: -0.466, sentence: -3.847 },
};

/** Where the figures above came from. */
export const CALIBRATION_SOURCE = 'npm run bench:asr -- --calibrate, 2026-12-02 (answer features as now: capped gap and margin, sentence flag): 122 answer passes (espeak-ng, voices en-us@130 en-us+f3@150 en-gb-x-rp@140 en-us+m3@160), 93 open-pass words (LibriVox, cards, espeak-ng)';
