import { randomBytes } from 'node:crypto';
import { createStore, decidePendingAction, parsePendingActionCallback, pendingActionCallbackData, proposeAdSpend } from '@dealdome/domain';
import { useTestDatabase } from '@dealdome/testkit';
import { sql } from 'kysely';

describe('pending actions', () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;
  let storeId: string;

  beforeAll(async () => {
    storeId = (await createStore(db(), { name: 'Cups & Co', currency: 'EUR', timezone: 'UTC' })).id;
  });

  let chat = 7000;
  async function setUp(role: 'admin' | 'member' | 'viewer' = 'member') {
    const person = await db()
      .insertInto('users')
      .values({ email: `${randomBytes(6).toString('hex')}@example.com`, display_name: 'Sam', role })
      .returning('id')
      .executeTakeFirstOrThrow();
    const conversation = await db().insertInto('conversations').values({ chat_id: String(++chat), user_id: person.id, agent: 'roos' }).returning('id').executeTakeFirstOrThrow();
    return { userId: person.id, conversationId: conversation.id };
  }
  const input = { storeId: '', date: '2026-03-01', platform: 'tiktok' as const, amount: '15.00', currency: 'EUR' };
  const entries = async () => Number((await db().selectFrom('ad_spend_entries').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('when the proposal is cancelled, then nothing is written and a later confirm writes nothing either', async () => {
    const { userId, conversationId } = await setUp();
    const action = await proposeAdSpend(db(), { conversationId, userId, input: { ...input, storeId } });
    expect(await decidePendingAction(db(), action.id, userId, 'cancel')).toMatchObject({ outcome: 'cancelled', action: { status: 'cancelled' } });
    expect(await decidePendingAction(db(), action.id, userId, 'confirm')).toMatchObject({ outcome: 'already_decided', message: expect.stringContaining('cancelled') });
    expect(await entries()).toBe(0);
  });

  it('when the proposal has expired, then confirming marks it expired and writes nothing', async () => {
    const { userId, conversationId } = await setUp();
    const action = await proposeAdSpend(db(), { conversationId, userId, input: { ...input, storeId } });
    await db()
      .updateTable('pending_actions')
      .set({ created_at: sql<Date>`now() - interval '2 hours'`, expires_at: sql<Date>`now() - interval '1 hour'` })
      .where('id', '=', action.id)
      .execute();
    expect(await decidePendingAction(db(), action.id, userId, 'confirm')).toMatchObject({ outcome: 'expired', action: { status: 'expired' } });
    expect(await entries()).toBe(0);
  });

  it('when a viewer asks to record spend, then the proposal is refused before anything is stored', async () => {
    const { userId, conversationId } = await setUp('viewer');
    await expect(proposeAdSpend(db(), { conversationId, userId, input: { ...input, storeId } })).rejects.toMatchObject({ status: 403 });
    await expect(proposeAdSpend(db(), { conversationId, userId: (await setUp()).userId, input: { ...input, storeId, currency: 'USD' } })).rejects.toMatchObject({
      status: 422,
    });
  });

  it('when a button is pressed, then its callback data names the proposal and the decision', () => {
    const id = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
    expect(parsePendingActionCallback(pendingActionCallbackData(id, 'confirm'))).toEqual({ id, decision: 'confirm' });
    expect(parsePendingActionCallback(`pa:${id}:cancel`)).toEqual({ id, decision: 'cancel' });
    expect(parsePendingActionCallback(`pa:${id}:delete`)).toBeUndefined();
    expect(parsePendingActionCallback('forget:123')).toBeUndefined();
    expect(Buffer.byteLength(pendingActionCallbackData(id, 'confirm'))).toBeLessThanOrEqual(64);
  });
});
