import { createUser } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import type { FakeAnthropic, FakeTelegram, RecordedAnthropicRequest, TelegramCall } from '@dealdome/testkit';

export const BOT_TOKEN = '4242:fault-suite';

/** bot-gateway long-polling the fake Telegram; the Anthropic key only tells it the agents are on. */
export const gatewayEnv = (telegram: FakeTelegram, extra: Record<string, string> = {}) => ({
  TELEGRAM_BOT_TOKEN: BOT_TOKEN,
  TELEGRAM_API_BASE_URL: telegram.url,
  TELEGRAM_POLL_TIMEOUT_SECONDS: '1',
  ANTHROPIC_API_KEY: 'sk-ant-faults',
  ...extra,
});

/** agent-runtime asking the fake Anthropic. */
export const runtimeEnv = (anthropic: FakeAnthropic, extra: Record<string, string> = {}) => ({
  ANTHROPIC_API_KEY: 'sk-ant-faults',
  ANTHROPIC_BASE_URL: anthropic.url,
  ...extra,
});

/** A team member who writes to the bot from a private chat whose id is their Telegram id. */
export async function member(db: Database, telegramId: number): Promise<number> {
  await createUser(db, { email: `member${telegramId}@faults.test`, displayName: `Member ${telegramId}`, telegramUserId: String(telegramId) });
  return telegramId;
}

/** The texts of the newest user message of a request: what that turn answers. */
export function askedIn(request: RecordedAnthropicRequest): string[] {
  const last = request.messages?.at(-1) as { content: string | { type: string; text?: string }[] } | undefined;
  if (!last) return [];
  if (typeof last.content === 'string') return [last.content];
  return last.content.filter((b) => b.type === 'text').map((b) => b.text ?? '');
}

/** Claude answers every turn by naming the messages it answers, so a reply at Telegram says which questions it covers. */
export function answerByEcho(anthropic: FakeAnthropic): void {
  anthropic.respondWith((request) => ({ content: `answering: ${askedIn(request).join(' | ')}` }));
}

/** The bot's messages that Telegram accepted in one chat, oldest first. */
export function repliesIn(telegram: FakeTelegram, chatId: number): string[] {
  return telegram.sent
    .filter((c: TelegramCall) => c.method === 'sendMessage' && c.ok && String(c.chatId) === String(chatId))
    .map((c) => String(c.params.text));
}

/**
 * How many of the chat's replies each question appears in, and whether the replies
 * covering them came in the order they were asked.
 */
export function coverage(replies: readonly string[], questions: readonly string[]): { counts: Record<string, number>; inOrder: boolean } {
  const counts = Object.fromEntries(questions.map((q) => [q, replies.filter((r) => r.includes(q)).length]));
  const firstReply = questions.map((q) => replies.findIndex((r) => r.includes(q)));
  const inOrder = firstReply.every((index, i) => i === 0 || index >= firstReply[i - 1]!);
  return { counts, inOrder };
}
