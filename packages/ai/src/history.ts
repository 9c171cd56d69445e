import type Anthropic from '@anthropic-ai/sdk';

/**
 * Token estimate used for budgets: ceil(characters / 4). Close for English prose,
 * low for code, numbers-heavy text and non-Latin scripts, so keep budgets well
 * under the model's context window. The API's usage figures are the truth; this
 * only decides what to send.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** A message's estimate: its text, or the JSON of its content blocks (tool inputs and results included). */
export function estimateMessageTokens(message: Anthropic.MessageParam): number {
  return estimateTokens(typeof message.content === 'string' ? message.content : JSON.stringify(message.content));
}

/**
 * Drops the oldest turns until the history fits `budgetTokens`.
 *
 * A turn starts at a user message that is not a tool_result message and runs up to
 * the next one, so a tool_use is never separated from its tool_result and the
 * result always starts with a user message, as the API requires. Messages before
 * the first such user message cannot start a valid request and are dropped. The
 * newest turn (the newest user message and whatever follows it) is always kept,
 * even when it alone exceeds the budget: the caller can check with `estimate`.
 */
export function trimHistory(
  messages: readonly Anthropic.MessageParam[],
  budgetTokens: number,
  estimate: (message: Anthropic.MessageParam) => number = estimateMessageTokens,
): Anthropic.MessageParam[] {
  const starts = messages.flatMap((message, index) => (startsTurn(message) ? [index] : []));
  if (starts.length === 0) return [];
  const turns = starts.map((start, i) => messages.slice(start, starts[i + 1] ?? messages.length));
  const sizes = turns.map((turn) => turn.reduce((sum, message) => sum + estimate(message), 0));
  let total = sizes.reduce((sum, size) => sum + size, 0);
  let first = 0;
  while (first < turns.length - 1 && total > budgetTokens) {
    total -= sizes[first] as number;
    first += 1;
  }
  return turns.slice(first).flat();
}

function startsTurn(message: Anthropic.MessageParam): boolean {
  if (message.role !== 'user') return false;
  return typeof message.content === 'string' || !message.content.some((block) => block.type === 'tool_result');
}
