import { useTestDatabase } from '@dealdome/db/testing';
import { appendMessage, appendToOpenConversation, openConversation } from '../src/conversations';
import { loadTurnContext, recordTurn, TurnAlreadyAnsweredError, turnEnvironment } from '../src/turns';
import type { TurnRecord } from '../src/turns';
import { createUser } from '../src/users';

describe('a turn read and recorded', () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;
  let chat = 5_000;

  async function setUp() {
    const { user } = await createUser(db(), { email: `turn${chat}@dealdome.test`, displayName: 'Ana', role: 'member' });
    const conversation = await openConversation(db(), { chatId: chat++, userId: user.id });
    const ask = async (text: string) =>
      (await appendMessage(db(), { conversationId: conversation.id, role: 'user', content: [{ type: 'text', text }], userId: user.id })).id;
    return { user, conversation, ask };
  }

  const reply = (conversationId: string, answers: string[], text: string): TurnRecord => ({
    conversationId,
    answers,
    agent: 'roos',
    chargedTo: null,
    messages: [
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_pnl', input: {} }] },
      { role: 'tool', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '{}' }] },
      { role: 'assistant', content: [{ type: 'text', text }] },
    ],
    usage: { model: 'claude-test', inputTokens: 10, outputTokens: 5, cacheReadTokens: 2, cacheWriteTokens: 1, costUsd: '0.000123', latencyMs: 42 },
  });

  it('when a turn is recorded, then its messages follow the question in order, the reply carries the usage and the conversation moves to its agent', async () => {
    const { user, conversation, ask } = await setUp();
    const first = await ask('profit yesterday?');
    const second = await ask('and the day before?');

    const before = await loadTurnContext(db(), conversation.id);
    expect(before.unanswered.map((m) => m.id)).toEqual([first, second]);
    expect(before.history).toEqual([]);
    expect(before.asker).toEqual({ id: user.id, displayName: 'Ana', role: 'member' });

    const { replyId, messageIds } = await recordTurn(db(), { ...reply(conversation.id, [first, second], 'Both days.'), chargedTo: user.id });
    expect(messageIds.at(-1)).toBe(replyId);

    const after = await loadTurnContext(db(), conversation.id);
    expect(after.unanswered).toEqual([]);
    expect(after.conversation.agent).toBe('roos');
    expect(after.history.map((m) => [m.role, m.id])).toEqual([
      ['user', first],
      ['user', second],
      ...messageIds.map((id, i) => [i === 1 ? 'tool' : 'assistant', id]),
    ]);
    const stored = await db().selectFrom('messages').selectAll().where('id', '=', replyId).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ model: 'claude-test', input_tokens: 10, output_tokens: 5, cache_read_tokens: 2, cache_write_tokens: 1, cost_usd: '0.000123', latency_ms: 42, user_id: user.id });
    const questions = await db().selectFrom('messages').select(['answered_by']).where('id', 'in', [first, second]).execute();
    expect(questions.map((q) => q.answered_by)).toEqual([replyId, replyId]);
  });

  it('when two turns answer the same message at once, then exactly one is stored and the other is refused with nothing of it kept', async () => {
    const { conversation, ask } = await setUp();
    const question = await ask('what was the ROAS?');

    const outcomes = await Promise.allSettled([
      recordTurn(db(), reply(conversation.id, [question], 'first')),
      recordTurn(db(), reply(conversation.id, [question], 'second')),
    ]);

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(TurnAlreadyAnsweredError);
    const all = await db().selectFrom('messages').select(['role']).where('conversation_id', '=', conversation.id).execute();
    expect(all).toHaveLength(4);
  });

  it('when a turn names a message that is answered or a conversation that does not exist, then nothing is stored', async () => {
    const { conversation, ask } = await setUp();
    const question = await ask('hello');
    await recordTurn(db(), reply(conversation.id, [question], 'hi'));

    await expect(recordTurn(db(), reply(conversation.id, [question], 'hi again'))).rejects.toBeInstanceOf(TurnAlreadyAnsweredError);
    await expect(recordTurn(db(), reply('00000000-0000-4000-8000-000000000000', [question], 'x'))).rejects.toMatchObject({ status: 404 });
    const count = await db().selectFrom('messages').select(db().fn.countAll<string>().as('n')).where('conversation_id', '=', conversation.id).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(4);
  });

  it('when a message is stored in a chat, then it goes to the open conversation, or opens one, and an id stored twice is stored once', async () => {
    const { user } = await setUp();
    const chatId = chat++;
    const id = '11111111-1111-4111-8111-111111111111';
    const first = await appendToOpenConversation(db(), { chatId, userId: user.id }, { id, role: 'user', content: [{ type: 'text', text: 'hi' }], telegramMessageId: 7 });
    const again = await appendToOpenConversation(db(), { chatId, userId: user.id }, { id, role: 'user', content: [{ type: 'text', text: 'hi' }] });
    expect(first).toMatchObject({ id, inserted: true });
    expect(again).toMatchObject({ id, inserted: false });
    expect(again.conversation.id).toBe(first.conversation.id);
    expect(first.conversation).toMatchObject({ chatId: String(chatId), userId: user.id, agent: 'alfred' });
    const stored = await db().selectFrom('messages').select(['telegram_message_id', 'answered_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ telegram_message_id: '7', answered_at: null });
  });

  it('when the environment is read, then the team time zone and stores come back and a set budget is handed on as stored', async () => {
    expect(await turnEnvironment(db())).toMatchObject({ timeZone: 'UTC' });
    await db().insertInto('settings').values({ key: 'team.timezone', value: JSON.stringify('Europe/Amsterdam') }).execute();
    await db().insertInto('settings').values({ key: 'ai.monthly_budget_usd', value: JSON.stringify('25') }).execute();
    const environment = await turnEnvironment(db());
    expect(environment).toMatchObject({ timeZone: 'Europe/Amsterdam', budgetSetting: '25' });
    expect(Array.isArray(environment.stores)).toBe(true);
  });
});
