import { FakeAnthropic, FakeTelegram } from '@dealdome/testkit';
import { BOT_TOKEN, answerByEcho, gatewayEnv, member, repliesIn, runtimeEnv } from '../src/chats';
import { durationFromEnv, queuesIdle, sleep, until, useFaultPlatform } from '../src/platform';

const THROTTLED_MS = durationFromEnv('FAULTS_TELEGRAM_429_MS', 10_000);
const CHATS = [7701, 7702, 7703];
const QUESTIONS_PER_CHAT = 3;

/**
 * Telegram answers every sendMessage with 429 (retry_after 2 s) for ten seconds
 * while three chats each ask three questions, one turn after the other. The replies
 * are written meanwhile; none can be sent. Once Telegram takes messages again every
 * reply arrives, once, each chat's in the order they were written.
 */
describe('Telegram answering 429 to every send', () => {
  const platform = useFaultPlatform();
  let telegram: FakeTelegram;
  let anthropic: FakeAnthropic;

  beforeAll(async () => {
    telegram = await FakeTelegram.start({ token: BOT_TOKEN });
    anthropic = await FakeAnthropic.start();
    answerByEcho(anthropic);
    await Promise.all([platform.start('bot-gateway', gatewayEnv(telegram)), platform.start('agent-runtime', runtimeEnv(anthropic))]);
    for (const chat of CHATS) await member(platform.db, chat);
  });

  afterAll(async () => {
    await telegram?.close();
    await anthropic?.close();
  });

  /** How many of the chat's messages have a stored answer. */
  const answered = async (chat: number) =>
    Number(
      (
        await platform.db
          .selectFrom('messages as m')
          .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
          .select(({ fn }) => fn.count<string>('m.answered_by').as('n'))
          .where('c.chat_id', '=', String(chat))
          .where('m.role', '=', 'user')
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('when every send is refused with 429 for a while, then afterwards every reply is delivered once, in order per chat', async () => {
    const throttledFrom = Date.now();
    telegram.injectError('sendMessage', { status: 429, retryAfter: 2 }, { forMs: THROTTLED_MS });
    const throttledUntil = throttledFrom + THROTTLED_MS;

    // Each question waits for the answer to the one before, so each gets a reply of its own.
    const questions = new Map(CHATS.map((chat) => [chat, Array.from({ length: QUESTIONS_PER_CHAT }, (_, i) => `[${chat}/q${i + 1}]`)]));
    await Promise.all(
      CHATS.map(async (chat) => {
        for (const [i, text] of questions.get(chat)!.entries()) {
          telegram.sendUserMessage({ chatId: chat, from: { id: chat, first_name: `M${chat}` }, text });
          await until(async () => (await answered(chat)) === i + 1, `the answer to ${text} to be written`);
        }
      }),
    );
    // Everything was written while Telegram refused: nothing has reached a chat yet.
    expect(Date.now()).toBeLessThan(throttledUntil);
    for (const chat of CHATS) expect(repliesIn(telegram, chat)).toEqual([]);

    for (const chat of CHATS) {
      await until(() => repliesIn(telegram, chat).length >= QUESTIONS_PER_CHAT, `the replies of chat ${chat}`, THROTTLED_MS + 60_000);
    }
    await queuesIdle(platform, ['agent-turns', 'telegram-outbound']);
    await sleep(1000);

    const refused = telegram.sent.filter((c) => c.method === 'sendMessage' && c.error?.error_code === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(Math.max(...refused.map((c) => c.at))).toBeLessThan(throttledUntil + 100);
    const delivered = telegram.sent.filter((c) => c.method === 'sendMessage' && c.ok);
    expect(Math.min(...delivered.map((c) => c.at))).toBeGreaterThanOrEqual(throttledUntil);
    for (const chat of CHATS) {
      expect({ chat, replies: repliesIn(telegram, chat) }).toEqual({ chat, replies: questions.get(chat)!.map((q) => `answering: ${q}`) });
    }
    const failed = await platform.producer.queue('telegram-outbound').getJobCounts('failed');
    expect(failed.failed).toBe(0);
  });
});
