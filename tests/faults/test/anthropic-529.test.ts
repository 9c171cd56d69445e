import { DEFAULT_RETRY_POLICY } from '@dealdome/ai';
import { FakeAnthropic, FakeTelegram } from '@dealdome/testkit';
import { BOT_TOKEN, answerByEcho, gatewayEnv, member, repliesIn, runtimeEnv } from '../src/chats';
import { durationFromEnv, queuesIdle, sleep, until, useFaultPlatform } from '../src/platform';

const OVERLOADED_MS = durationFromEnv('FAULTS_ANTHROPIC_529_MS', 30_000);
const UNAVAILABLE = /^AI unavailable right now: Anthropic's service is overloaded or unreachable, and retrying did not help\./;

/**
 * Anthropic answers every request with 529 overloaded_error for thirty seconds. The
 * runtime retries each call (packages/ai/src/retry.ts: four attempts with backoff);
 * when they are spent, the turn is closed with a reply that says the AI is unavailable,
 * so nobody waits in silence. Questions asked once Anthropic is back get real answers.
 * Every question is answered exactly once, one way or the other.
 */
describe('Anthropic answering 529 overloaded', () => {
  const platform = useFaultPlatform();
  let telegram: FakeTelegram;
  let anthropic: FakeAnthropic;

  beforeAll(async () => {
    telegram = await FakeTelegram.start({ token: BOT_TOKEN });
    anthropic = await FakeAnthropic.start();
    answerByEcho(anthropic);
    await Promise.all([platform.start('bot-gateway', gatewayEnv(telegram)), platform.start('agent-runtime', runtimeEnv(anthropic))]);
  });

  afterAll(async () => {
    await telegram?.close();
    await anthropic?.close();
  });

  it('when Claude is overloaded for a while, then the questions asked meanwhile are told the AI is unavailable, later ones are answered, none twice and none dropped', async () => {
    const [early, late, after] = [await member(platform.db, 7801), await member(platform.db, 7802), await member(platform.db, 7803)];
    const ask = (chat: number, text: string) => telegram.sendUserMessage({ chatId: chat, from: { id: chat, first_name: `M${chat}` }, text });
    const overloadedFrom = Date.now();
    anthropic.injectError({ error: 'overloaded' }, { forMs: OVERLOADED_MS });
    const overloadedUntil = overloadedFrom + OVERLOADED_MS;

    ask(early, 'asked as the outage starts');
    await until(() => repliesIn(telegram, early).length === 1, 'the reply to the first question', OVERLOADED_MS);
    // The second question comes well into the outage, after the first turn gave up.
    await sleep(Math.max(0, Math.min(OVERLOADED_MS / 2, overloadedUntil - Date.now() - 5000)));
    ask(late, 'asked in the middle of it');
    await until(() => repliesIn(telegram, late).length === 1, 'the reply to the second question', OVERLOADED_MS);
    expect(Date.now()).toBeLessThan(overloadedUntil);

    await sleep(overloadedUntil - Date.now() + 200);
    ask(after, 'asked once it is over');
    await until(() => repliesIn(telegram, after).length === 1, 'the reply after the outage');
    await queuesIdle(platform, ['agent-turns', 'telegram-outbound']);
    await sleep(1000);

    expect(repliesIn(telegram, early)).toEqual([expect.stringMatching(UNAVAILABLE)]);
    expect(repliesIn(telegram, late)).toEqual([expect.stringMatching(UNAVAILABLE)]);
    expect(repliesIn(telegram, after)).toEqual(['answering: asked once it is over']);

    // Each outage turn really retried before it gave up, and none ran twice.
    const overloaded = anthropic.requests.filter((r) => r.status === 529);
    const asking = (text: string) => overloaded.filter((r) => JSON.stringify(r.messages).includes(text)).length;
    expect(asking('asked as the outage starts')).toBe(DEFAULT_RETRY_POLICY.maxAttempts);
    expect(asking('asked in the middle of it')).toBe(DEFAULT_RETRY_POLICY.maxAttempts);
    const turns = await platform.producer.queue('agent-turns').getJobCounts('completed', 'failed');
    expect(turns).toEqual({ completed: 3, failed: 0 });

    const unanswered = await platform.db.selectFrom('messages').select('id').where('role', '=', 'user').where('answered_by', 'is', null).execute();
    expect(unanswered).toEqual([]);
  });
});
