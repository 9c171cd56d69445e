import { FakeAnthropic, FakeTelegram } from '@dealdome/testkit';
import { BOT_TOKEN, answerByEcho, gatewayEnv, member, repliesIn, runtimeEnv } from '../src/chats';
import { queuesIdle, sleep, until, useFaultPlatform } from '../src/platform';

/**
 * The runtime is killed with SIGKILL while Claude is still answering a question that
 * came in through Telegram. The same approach as apps/agent-runtime/test/crash.test.ts
 * (FakeAnthropic.holdNextRequest holds the call until its process is gone), here end
 * to end: nothing of the turn was stored, so once the job lock lapses (BullMQ's 30 s)
 * the runtime started next runs the job, and Telegram gets one reply.
 */
describe('agent-runtime killed with SIGKILL mid-turn', () => {
  const platform = useFaultPlatform();
  let telegram: FakeTelegram;
  let anthropic: FakeAnthropic;

  beforeAll(async () => {
    telegram = await FakeTelegram.start({ token: BOT_TOKEN });
    anthropic = await FakeAnthropic.start();
  });

  afterAll(async () => {
    await telegram?.close();
    await anthropic?.close();
  });

  it('when the runtime dies during the Claude call, then a new runtime answers the question exactly once', async () => {
    await platform.start('bot-gateway', gatewayEnv(telegram));
    const doomed = await platform.start('agent-runtime', runtimeEnv(anthropic));

    const chat = await member(platform.db, 7401);
    const held = anthropic.holdNextRequest();
    answerByEcho(anthropic);
    telegram.sendUserMessage({ chatId: chat, from: { id: chat, first_name: 'Noor' }, text: 'is the Friday order in?' });
    await held;
    await doomed.kill();

    await platform.start('agent-runtime', runtimeEnv(anthropic));
    await until(() => repliesIn(telegram, chat).length > 0, 'the reply from the new runtime', 150_000);

    // Whatever could still arrive late has had the time: no second turn, no second delivery.
    await queuesIdle(platform, ['agent-turns', 'telegram-outbound']);
    await sleep(2000);
    expect(repliesIn(telegram, chat)).toEqual(['answering: is the Friday order in?']);
    expect(anthropic.requests.map((r) => r.status)).toEqual([0, 200]);

    const stored = await platform.db
      .selectFrom('messages as m')
      .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
      .select(['m.id', 'm.role', 'm.answered_by'])
      .where('c.chat_id', '=', String(chat))
      .orderBy('m.created_at')
      .execute();
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(stored[0]!.answered_by).toBe(stored[1]!.id);
  });
});
