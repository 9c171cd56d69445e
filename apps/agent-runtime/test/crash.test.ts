import { randomBytes } from 'node:crypto';
import type { Json } from '@dealdome/db';
import { Producer, jobIds } from '@dealdome/queues';
import { FakeAnthropic, startServiceProcess, useTestDatabase, useTestRedis } from '@dealdome/testkit';
import type { ServiceProcess } from '@dealdome/testkit';
import { sql } from 'kysely';
import { textOf } from './harness';

/**
 * The real service as a process, killed with SIGKILL while Claude is still
 * answering: nothing of the turn is stored, BullMQ's stalled-job check hands the job
 * to the next runtime (after the job lock's 30 s), and the chat gets one reply.
 */
describe('agent-runtime killed mid-turn', () => {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const running: ServiceProcess[] = [];
  let fake: FakeAnthropic;
  let producer: Producer;

  beforeAll(async () => {
    fake = await FakeAnthropic.start();
    producer = new Producer(redis.redis, redis.prefix);
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill()));
    await producer.close();
    await fake.close();
  });

  it('when the runtime is killed with SIGKILL during a turn, then the runtime started next answers it exactly once', async () => {
    const db = database.handle.db;
    const person = await db
      .insertInto('users')
      .values({ email: `${randomBytes(6).toString('hex')}@example.com`, display_name: 'Anna', role: 'member' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const conversation = await db
      .insertInto('conversations')
      .values({ chat_id: '424242', user_id: person.id, agent: 'alfred' })
      .returning(['id', 'chat_id'])
      .executeTakeFirstOrThrow();
    const question = await db
      .insertInto('messages')
      .values({
        conversation_id: conversation.id,
        role: 'user',
        content: sql<Json>`${JSON.stringify([{ type: 'text', text: 'are you still there?' }])}::jsonb`,
        user_id: person.id,
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    // The first call is held until its runtime dies; the next one is answered.
    const firstCallArrived = fake.holdNextRequest();
    fake.respondWith(() => ({ content: 'the one answer' }));

    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: redis.prefix,
      HTTP_HOST: '127.0.0.1',
      AGENT_RUNTIME_PORT: '0',
      MIGRATE_ON_START: 'false',
      SHUTDOWN_TIMEOUT_MS: '3000',
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_BASE_URL: fake.url,
    };
    const doomed = await startServiceProcess('agent-runtime', env);
    running.push(doomed);
    const job = await producer.enqueue(
      'agent-turns',
      'run-turn',
      { chatId: conversation.chat_id, conversationId: conversation.id, messageIds: [question.id] },
      { jobId: `run-turn-${question.id}` },
    );
    await firstCallArrived;
    await doomed.kill();

    running.push(await startServiceProcess('agent-runtime', env));
    const queue = producer.queue('agent-turns');
    const deadline = Date.now() + 100_000;
    let state = await (await queue.getJob(job.id!))!.getState();
    while (state !== 'completed' && Date.now() < deadline) {
      expect(state).not.toBe('failed');
      await new Promise((r) => setTimeout(r, 250));
      state = await (await queue.getJob(job.id!))!.getState();
    }
    expect(state).toBe('completed');

    const assistant = await db.selectFrom('messages').selectAll().where('conversation_id', '=', conversation.id).where('role', '=', 'assistant').execute();
    expect(assistant.map((m) => textOf(m.content))).toEqual(['the one answer']);
    const asked = await db.selectFrom('messages').select('answered_by').where('id', '=', question.id).executeTakeFirstOrThrow();
    expect(asked.answered_by).toBe(assistant[0]!.id);
    expect(await producer.queue('telegram-outbound').getJob(jobIds.deliverMessage(assistant[0]!.id))).toBeDefined();
    expect(fake.requests.map((r) => r.status)).toEqual([0, 200]);
  }, 150_000);
});
