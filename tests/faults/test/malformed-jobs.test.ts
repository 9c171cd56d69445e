import { connectShopifyStore, createProduct, createStore } from '@dealdome/domain';
import { catalog, queueNames } from '@dealdome/queues';
import type { QueueName } from '@dealdome/queues';
import { FakeAnthropic, FakeShopify, FakeTelegram } from '@dealdome/testkit';
import type { ServiceProcess } from '@dealdome/testkit';
import type { Job } from 'bullmq';
import { BOT_TOKEN, answerByEcho, gatewayEnv, member, repliesIn, runtimeEnv } from '../src/chats';
import { SETTINGS_ENCRYPTION_KEY, until, useFaultPlatform } from '../src/platform';

/**
 * Every queue gets jobs no producer of the platform would write: a known job name with
 * a payload that is not its schema, a name the catalog does not have, and data that is
 * not even an object. Each must fail at once (no retry can mend it) with a reason an
 * operator can read, and the consumer of every queue must go on taking good work.
 */
describe('a malformed job in every queue', () => {
  const platform = useFaultPlatform();
  let telegram: FakeTelegram;
  let anthropic: FakeAnthropic;
  let shopify: FakeShopify;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    telegram = await FakeTelegram.start({ token: BOT_TOKEN });
    anthropic = await FakeAnthropic.start();
    shopify = await FakeShopify.start({ shopDomain: 'faults-shop.myshopify.com' });
    answerByEcho(anthropic);
    services.push(
      ...(await Promise.all([
        platform.start('bot-gateway', gatewayEnv(telegram)),
        platform.start('agent-runtime', runtimeEnv(anthropic)),
        platform.start('embedding-worker'),
        platform.start('scheduler', { SHOPIFY_API_BASE_URL: shopify.url }),
      ])),
    );
  }, 120_000);

  afterAll(async () => {
    await telegram?.close();
    await anthropic?.close();
    await shopify?.close();
  });

  async function outcome(queue: QueueName, job: Job, timeoutMs = 30_000) {
    return until(async () => {
      const state = await platform.producer.queue(queue).getJobState(job.id!);
      if (state !== 'completed' && state !== 'failed') return undefined;
      const current = (await platform.producer.queue(queue).getJob(job.id!))!;
      return { state, reason: current.failedReason, attempts: current.attemptsMade };
    }, `job ${job.id} of ${queue} to finish`, timeoutMs);
  }

  it('when each queue gets a wrong payload, an unknown job name and data that is no object, then each fails once with its reason and every worker takes the next good job', async () => {
    const malformed: { queue: QueueName; job: Job; expected: RegExp }[] = [];
    for (const queue of queueNames) {
      const [name] = Object.keys(catalog[queue].jobs);
      const { attempts, backoff } = catalog[queue].defaults;
      // The options a real producer gives: a failure that were retried would show as more than one attempt.
      const add = (jobName: string, data: unknown) => platform.producer.queue(queue).add(jobName, data, { attempts, backoff: { ...backoff } });
      malformed.push(
        { queue, job: await add(name!, { nonsense: true }), expected: /^invalid payload: / },
        { queue, job: await add('no-such-job', {}), expected: new RegExp(`^unknown job no-such-job on queue ${queue}$`) },
        { queue, job: await add(name!, 'garbage'), expected: /^invalid payload: / },
      );
    }

    const outcomes = await Promise.all(malformed.map(async (m) => ({ queue: m.queue, name: m.job.name, expected: m.expected, ...(await outcome(m.queue, m.job)) })));
    for (const o of outcomes) {
      expect({ queue: o.queue, name: o.name, state: o.state, attempts: o.attempts }).toEqual({ queue: o.queue, name: o.name, state: 'failed', attempts: 1 });
      expect(o.reason).toMatch(o.expected);
    }

    // Every consumer still runs: a good job on each queue completes.
    for (const service of services) expect(service.child.exitCode).toBeNull();
    const db = platform.db;
    const key = Buffer.from(SETTINGS_ENCRYPTION_KEY, 'base64');
    const store = await createStore(db, { name: 'Faults shop', shopDomain: 'faults-shop.myshopify.com', currency: 'EUR', timezone: 'UTC' });
    await connectShopifyStore(db, store.id, { accessToken: shopify.accessToken }, key);
    const product = await createProduct(db, { storeId: store.id, name: 'Enamel mug', sku: 'MUG-1', costPrice: '3.20', currency: 'EUR', status: 'testing' }, null);
    const good = {
      embeddings: await platform.producer.enqueue('embeddings', 'embed', { kind: 'product', ids: [product.id] }),
      'scheduled-tasks': await platform.producer.enqueue('scheduled-tasks', 'housekeeping', {}),
      'shopify-sync': await platform.producer.enqueue('shopify-sync', 'sync-store', { storeId: store.id, reason: 'manual' }),
    } as const;
    for (const [queue, job] of Object.entries(good) as [QueueName, Job][]) {
      expect({ queue, ...(await outcome(queue, job)) }).toMatchObject({ queue, state: 'completed' });
    }
    const embedded = await db.selectFrom('products').select('embedding_model').where('id', '=', product.id).executeTakeFirstOrThrow();
    expect(embedded.embedding_model).not.toBeNull();

    // agent-turns and telegram-outbound: a question through Telegram is answered.
    const chat = await member(db, 7301);
    telegram.sendUserMessage({ chatId: chat, from: { id: chat, first_name: 'Mila' }, text: 'still there after the junk?' });
    await until(() => repliesIn(telegram, chat).length === 1, 'the reply at Telegram');
    expect(repliesIn(telegram, chat)).toEqual(['answering: still there after the junk?']);

    for (const service of services) {
      expect(service.child.exitCode).toBeNull();
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    }
  });
});
