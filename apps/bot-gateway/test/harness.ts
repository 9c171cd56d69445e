import { Queue } from 'bullmq';
import { Api } from 'node-telegram-bot-api';
import type { InlineKeyboardMarkup } from 'node-telegram-bot-api';
import { createLogger, parseEnv } from '@dealdome/config';
import type { StartedService } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { useTestDatabase } from '@dealdome/db/testing';
import { createUser } from '@dealdome/domain';
import type { User } from '@dealdome/domain';
import { FakeTelegram, parseTelegramHtml, useTestRedis } from '@dealdome/testkit';
import { envSchema } from '../src/env';
import { startBotGateway } from '../src/service';

export const TOKEN = '4242:gateway-test';

/**
 * The gateway in this process against a real database, real Redis and the fake
 * Telegram driven through the real client. Replies are read where the gateway
 * leaves them: stored assistant messages and deliver-message jobs in BullMQ.
 */
export function useGateway() {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const running: { service: StartedService; telegram: FakeTelegram }[] = [];

  afterEach(async () => {
    for (const { service, telegram } of running.splice(0)) {
      await service.stop();
      await telegram.close();
    }
    // Each test talks to a new fake whose update ids start at 1 again, like a new bot.
    await database.handle.db.deleteFrom('telegram_updates').execute();
  });

  const queue = (name: 'telegram-outbound' | 'agent-turns' | 'embeddings') =>
    new Queue(name, { connection: redis.redis, prefix: redis.prefix });

  return {
    get db(): Database {
      return database.handle.db;
    },
    async start(env: Record<string, string> = {}, telegramOptions: { strictHtml?: boolean } = { strictHtml: true }) {
      const telegram = await FakeTelegram.start({ token: TOKEN, bot: { username: 'dealdome_bot' }, ...telegramOptions });
      const parsed = parseEnv(
        'bot-gateway',
        envSchema,
        {
          DATABASE_URL: database.url,
          REDIS_URL: redis.url,
          QUEUE_PREFIX: redis.prefix,
          HTTP_HOST: '127.0.0.1',
          BOT_GATEWAY_PORT: '0',
          SHUTDOWN_TIMEOUT_MS: '3000',
          TELEGRAM_BOT_TOKEN: TOKEN,
          TELEGRAM_API_BASE_URL: telegram.url,
          TELEGRAM_POLL_TIMEOUT_SECONDS: '1',
          ...env,
        },
      );
      const service = await startBotGateway(parsed, createLogger('bot-gateway', { level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
      running.push({ service, telegram });
      return { service, telegram };
    },
    /** Every job of the queue, whatever its state, oldest first. */
    async jobs(name: 'telegram-outbound' | 'agent-turns' | 'embeddings') {
      const q = queue(name);
      try {
        const jobs = await q.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed']);
        return jobs.sort((a, b) => a.timestamp - b.timestamp);
      } finally {
        await q.close();
      }
    },
    /** Removes a job, as if its enqueue had never reached Redis. */
    async removeJob(name: 'telegram-outbound' | 'agent-turns' | 'embeddings', jobId: string) {
      const q = queue(name);
      try {
        await q.remove(jobId);
      } finally {
        await q.close();
      }
    },
    /** A user who has no Telegram account linked yet. */
    async user(email: string, displayName: string): Promise<User> {
      return (await createUser(database.handle.db, { email, displayName })).user;
    },
    async member(telegramUserId: number, email = `member${telegramUserId}@dealdome.test`, displayName = `Member ${telegramUserId}`): Promise<User> {
      return (await createUser(database.handle.db, { email, displayName, telegramUserId: String(telegramUserId) })).user;
    },
  };
}

export interface StoredMessage {
  id: string;
  role: string;
  text: string;
  replyMarkup: unknown;
  answeredAt: Date | null;
  conversationId: string;
}

/** The chat's messages in every conversation, in the order they were stored. */
export async function chatMessages(db: Database, chatId: number, role?: 'user' | 'assistant'): Promise<StoredMessage[]> {
  let query = db
    .selectFrom('messages as m')
    .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
    .select(['m.id', 'm.role', 'm.content', 'm.reply_markup', 'm.answered_at', 'm.conversation_id'])
    .where('c.chat_id', '=', String(chatId))
    .orderBy('m.created_at')
    .orderBy('m.id');
  if (role) query = query.where('m.role', '=', role);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    role: r.role,
    text: (r.content as { text?: string }[]).map((b) => b.text ?? '').join('\n'),
    replyMarkup: r.reply_markup,
    answeredAt: r.answered_at,
    conversationId: r.conversation_id,
  }));
}

export async function eventually<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined | false;
  while (Date.now() < deadline) {
    last = await probe();
    if (last !== undefined && last !== false) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The chat's replies once there are `count` of them; each must be HTML Telegram accepts. */
export async function replies(db: Database, chatId: number, count: number): Promise<StoredMessage[]> {
  const found = await eventually(async () => {
    const stored = await chatMessages(db, chatId, 'assistant');
    return stored.length >= count ? stored : undefined;
  }, `${count} replies in chat ${chatId}`);
  for (const reply of found) parseTelegramHtml(reply.text, { strictAmpersand: true });
  return found;
}

/** Waits until the update is recorded and processed. */
export function processed(db: Database, updateId: number): Promise<true> {
  return eventually(async () => {
    const row = await db.selectFrom('telegram_updates').select('processed_at').where('update_id', '=', String(updateId)).executeTakeFirst();
    return row?.processed_at ? true : undefined;
  }, `update ${updateId} to be processed`);
}

/** Puts a bot message into the fake's chat as the outbound worker would deliver it, so its buttons can be pressed. */
export function deliverAsBot(telegram: FakeTelegram, chatId: number, message: { text: string; replyMarkup: unknown }) {
  const api = new Api(TOKEN, { apiRoot: telegram.url });
  return api.sendMessage({ chat_id: chatId, text: message.text, parse_mode: 'HTML', reply_markup: message.replyMarkup as InlineKeyboardMarkup });
}

