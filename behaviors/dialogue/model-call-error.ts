/** What kind of fault a model service had: an HTTP error status, no connection, or data Hearth cannot use. */
export type ModelFault = 'http' | 'network' | 'malformed';

/**
 * A `ChatModel` or `EmbeddingModel` call failed. Adapters throw it so that `LlmClient` can decide, without
 * knowing the adapter's library, whether a retry may help (a 5xx or 429 may pass; a 401 will not).
 */
export class ModelCallError extends Error {
  override readonly name = 'ModelCallError';
  /** The HTTP status, for `http` faults. */
  readonly status: number | undefined;
  constructor(readonly fault: ModelFault, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
  }
}
