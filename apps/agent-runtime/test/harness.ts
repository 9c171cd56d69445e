import { randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import { createAnthropicClient } from '@dealdome/ai';
import { createLogger } from '@dealdome/config';
import type { Database, Json } from '@dealdome/db';
import { Producer, jobIds } from '@dealdome/queues';
import type { ManagedWorker } from '@dealdome/queues';
import { FakeAnthropic, useTestDatabase, useTestRedis } from '@dealdome/testkit';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { createTurnWorker } from '../src/turns';
import type { TurnSettings } from '../src/turns';

export const logger = createLogger('agent-runtime-test', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/**
 * One test file's world: a cloned database, an isolated Redis prefix, the fake
 * Anthropic API on loopback and run-turn workers started in this process, driven
 * through the real SDK and real BullMQ.
 */
export function useTurnHarness() {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const workers: ManagedWorker[] = [];
  let producer: Producer | undefined;
  let fake: FakeAnthropic | undefined;
  const registry = new Registry();

  beforeAll(() => {
    producer = new Producer(redis.redis, redis.prefix);
  });
  beforeEach(async () => {
    fake = await FakeAnthropic.start();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close(2000)));
    await fake?.close();
  });
  afterAll(async () => {
    await producer?.close();
  });

  const harness = {
    get db(): Database {
      return database.handle.db;
    },
    get producer(): Producer {
      if (!producer) throw new Error('only inside tests');
      return producer;
    },
    get fake(): FakeAnthropic {
      if (!fake) throw new Error('only inside tests');
      return fake;
    },
    redis,
    registry,

    /** A run-turn worker in this process; `offline` gives it no API key. */
    startWorker(overrides: Partial<TurnSettings> & { offline?: boolean } = {}): ManagedWorker {
      const { offline, ...settings } = overrides;
      const worker = createTurnWorker({
        db: harness.db,
        redis: redis.redis,
        prefix: redis.prefix,
        producer: harness.producer,
        logger,
        registry,
        settings: {
          client: offline ? null : createAnthropicClient({ apiKey: 'sk-ant-test', baseURL: harness.fake.url }),
          concurrency: 4,
          deadlineMs: 30_000,
          maxToolRounds: 4,
          historyTokenBudget: 50_000,
          lockRetryMs: 100,
          typingIntervalMs: 200,
          typingDelayMs: 20,
          retry: { baseDelayMs: 10, maxDelayMs: 40 },
          ...settings,
        },
      });
      workers.push(worker);
      return worker;
    },

    async user(role: 'admin' | 'member' | 'viewer' = 'member', displayName = 'Anna de Vries') {
      return harness.db
        .insertInto('users')
        .values({ email: `${randomBytes(6).toString('hex')}@example.com`, display_name: displayName, role })
        .returning(['id', 'display_name'])
        .executeTakeFirstOrThrow();
    },

    /** A conversation in a private chat with the person, or in a group (Telegram's negative chat ids). */
    async conversation(userId: string, agent: 'alfred' | 'roos' | 'elisa' = 'alfred', options: { group?: boolean } = {}) {
      const chatId = String((options.group ? -1 : 1) * (100_000_000 + Math.floor(Math.random() * 1_000_000_000)));
      const row = await harness.db
        .insertInto('conversations')
        .values({ chat_id: chatId, user_id: userId, agent })
        .returning(['id', 'chat_id'])
        .executeTakeFirstOrThrow();
      return { id: row.id, chatId: row.chat_id, userId };
    },

    /** Stores a user message the way the gateway does (one text block) and returns its id. */
    async say(conversation: { id: string; userId: string }, text: string): Promise<string> {
      const row = await harness.db
        .insertInto('messages')
        .values({
          conversation_id: conversation.id,
          role: 'user',
          content: sql<Json>`${JSON.stringify([{ type: 'text', text }])}::jsonb`,
          user_id: conversation.userId,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },

    async enqueueTurn(conversation: { id: string; chatId: string }, messageId: string, jobId = `run-turn-${messageId}`): Promise<Job> {
      return harness.producer.enqueue(
        'agent-turns',
        'run-turn',
        { chatId: conversation.chatId, conversationId: conversation.id, messageIds: [messageId] },
        { jobId },
      );
    },

    /** Waits until the job completed (or failed, which fails the test with its reason). */
    async finished(job: Job, timeoutMs = 20_000): Promise<unknown> {
      const deadline = Date.now() + timeoutMs;
      const queue = harness.producer.queue('agent-turns');
      for (;;) {
        // The state first: a job read before it completes would carry no return value yet.
        const state = await queue.getJobState(job.id!);
        if (state === 'completed') return (await queue.getJob(job.id!))!.returnvalue;
        if (state === 'failed') throw new Error(`job ${job.id} failed: ${(await queue.getJob(job.id!))!.failedReason}`);
        if (Date.now() > deadline) throw new Error(`job ${job.id} is still ${state} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },

    async messages(conversationId: string) {
      return harness.db
        .selectFrom('messages')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .orderBy(sql`coalesce(answered_at, created_at)`)
        .orderBy('created_at')
        .execute();
    },

    /** The assistant messages some user message names as its answer, oldest first. */
    async replies(conversationId: string) {
      const all = await harness.messages(conversationId);
      const answers = new Set(all.flatMap((m) => (m.answered_by ? [m.answered_by] : [])));
      return all.filter((m) => answers.has(m.id));
    },

    async delivery(replyId: string) {
      return harness.producer.queue('telegram-outbound').getJob(jobIds.deliverMessage(replyId));
    },

    async setSetting(key: string, value: unknown) {
      await harness.db
        .insertInto('settings')
        .values({ key, value: sql<Json>`${JSON.stringify(value)}::jsonb` })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: sql<Json>`${JSON.stringify(value)}::jsonb` }))
        .execute();
    },
  };
  return harness;
}

/** The text a stored message shows (its text blocks). */
export function textOf(content: unknown): string {
  return (content as { type: string; text?: string }[])
    .filter((b) => b.type === 'text')
    .map((b) => b.text)
    .join('');
}

/** The JSON of the last tool_result the fake received in a request. */
export function lastToolResult(request: { messages?: unknown[] }): { content: string; is_error?: boolean } {
  const last = request.messages?.at(-1) as { content: { type: string; content: string; is_error?: boolean }[] };
  const result = last.content.find((b) => b.type === 'tool_result');
  if (!result) throw new Error('the last message holds no tool_result');
  return result;
}
