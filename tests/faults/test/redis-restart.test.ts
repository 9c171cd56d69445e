import { FakeAnthropic, FakeTelegram } from '@dealdome/testkit';
import type { ServiceProcess } from '@dealdome/testkit';
import { BOT_TOKEN, askedIn, coverage, gatewayEnv, member, repliesIn, runtimeEnv } from '../src/chats';
import { queuesIdle, sleep, until, useFaultPlatform } from '../src/platform';

const CHATS = [7501, 7502, 7503];
const SEND_EVERY_MS = 300;

/**
 * Redis (queues, chat locks, rate budgets) goes down and comes back while three chats
 * keep writing. Nobody restarts the services: they reconnect by themselves, and every
 * message — before, during and after the outage — is answered once, in order.
 */
describe('Redis restarted while messages flow', () => {
  const platform = useFaultPlatform();
  let telegram: FakeTelegram;
  let anthropic: FakeAnthropic;
  let services: ServiceProcess[];

  beforeAll(async () => {
    telegram = await FakeTelegram.start({ token: BOT_TOKEN });
    anthropic = await FakeAnthropic.start();
    // A turn takes a moment, so some are running when Redis goes away.
    anthropic.respondWith((request) => ({ content: `answering: ${askedIn(request).join(' | ')}`, latencyMs: 150 }));
    services = await Promise.all([platform.start('bot-gateway', gatewayEnv(telegram)), platform.start('agent-runtime', runtimeEnv(anthropic))]);
    for (const chat of CHATS) await member(platform.db, chat);
  });

  afterAll(async () => {
    await telegram?.close();
    await anthropic?.close();
  });

  it('when Redis restarts mid-traffic, then the services reconnect unattended and every message is answered exactly once', async () => {
    const asked = new Map<number, string[]>(CHATS.map((c) => [c, []]));
    let sending = true;
    const sender = (async () => {
      for (let n = 1; sending; n++) {
        for (const chat of CHATS) {
          const text = `[${chat}/${String(n).padStart(3, '0')}]`;
          asked.get(chat)!.push(text);
          telegram.sendUserMessage({ chatId: chat, from: { id: chat, first_name: `M${chat}` }, text });
        }
        await sleep(SEND_EVERY_MS);
      }
    })();

    await until(() => CHATS.every((c) => repliesIn(telegram, c).length >= 2), 'traffic to flow before the restart');
    await platform.redisServer.takeDown();
    await sleep(3000);
    await platform.redisServer.bringUp();
    await sleep(4000);
    sending = false;
    await sender;

    // Every service reconnected by itself: ready again, and the very same processes.
    for (const service of services) {
      await until(async () => (await fetch(`${service.url}/readyz`)).status === 200, `${service.url}/readyz to answer 200 again`);
      expect(service.child.exitCode).toBeNull();
    }
    for (const chat of CHATS) {
      const questions = asked.get(chat)!;
      await until(() => questions.every((q) => repliesIn(telegram, chat).some((r) => r.includes(q))), `every message of chat ${chat} to be answered`, 90_000);
    }
    await until(() => telegram.pendingUpdates.length === 0, 'Telegram to have every update confirmed');
    // A job Redis had just handed out when it went down, the answer lost with the
    // connection, waits for BullMQ's stalled-job check (30 to 60 s) to be run again:
    // nothing may be sent twice when it does.
    await queuesIdle(platform, ['agent-turns', 'telegram-outbound'], 90_000);
    await sleep(2000);

    for (const chat of CHATS) {
      const questions = asked.get(chat)!;
      const { counts, inOrder } = coverage(repliesIn(telegram, chat), questions);
      expect({ chat, counts }).toEqual({ chat, counts: Object.fromEntries(questions.map((q) => [q, 1])) });
      expect({ chat, inOrder }).toEqual({ chat, inOrder: true });
    }
    const stored = await platform.db
      .selectFrom('messages')
      .select(({ fn }) => [fn.countAll<string>().as('n'), fn.count<string>('answered_by').as('answered')])
      .where('role', '=', 'user')
      .executeTakeFirstOrThrow();
    const total = CHATS.reduce((sum, c) => sum + asked.get(c)!.length, 0);
    expect({ stored: Number(stored.n), answered: Number(stored.answered) }).toEqual({ stored: total, answered: total });
  });
});
