export { createAnthropicClient } from './client';
export type { AnthropicClientConfig } from './client';
export { defineTool, createToolRegistry } from './tools';
export type { Tool, ToolCallMeta, ToolDefinition, ToolExecution, ToolRegistry, ToolRegistryOptions } from './tools';
export { runTurn } from './loop';
export type { CallRecord, RunTurnOptions, ToolCallRecord, TurnError, TurnEvent, TurnOutcome, TurnResult } from './loop';
export { buildSystemBlocks } from './system';
export { estimateMessageTokens, estimateTokens, trimHistory } from './history';
export { ANTHROPIC_PRICES, costUsd, priceFor, sumCosts, usageFromApi } from './pricing';
export { DEFAULT_MEMORY_REVIEW_MODEL, reviewMemoryContradictions } from './memory-review';
export type { MemoryReviewAnswer, MemoryReviewRequest } from './memory-review';
export type { ModelPrice, TokenUsage } from './pricing';
export { DEFAULT_RETRY_POLICY, retryAfterMs, retryDelayMs } from './retry';
export type { RetryPolicy } from './retry';
export { rejectBlankTexts } from './embeddings/provider';
export type { EmbedOptions, EmbeddingProvider } from './embeddings/provider';
export {
  OPENAI_EMBEDDING_LIMITS,
  OpenAIEmbeddingProvider,
  batchForEmbedding,
  truncateForEmbedding,
} from './embeddings/openai';
export type { OpenAIEmbeddingProviderOptions } from './embeddings/openai';
export { LocalHashingEmbeddingProvider } from './embeddings/local-hashing';
export { selectEmbeddingProvider } from './embeddings/select';
export type { EmbeddingLog, EmbeddingSettings } from './embeddings/select';
export type { LocalHashingEmbeddingProviderOptions } from './embeddings/local-hashing';
export * from './agents';
