/** Public surface of `behaviors/dialogue/`: the language-model client over the model ports, versioned prompts, sentence streaming. */
export { CircuitBreaker, type BreakerOptions, type BreakerState } from './breaker.js';
export {
  LlmClient, resolveLlmSettings, type EmbeddingResult, type LanguageModel, type LanguageModels, type LlmCallRecord, type LlmClientOptions,
  type LlmConfig, type LlmOutcome, type LlmReply, type LlmSettings, type LlmSettingsResult, type ReplyRequest,
} from './llm-client.js';
export { ModelCallError, type ModelFault } from './model-call-error.js';
export { checkSentence, repeatsEarlier, type OutputProblem, type OutputRejection } from './output-check.js';
export { loadPrompt, parsePrompt, PromptError, promptsDir, renderPrompt, type Prompt } from './prompts.js';
export { SentenceSplitter, splitSentences } from './sentences.js';
export {
  empathicReply, empathyMessages, type ConversationLine, type EmpathicReplyOptions, type EmpathyReply, type EmpathyTurn, type ReplySource,
} from './empathy.js';
