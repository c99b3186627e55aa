/** The on-device sentence encoder (USE lite, for the `SentenceEncoder` port of behaviors/); the OpenAI-compatible one is in hardware/openai/. */
export { SentencePieceTokenizer, UNKNOWN_ID, type Vocabulary } from './sentencepiece.js';
export { UseLiteEncoder, USE_LITE_DIMENSION, USE_LITE_MAX_CHARS, USE_LITE_MAX_TOKENS, USE_LITE_MODEL, USE_LITE_VOCAB, type UseLiteOptions } from './use-lite-encoder.js';
export { firstCodePoints, wellFormed } from './truncate.js';
