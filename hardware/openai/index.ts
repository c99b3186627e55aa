/** OpenAI-compatible services: the `ChatModel`, `EmbeddingModel` and `SentenceEncoder` ports of behaviors/ and perception's `Transcriber`. */
export { OpenAiChatModel, OpenAiEmbeddingModel, openAiModels, OpenAiTranscriber, type OpenAiModelOptions, type OpenAiTranscriberOptions } from './openai-models.js';
export { EmbeddingsError, embeddingInput, OpenAiEmbeddingsEncoder, type EmbedFunction, type OpenAiEmbeddingsOptions } from './openai-embeddings-encoder.js';
