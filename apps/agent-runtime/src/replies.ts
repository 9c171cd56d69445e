import type { TurnResult } from '@dealdome/ai';
import { Decimal, escapeHtml } from '@dealdome/domain';
import type { AiBudget } from '@dealdome/domain';

/**
 * The plain replies the runtime writes itself: every turn ends in a message, and
 * when the agents cannot answer it says why, honestly, and what still works.
 * Telegram HTML, like the agents' replies.
 */

const COMMANDS_STILL_WORK = 'Commands such as /pnl, /remember, /memories and /usage still work; /help lists them all.';

export const offlineReply = () =>
  `The agents are offline right now: no Anthropic API key is configured, so nobody can answer this in words. ${COMMANDS_STILL_WORK}`;

export const budgetReply = (budget: AiBudget) =>
  `You have used this month's AI budget ($${escapeHtml(usd(budget.spentUsd))} of $${escapeHtml(usd(budget.limitUsd ?? '0'))}), ` +
  `so the agents will not answer you again until next month or until an admin raises the setting ai.monthly_budget_usd. ${COMMANDS_STILL_WORK}`;

export const cannotStartReply = (reason: string) => `I could not answer: ${escapeHtml(reason)} ${COMMANDS_STILL_WORK}`;

export const internalFailureReply = () =>
  `Something went wrong on our side and I could not answer this, even after retrying. Please try again later. ${COMMANDS_STILL_WORK}`;

const usd = (amount: string) => new Decimal(amount).toFixed(2);

const note = (text: string) => `<i>${text}</i>`;

/**
 * What the person reads when the turn did not complete. `text` is what the model
 * wrote, if anything (already made valid Telegram HTML).
 */
export function outcomeReply(result: TurnResult, text: string, deadlineMs: number): string {
  switch (result.outcome) {
    case 'unavailable': {
      const wait = result.retryAfterMs ? ` Anthropic asked to wait about ${Math.max(1, Math.ceil(result.retryAfterMs / 60_000))} min.` : '';
      return `AI unavailable right now: Anthropic's service is overloaded or unreachable, and retrying did not help.${wait} Please try again in a few minutes. ${COMMANDS_STILL_WORK}`;
    }
    case 'spend_limit':
      return `AI unavailable: the team's Anthropic account has reached its spend limit, so no agent can answer until an admin raises it. ${COMMANDS_STILL_WORK}`;
    case 'failed': {
      const what = [result.error?.status, result.error?.type].filter((p) => p !== undefined).join(' ');
      return `AI unavailable: Anthropic refused the request${what ? ` (${escapeHtml(what)})` : ''}, and retrying cannot fix that; an admin needs to look at it. ${COMMANDS_STILL_WORK}`;
    }
    case 'deadline':
      return `That took longer than the ${Math.round(deadlineMs / 1000)} s a turn may take, so I stopped without an answer. Please try again, perhaps with a narrower question.`;
    case 'refused':
      return text.trim() ? text : 'I cannot help with that request.';
    case 'truncated':
      return text.trim()
        ? `${text}\n\n${note('(My answer was cut off here because it grew too long. Ask me to continue.)')}`
        : 'My answer grew too long and was cut off before it said anything useful. Please ask for less at once.';
    case 'tool_limit':
      return `${text.trim() ? `${text}\n\n` : ''}${note('(I stopped looking things up: this needed more steps than one answer may take. Ask a narrower question, or ask me to continue.)')}`;
    case 'completed':
      return text.trim() ? text : 'I have nothing to add to that.';
    case 'aborted':
      throw new Error('an aborted turn has no reply');
  }
}
