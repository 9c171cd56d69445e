import { createApiToken, createProduct, createStore } from '@dealdome/domain';
import { FakeAnthropic, FakeTelegram } from '@dealdome/testkit';
import type { ServiceProcess } from '@dealdome/testkit';
import type { Json } from '@dealdome/db';
import type { Job } from 'bullmq';
import { sql } from 'kysely';
import { BOT_TOKEN, answerByEcho, gatewayEnv, member, repliesIn, runtimeEnv } from '../src/chats';
import { durationFromEnv, queuesIdle, sleep, until, useFaultPlatform } from '../src/platform';

const OUTAGE_MS = durationFromEnv('FAULTS_POSTGRES_OUTAGE_MS', 6000);

/**
 * PostgreSQL goes down for a few seconds under every service. finance-api answers
 * 503 problem+json meanwhile (not a 500, not a hang) and serves again by itself; the
 * workers' jobs that ran into the outage fail their attempt and BullMQ retries them;
 * a message sent to the bot during the outage is answered once it is over.
 */
describe('PostgreSQL restarted under the services', () => {
  const platform = useFaultPlatform();
  let telegram: FakeTelegram;
  let anthropic: FakeAnthropic;
  let services: Record<'api' | 'gateway' | 'runtime' | 'embeddings' | 'scheduler', ServiceProcess>;
  let token: string;

  beforeAll(async () => {
    telegram = await FakeTelegram.start({ token: BOT_TOKEN });
    anthropic = await FakeAnthropic.start();
    answerByEcho(anthropic);
    const [api, gateway, runtime, embeddings, scheduler] = await Promise.all([
      platform.start('finance-api'),
      platform.start('bot-gateway', gatewayEnv(telegram)),
      platform.start('agent-runtime', runtimeEnv(anthropic)),
      platform.start('embedding-worker'),
      platform.start('scheduler'),
    ]);
    services = { api, gateway, runtime, embeddings, scheduler };
    token = (await createApiToken(platform.db, { name: 'dashboard', scopes: ['finance:read'] }, null)).secret;
  });

  afterAll(async () => {
    await telegram?.close();
    await anthropic?.close();
  });

  const getStores = () => fetch(`${services.api.url}/v1/stores`, { headers: { authorization: `Bearer ${token}` } });

  async function finished(queue: 'embeddings' | 'agent-turns', job: Job, timeoutMs: number) {
    return until(
      async () => {
        const state = await platform.producer.queue(queue).getJobState(job.id!);
        if (state !== 'completed' && state !== 'failed') return undefined;
        const stored = (await platform.producer.queue(queue).getJob(job.id!))!;
        return { state, attemptsMade: stored.attemptsMade, failedReason: stored.failedReason };
      },
      `${queue} job ${job.id} to finish`,
      timeoutMs,
    );
  }

  it('when PostgreSQL is down, then finance-api answers 503 problem+json, and afterwards it serves again and every job retried meanwhile completes', async () => {
    const db = platform.db;
    const store = await createStore(db, { name: 'Outage shop', currency: 'EUR', timezone: 'UTC' });
    const products = await Promise.all(
      ['Linen towel', 'Oak board', 'Clay jug'].map((name, i) => createProduct(db, { storeId: store.id, sku: `OUT-${i}`, name, costPrice: '2.00', currency: 'EUR', status: 'testing' }, null)),
    );
    const chat = await member(db, 7601);
    // A question stored before the outage whose turn is queued during it.
    const asker = await db.selectFrom('users').select('id').where('telegram_user_id', '=', String(await member(db, 7602))).executeTakeFirstOrThrow();
    const conversation = await db.insertInto('conversations').values({ chat_id: '7602', user_id: asker.id, agent: 'alfred' }).returning('id').executeTakeFirstOrThrow();
    const before = await db
      .insertInto('messages')
      .values({
        conversation_id: conversation.id,
        role: 'user',
        user_id: asker.id,
        content: sql<Json>`${JSON.stringify([{ type: 'text', text: 'stored before the outage' }])}::jsonb`,
      })
      .returning(['id', 'conversation_id'])
      .executeTakeFirstOrThrow();
    telegram.addChat({ id: 7602 });
    expect((await getStores()).status).toBe(200);

    await platform.postgres.takeDown();
    const downSince = Date.now();
    // Work that meets the outage: embeddings, a turn, and a message at Telegram.
    const embedJob = await platform.producer.enqueue('embeddings', 'embed', { kind: 'product', ids: products.map((p) => p.id) });
    const turnJob = await platform.producer.enqueue(
      'agent-turns',
      'run-turn',
      { chatId: '7602', conversationId: before.conversation_id, messageIds: [before.id] },
      { jobId: `run-turn-${before.id}` },
    );
    telegram.sendUserMessage({ chatId: chat, from: { id: chat, first_name: 'Ida' }, text: 'sent during the outage' });

    const answers = [];
    while (Date.now() - downSince < OUTAGE_MS) {
      const res = await getStores();
      answers.push({ status: res.status, type: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> });
      await sleep(500);
    }
    const readiness = await Promise.all(Object.values(services).map(async (s) => (await fetch(`${s.url}/readyz`)).status));
    await platform.postgres.bringUp();

    expect(answers.length).toBeGreaterThanOrEqual(3);
    for (const answer of answers) {
      expect(answer).toEqual({
        status: 503,
        type: expect.stringMatching(/^application\/problem\+json/),
        retryAfter: expect.stringMatching(/^\d+$/),
        body: expect.objectContaining({ type: 'about:blank', title: 'Service Unavailable', status: 503, code: 'database_unavailable', detail: expect.any(String) }),
      });
    }
    expect(readiness).toEqual(Object.values(services).map(() => 503));

    // Back by itself: nobody restarts a service.
    await until(async () => (await getStores()).status === 200, 'finance-api to serve again', 30_000);
    for (const service of Object.values(services)) {
      await until(async () => (await fetch(`${service.url}/readyz`)).status === 200, `${service.url}/readyz to answer 200 again`);
      expect(service.child.exitCode).toBeNull();
    }

    // The jobs that met the outage ran again once it was over and completed; waiting for
    // the database spent none of their attempts (the completing run is the first).
    for (const [queue, job] of [['embeddings', embedJob], ['agent-turns', turnJob]] as const) {
      expect({ queue, ...(await finished(queue, job, 60_000)) }).toEqual({ queue, state: 'completed', attemptsMade: 1, failedReason: undefined });
      expect((await platform.producer.queue(queue).getJob(job.id!))!.attemptsStarted).toBeGreaterThan(1);
    }
    const embedded = await db.selectFrom('products').select('embedding_model').where('store_id', '=', store.id).execute();
    expect(embedded.every((p) => p.embedding_model !== null)).toBe(true);

    // Telegram kept the message the gateway could not record, and it is answered once.
    await until(() => repliesIn(telegram, chat).length > 0 && repliesIn(telegram, 7602).length > 0, 'the replies at Telegram', 60_000);
    await queuesIdle(platform, ['agent-turns', 'telegram-outbound', 'embeddings']);
    await sleep(1000);
    expect(repliesIn(telegram, chat)).toEqual(['answering: sent during the outage']);
    expect(repliesIn(telegram, 7602)).toEqual(['answering: stored before the outage']);
  });
});
