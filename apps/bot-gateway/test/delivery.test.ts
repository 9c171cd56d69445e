import { createStore, openConversation, pendingActionKeyboard, profitAndLoss, proposeAdSpend, upsertDailyFinancials } from '@dealdome/domain';
import { formatPnl } from '@dealdome/domain';
import { todayIn } from '@dealdome/domain';
import { addDays } from '../src/time';
import { deliverAsBot, processed, replies, useGateway } from './harness';

const gateway = useGateway();

/**
 * The gateway end to end in one process: an update comes in by long polling, the
 * reply is stored, queued, and the outbound worker — the only code that sends —
 * delivers it to (fake) Telegram through the real client.
 */
describe('bot-gateway delivery', () => {
  it('when a member asks /pnl yesterday, then the P&L the finance domain computes arrives in the chat, once', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(5101);
    const yesterday = addDays(todayIn('UTC'), -1);
    const store = await createStore(gateway.db, { name: 'Nordic <Home> & Co', currency: 'EUR', timezone: 'UTC' });
    await upsertDailyFinancials(gateway.db, store.id, yesterday, {
      revenue: '1234.50',
      discounts: '10.00',
      refunds: '0',
      cogs: '400.00',
      shippingCosts: '20.00',
      transactionFees: '12.34',
      orders: 7,
      units: 9,
    });

    const update = telegram.sendUserMessage({ chatId: 5101, from: { id: 5101, first_name: 'Max' }, text: '/pnl yesterday' });
    await processed(gateway.db, update.update_id);
    const sent = await telegram.waitForSent((call) => call.method === 'sendMessage' && call.chatId === 5101, 10_000);

    const report = await profitAndLoss(gateway.db, { from: yesterday, to: yesterday, groupBy: 'day' });
    expect(report.totals.netRevenue).toBe('1224.50');
    expect(sent.params.text).toBe(formatPnl('yesterday', { from: yesterday, to: yesterday }, report.currency, report.totals));
    expect(sent.params.parse_mode).toBe('HTML');
    // The same update again changes nothing: one message reached the chat.
    telegram.redeliver(update);
    await new Promise((r) => setTimeout(r, 1500));
    expect(telegram.sent.filter((c) => c.method === 'sendMessage' && c.chatId === 5101 && c.ok)).toHaveLength(1);
  });

  it('when an agent\'s proposed ad spend is confirmed, then it is written once, however often Confirm is pressed', async () => {
    const { telegram } = await gateway.start();
    const member = await gateway.member(5202);
    const from = { id: 5202, first_name: 'Roos fan' };
    const store = await createStore(gateway.db, { name: 'Brooklyn', currency: 'USD', timezone: 'UTC' });
    const conversation = await openConversation(gateway.db, { chatId: '5202', userId: member.id, agent: 'roos' });
    const action = await proposeAdSpend(gateway.db, {
      conversationId: conversation.id,
      userId: member.id,
      input: { storeId: store.id, date: '2026-11-20', platform: 'meta', amount: '125.40', currency: 'USD' },
    });
    telegram.addChat({ id: 5202, type: 'private' });
    // The agent's reply with its keyboard, as the outbound worker would have put it in the chat.
    const proposal = await deliverAsBot(telegram, 5202, { text: 'Add 125.40 USD of Meta spend?', replyMarkup: pendingActionKeyboard([{ id: action.id, label: '' }]) });
    const confirm = `pa:${action.id}:confirm`;

    telegram.sendCallback({ chatId: 5202, from, messageId: proposal.message_id, data: confirm });
    await replies(gateway.db, 5202, 1);
    telegram.sendCallback({ chatId: 5202, from, messageId: proposal.message_id, data: confirm });
    const [, again] = await replies(gateway.db, 5202, 2);

    const written = await gateway.db.selectFrom('ad_spend_entries').select(['amount', 'currency', 'platform']).where('store_id', '=', store.id).execute();
    expect(written).toEqual([{ amount: '125.4000', currency: 'USD', platform: 'meta' }]);
    expect(again!.text).toBe('Already recorded; nothing was added again.');
    const status = await gateway.db.selectFrom('pending_actions').select('status').where('id', '=', action.id).executeTakeFirstOrThrow();
    expect(status.status).toBe('confirmed');
  });
});
