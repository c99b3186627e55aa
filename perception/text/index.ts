/** Sentence encoders (the `SentenceEncoder` port of behaviors/): USE lite on the device, or an OpenAI-compatible endpoint. */
export { SentencePieceTokenizer, UNKNOWN_ID, type Vocabulary } from './sentencepiece.js';
export { UseLiteEncoder, USE_LITE_DIMENSION, USE_LITE_MAX_CHARS, USE_LITE_MAX_TOKENS, USE_LITE_MODEL, USE_LITE_VOCAB, type UseLiteOptions } from './use-lite-encoder.js';
export { EmbeddingsError, embeddingInput, OpenAiEmbeddingsEncoder, type EmbedFunction, type OpenAiEmbeddingsOptions } from './openai-embeddings-encoder.js';
export { firstCodePoints, wellFormed } from './truncate.js';
