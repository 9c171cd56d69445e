import type Anthropic from '@anthropic-ai/sdk';
import type { TurnMessage } from '@dealdome/domain';
import { trimHistory } from '../history';

/**
 * Stored messages as the Messages API reads them. Tool results are stored with the
 * role `tool` and sent as the user messages they were; several unanswered user
 * messages become one user message, in arrival order, since one turn answers them
 * together. Neighbours of the same role are merged where the API would otherwise
 * see two in a row (a command answered without a reply, say), but never around a
 * tool_use or tool_result, whose pairing must stay as it was.
 */
export function toModelMessages(
  history: readonly TurnMessage[],
  unanswered: readonly TurnMessage[],
  historyTokenBudget: number,
): Anthropic.MessageParam[] {
  const merged: Anthropic.MessageParam[] = [];
  for (const message of [...history, ...unanswered]) {
    const content = message.content as unknown as Anthropic.ContentBlockParam[];
    if (content.length === 0) continue;
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const previous = merged.at(-1);
    if (previous && previous.role === role && Array.isArray(previous.content) && !pairs(previous.content) && !pairs(content)) {
      merged[merged.length - 1] = { role, content: [...previous.content, ...content] };
    } else {
      merged.push({ role, content: [...content] });
    }
  }
  return trimHistory(merged, historyTokenBudget);
}

function pairs(content: readonly Anthropic.ContentBlockParam[]): boolean {
  return content.some((block) => block.type === 'tool_use' || block.type === 'tool_result');
}
