import { Writable } from 'node:stream';
import { createLogger, parseEnv } from '@dealdome/config';
import type { StartedService } from '@dealdome/config';
import { createUser } from '@dealdome/domain';
import { FakeTelegram, useTestDatabase, useTestRedis } from '@dealdome/testkit';
import { envSchema } from '../src/env';
import { startBotGateway } from '../src/service';
import { eventually, TOKEN } from './harness';

/**
 * Two gateway replicas in long-polling mode against one (fake) Telegram, which, like
 * Telegram, ends a waiting getUpdates with 409 Conflict when another one arrives.
 */
describe('bot-gateway replicas in polling mode', () => {
  const database = useTestDatabase();
  const redis = useTestRedis();
  let telegram: FakeTelegram;
  const replicas: { service: StartedService; logs: Record<string, unknown>[]; stopped: boolean }[] = [];

  beforeAll(async () => {
    telegram = await FakeTelegram.start({ token: TOKEN, bot: { username: 'dealdome_bot' } });
  });
  afterAll(async () => {
    for (const r of replicas) if (!r.stopped) await r.service.stop();
    await telegram?.close();
  });

  async function startReplica() {
    const logs: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const env = parseEnv('bot-gateway', envSchema, {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: redis.prefix,
      HTTP_HOST: '127.0.0.1',
      BOT_GATEWAY_PORT: '0',
      SHUTDOWN_TIMEOUT_MS: '3000',
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_BASE_URL: telegram.url,
      TELEGRAM_POLL_TIMEOUT_SECONDS: '1',
    });
    const service = await startBotGateway(env, createLogger('bot-gateway', { level: 'info', destination }));
    const replica = { service, logs, stopped: false };
    replicas.push(replica);
    return replica;
  }

  const holds = (replica: { logs: Record<string, unknown>[] }) => replica.logs.some((l) => l.msg === 'this replica holds the polling lease: it polls Telegram');
  const conflicts = () => telegram.sent.filter((c) => c.method === 'getUpdates' && c.error?.error_code === 409);
  const answersIn = (chatId: number) => telegram.sent.filter((c) => c.method === 'sendMessage' && c.ok && c.chatId === chatId);

  it('when two replicas run, then only the lease holder polls (no 409 from Telegram) and each message is answered once; when the holder stops, the other takes over', async () => {
    await createUser(database.handle.db, { email: 'lease@dealdome.test', displayName: 'Eva', telegramUserId: '7001' });
    const [a, b] = [await startReplica(), await startReplica()];
    const holder = await eventually(async () => [a, b].find(holds), 'one replica to hold the polling lease');
    const other = holder === a ? b : a;

    for (let i = 0; i < 3; i++) telegram.sendUserMessage({ chatId: 7001, from: { id: 7001, first_name: 'Eva' }, text: '/help' });
    await eventually(async () => answersIn(7001).length >= 3, 'three answers');
    // A few more long polls (1 s each) go by: a second poller would have met a 409 by now.
    await new Promise((r) => setTimeout(r, 2500));
    expect(answersIn(7001)).toHaveLength(3);
    expect(conflicts()).toEqual([]);
    expect(holds(other)).toBe(false);
    expect(other.logs.some((l) => l.msg === 'another replica polls Telegram; this one stands by for the polling lease')).toBe(true);
    expect(await redis.redis.exists(`${redis.prefix}:bot-gateway:polling-lease`)).toBe(1);

    // The holder stops (a rolling deploy): it gives the lease up and the other polls within a standby retry.
    await holder.service.stop();
    holder.stopped = true;
    await eventually(async () => holds(other), 'the other replica to take the polling lease', 8000);
    telegram.sendUserMessage({ chatId: 7001, from: { id: 7001, first_name: 'Eva' }, text: '/help' });
    await eventually(async () => answersIn(7001).length >= 4, 'the answer after the handover');
    expect(answersIn(7001)).toHaveLength(4);
    expect(conflicts()).toEqual([]);
  });
});
