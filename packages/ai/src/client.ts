import Anthropic from '@anthropic-ai/sdk';
import type { ClientOptions } from '@anthropic-ai/sdk';

export interface AnthropicClientConfig {
  /** Never logged; the SDK sends it as x-api-key. */
  apiKey: string;
  /** ANTHROPIC_BASE_URL from the app's config; when absent the SDK reads ANTHROPIC_BASE_URL itself, then uses the public API. */
  baseURL?: string;
  /** Ceiling for one HTTP request; runTurn also bounds each call by the turn's deadline. */
  timeoutMs?: number;
  /** Where the SDK's own log lines go (a pino logger fits); the SDK writes to the console otherwise. */
  logger?: ClientOptions['logger'];
}

/**
 * The Anthropic client every agent uses. The SDK's own retries are off
 * (`maxRetries: 0`): runTurn retries with its own policy, within the turn's deadline.
 */
export function createAnthropicClient(config: AnthropicClientConfig): Anthropic {
  return new Anthropic({
    apiKey: config.apiKey,
    maxRetries: 0,
    timeout: config.timeoutMs ?? 120_000,
    ...(config.baseURL ? { baseURL: config.baseURL } : {}),
    ...(config.logger ? { logger: config.logger } : {}),
  });
}
