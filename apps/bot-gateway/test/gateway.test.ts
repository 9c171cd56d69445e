import { createMemory, createStore, issueTelegramLinkCode, profitAndLoss, upsertDailyFinancials, createAdSpend, createFixedCost } from '@dealdome/domain';
import { sql } from 'kysely';
import { formatPnl } from '@dealdome/domain';
import { REFUSAL_TEXT } from '../src/router';
import { deliverMessageJobId, refusalMessageId, runTurnJobId } from '../src/ids';
import { todayIn } from '@dealdome/domain';
import { addDays } from '../src/time';
import { chatMessages, deliverAsBot, eventually, processed, replies, useGateway } from './harness';

const gateway = useGateway();

describe('bot-gateway intake (long polling)', () => {
  it('when someone not on the team writes three times, then they get one polite refusal and nothing else', async () => {
    const { telegram } = await gateway.start();
    const stranger = { id: 9001, first_name: 'Eve' };
    const updates = ['hello', '/pnl', 'anyone there?'].map((text) => telegram.sendUserMessage({ chatId: 9001, from: stranger, text }));
    await processed(gateway.db, updates[2]!.update_id);

    const stored = await chatMessages(gateway.db, 9001);
    expect(stored).toEqual([expect.objectContaining({ id: refusalMessageId(9001), role: 'assistant', text: REFUSAL_TEXT })]);
    const deliveries = (await gateway.jobs('telegram-outbound')).filter((j) => j.data.chatId === '9001');
    expect(deliveries.map((j) => j.id)).toEqual([deliverMessageJobId(refusalMessageId(9001))]);
    expect(await gateway.jobs('agent-turns')).toEqual([]);
  });

  it('when /link carries a valid code, then the person is linked and welcomed; a reused or expired code is refused', async () => {
    const { telegram } = await gateway.start();
    await gateway.user('linker@dealdome.test', 'Lina');
    const db = gateway.db;
    const { code } = await issueTelegramLinkCode(db, { email: 'linker@dealdome.test' });

    const linking = telegram.sendUserMessage({ chatId: 7001, from: { id: 7001 }, text: `/link ${code.toLowerCase()}` });
    await processed(db, linking.update_id);
    const [welcome] = await replies(db, 7001, 1);
    expect(welcome!.text).toContain('Welcome, Lina!');
    const linked = await db.selectFrom('users').select('telegram_user_id').where('email', '=', 'linker@dealdome.test').executeTakeFirstOrThrow();
    expect(linked.telegram_user_id).toBe('7001');

    // The same code from someone else: spent.
    telegram.sendUserMessage({ chatId: 7002, from: { id: 7002 }, text: `/link ${code}` });
    expect((await replies(db, 7002, 1))[0]!.text).toContain('That code has been used already.');

    // An expired code.
    const other = await gateway.user('late@dealdome.test', 'Late');
    const late = await issueTelegramLinkCode(db, { email: 'late@dealdome.test' });
    await sql`UPDATE telegram_link_codes SET expires_at = now() - interval '1 minute' WHERE user_id = ${other.id}`.execute(db);
    telegram.sendUserMessage({ chatId: 7003, from: { id: 7003 }, text: `/link ${late.code}` });
    expect((await replies(db, 7003, 1))[0]!.text).toContain('That code has expired.');
    const lateUser = await db.selectFrom('users').select('telegram_user_id').where('id', '=', other.id).executeTakeFirstOrThrow();
    expect(lateUser.telegram_user_id).toBeNull();
  });

  it('when Telegram delivers the same update twice, then one user message, one reply and one delivery job exist', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(501);
    const first = telegram.sendUserMessage({ chatId: 501, from: { id: 501 }, text: '/help' });
    await processed(gateway.db, first.update_id);
    telegram.redeliver(first);
    // Polling handles updates in order: once the next one is handled, the redelivered one was too.
    const next = telegram.sendUserMessage({ chatId: 501, from: { id: 501 }, text: '/memories' });
    await processed(gateway.db, next.update_id);

    const stored = await chatMessages(gateway.db, 501);
    expect(stored.map((m) => [m.role, m.text.split('\n')[0]])).toEqual([
      ['user', '/help'],
      ['assistant', 'The agents are offline right now, but these commands work:'],
      ['user', '/memories'],
      ['assistant', 'Nothing is remembered yet. Use /remember to add something.'],
    ]);
    const deliveries = (await gateway.jobs('telegram-outbound')).filter((j) => j.data.chatId === '501');
    expect(deliveries.map((j) => j.id).sort()).toEqual([stored[1]!.id, stored[3]!.id].map(deliverMessageJobId).sort());
  });

  it('when free text arrives and no Anthropic key is set, then the offline reply lists the commands and nothing goes to a model', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(502);
    telegram.sendUserMessage({ chatId: 502, from: { id: 502 }, text: 'what was our profit yesterday?' });
    const [reply] = await replies(gateway.db, 502, 1);
    expect(reply!.text).toContain('The agents are offline right now');
    expect(reply!.text).toContain('/pnl [today|yesterday|7d|30d|mtd|last-month]');
    const [question] = await chatMessages(gateway.db, 502, 'user');
    expect(question).toMatchObject({ text: 'what was our profit yesterday?', answeredAt: expect.any(Date) });
    expect(await gateway.jobs('agent-turns')).toEqual([]);
  });

  it('when /pnl yesterday is asked, then its figures are those of profitAndLoss for yesterday', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(503);
    const db = gateway.db;
    const yesterday = addDays(todayIn('UTC'), -1);
    const store = await createStore(db, { name: 'Nordic Home', currency: 'EUR', timezone: 'UTC' });
    await upsertDailyFinancials(db, store.id, yesterday, {
      revenue: '1234.50', discounts: '34.50', refunds: '10.00', cogs: '400.00', shippingCosts: '50.00', transactionFees: '20.25', orders: 17, units: 20,
    });
    await createAdSpend(db, { storeId: store.id, date: yesterday, platform: 'meta', amount: '210.00', currency: 'EUR' }, null);
    await createFixedCost(db, { name: 'Tools', category: 'software', amount: '310.00', currency: 'EUR', storeId: null, startMonth: yesterday.slice(0, 7) });

    telegram.sendUserMessage({ chatId: 503, from: { id: 503 }, text: '/pnl yesterday' });
    const [reply] = await replies(db, 503, 1);
    const report = await profitAndLoss(db, { from: yesterday, to: yesterday, groupBy: 'day' });
    expect(reply!.text).toBe(formatPnl('yesterday', { from: yesterday, to: yesterday }, 'EUR', report.totals));
    expect(reply!.text).toContain(`Net profit: ${report.totals.netProfit.replace(/\B(?=(\d{3})+(?!\d))/g, ',')} EUR`);
    expect(reply!.text).toContain('Revenue: 1,234.50 EUR');
  });

  it('when /remember, /memories and /forget with its buttons are used, then the memory is kept, listed and removed after confirming', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(504);
    const from = { id: 504 };
    telegram.sendUserMessage({ chatId: 504, from, text: '/remember Our supplier ships on Tuesdays & <Fridays>' });
    expect((await replies(gateway.db, 504, 1))[0]!.text).toBe('Remembered for the team: “Our supplier ships on Tuesdays &amp; &lt;Fridays&gt;”');
    const memory = await gateway.db.selectFrom('memories').selectAll().executeTakeFirstOrThrow();
    const [command] = (await chatMessages(gateway.db, 504)).filter((m) => m.role === 'user');
    expect(memory).toMatchObject({ scope: 'team', content: 'Our supplier ships on Tuesdays & <Fridays>', source_message_id: command!.id });
    const embedJob = () => gateway.jobs('embeddings').then((jobs) => jobs.find((j) => j.name === 'embed' && j.data.ids[0] === memory.id));
    await eventually(embedJob, 'the memory embedding job');

    // Its job lost (an enqueue that failed after the commit): saying it again queues it again.
    await gateway.removeJob('embeddings', (await embedJob())!.id!);
    telegram.sendUserMessage({ chatId: 504, from, text: '/remember our supplier ships on tuesdays & <fridays>!' });
    expect((await replies(gateway.db, 504, 2))[1]!.text).toContain('I already remember that for the team');
    await eventually(embedJob, 'the memory embedding job, queued again');

    telegram.sendUserMessage({ chatId: 504, from, text: '/memories' });
    expect((await replies(gateway.db, 504, 3))[2]!.text).toContain('1. Our supplier ships on Tuesdays &amp; &lt;Fridays&gt;');

    telegram.sendUserMessage({ chatId: 504, from, text: '/forget' });
    const picker = (await replies(gateway.db, 504, 4))[3]!;
    expect(picker.replyMarkup).toEqual({
      inline_keyboard: [
        [{ text: '1. Our supplier ships on Tuesdays & <Frida…', callback_data: `forget:pick:${memory.id}` }],
        [{ text: 'Cancel', callback_data: 'forget:no' }],
      ],
    });

    // The outbound worker is not running here: put the bot's message in the chat as it would.
    const sentPicker = await deliverAsBot(telegram, 504, picker);
    const press = telegram.sendCallback({ chatId: 504, from, messageId: sentPicker.message_id, data: `forget:pick:${memory.id}` });
    const confirm = (await replies(gateway.db, 504, 5))[4]!;
    expect(confirm.text).toContain('Forget “Our supplier ships');
    expect(telegram.sent.some((c) => c.method === 'answerCallbackQuery' && c.ok && c.params.callback_query_id === press.callback_query!.id)).toBe(true);

    const sentConfirm = await deliverAsBot(telegram, 504, confirm);
    telegram.sendCallback({ chatId: 504, from, messageId: sentConfirm.message_id, data: `forget:yes:${memory.id}` });
    expect((await replies(gateway.db, 504, 6))[5]!.text).toContain('Forgotten: “Our supplier ships');
    expect(await gateway.db.selectFrom('memories').select('id').execute()).toEqual([]);
    const events = await gateway.db.selectFrom('memory_events').select(['action', 'memory_id', 'reason']).orderBy('created_at').execute();
    expect(events).toEqual([
      { action: 'created', memory_id: null, reason: null },
      { action: 'refreshed', memory_id: null, reason: 'the same text was remembered again' },
      { action: 'deleted', memory_id: null, reason: '/forget by member504@dealdome.test' },
    ]);
  });

  it("when /memories or /forget is used in a group, then only the team's memories are shown there; a person's own show in their private chat", async () => {
    const { telegram } = await gateway.start();
    const member = await gateway.member(511);
    await createMemory(gateway.db, { scope: 'team', userId: null, content: 'Returns take 14 days' });
    await createMemory(gateway.db, { scope: 'user', userId: member.id, content: 'My bonus is tied to ROAS' });
    const group = { chatId: -100511, chatType: 'supergroup' as const, chatTitle: 'Team', from: { id: 511 } };

    telegram.sendUserMessage({ ...group, text: '/memories@dealdome_bot' });
    const listed = (await replies(gateway.db, -100511, 1))[0]!.text;
    expect(listed).toContain('Returns take 14 days');
    expect(listed).not.toContain('bonus');
    expect(listed).toContain('Your personal memories are shown only in a private chat with me.');

    telegram.sendUserMessage({ ...group, text: '/forget@dealdome_bot' });
    const picker = (await replies(gateway.db, -100511, 2))[1]!;
    expect(picker.text).not.toContain('bonus');
    expect(picker.replyMarkup).toEqual({ inline_keyboard: [[expect.objectContaining({ text: '1. Returns take 14 days' })], [{ text: 'Cancel', callback_data: 'forget:no' }]] });

    telegram.sendUserMessage({ chatId: 511, from: { id: 511 }, text: '/memories' });
    const own = (await replies(gateway.db, 511, 1))[0]!.text;
    expect(own).toContain('My bonus is tied to ROAS <i>(only you');
    expect(own).toContain('Returns take 14 days');
  });

  it('when /agent roos and then /elisa are sent, then the conversation’s agent switches each time', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(505);
    telegram.sendUserMessage({ chatId: 505, from: { id: 505 }, text: '/agent roos' });
    expect((await replies(gateway.db, 505, 1))[0]!.text).toBe('You are now talking to Roos, finance: P&amp;L, ROAS, products, ad spend, costs.');
    const agentOf = async () =>
      (await gateway.db.selectFrom('conversations').select('agent').where('chat_id', '=', '505').where('closed_at', 'is', null).executeTakeFirstOrThrow()).agent;
    expect(await agentOf()).toBe('roos');
    telegram.sendUserMessage({ chatId: 505, from: { id: 505 }, text: '/elisa' });
    await replies(gateway.db, 505, 2);
    expect(await agentOf()).toBe('elisa');
  });

  it('when /new is sent, then the open conversation is closed and the reply starts a new one with the same agent', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(506);
    telegram.sendUserMessage({ chatId: 506, from: { id: 506 }, text: '/roos' });
    await replies(gateway.db, 506, 1);
    telegram.sendUserMessage({ chatId: 506, from: { id: 506 }, text: '/new' });
    const reply = (await replies(gateway.db, 506, 2))[1]!;
    expect(reply.text).toBe('New conversation started with Roos. Earlier messages are no longer part of it.');
    const conversations = await gateway.db
      .selectFrom('conversations')
      .select(['id', 'agent', 'closed_at'])
      .where('chat_id', '=', '506')
      .orderBy('started_at')
      .execute();
    expect(conversations).toEqual([
      { id: expect.any(String), agent: 'roos', closed_at: expect.any(Date) },
      { id: reply.conversationId, agent: 'roos', closed_at: null },
    ]);
  });

  it('when plain text is written in a group, then it is ignored; a command or a mention there is answered', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(507);
    const group = { chatId: -100507, chatType: 'supergroup' as const, chatTitle: 'Team', from: { id: 507 } };
    const chatter = telegram.sendUserMessage({ ...group, text: 'lunch at noon?' });
    const otherBot = telegram.sendUserMessage({ ...group, text: '/help@some_other_bot' });
    await processed(gateway.db, otherBot.update_id);
    await processed(gateway.db, chatter.update_id);
    expect(await chatMessages(gateway.db, -100507)).toEqual([]);

    telegram.sendUserMessage({ ...group, text: '/help@dealdome_bot' });
    expect((await replies(gateway.db, -100507, 1))[0]!.text).toContain('these commands work');
    telegram.sendUserMessage({ ...group, text: '@dealdome_bot how are sales?' });
    expect((await replies(gateway.db, -100507, 2))[1]!.text).toContain('The agents are offline right now');
    expect((await chatMessages(gateway.db, -100507, 'user')).map((m) => m.text)).toEqual(['/help@dealdome_bot', '@dealdome_bot how are sales?']);
  });

  it('when /cancel is sent, then waiting messages are marked answered so no agent turn picks them up', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(508);
    telegram.sendUserMessage({ chatId: 508, from: { id: 508 }, text: '/cancel' });
    expect((await replies(gateway.db, 508, 1))[0]!.text).toBe('Nothing is waiting for an answer.');
  });

  it('when /usage is asked, then tokens and cost of the month are shown per agent and per person', async () => {
    const { telegram } = await gateway.start();
    const member = await gateway.member(509, 'uma@dealdome.test', 'Uma');
    const conversation = await gateway.db
      .insertInto('conversations')
      .values({ chat_id: '5099', user_id: member.id, agent: 'roos' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await gateway.db
      .insertInto('messages')
      .values([
        { conversation_id: conversation.id, role: 'assistant', agent: 'roos', content: sql`'[]'::jsonb`, input_tokens: 1200, output_tokens: 300, cost_usd: '0.012345' },
        { conversation_id: conversation.id, role: 'assistant', agent: 'roos', content: sql`'[]'::jsonb`, input_tokens: 800, output_tokens: 200, cost_usd: '0.007655' },
      ])
      .execute();
    telegram.sendUserMessage({ chatId: 509, from: { id: 509 }, text: '/usage' });
    const [reply] = await replies(gateway.db, 509, 1);
    expect(reply!.text).toContain('Roos: 2,000 in / 500 out tokens · $0.0200 (2 replies)');
    expect(reply!.text).toContain('Uma: 2,000 in / 500 out tokens · $0.0200 (2 replies)');
  });

  it('when an update was recorded but the process stopped before handling it, then the sweep at start handles it once', async () => {
    await gateway.member(510);
    const update = {
      update_id: 990_001,
      message: { message_id: 1, date: 0, chat: { id: 510, type: 'private' }, from: { id: 510, is_bot: false, first_name: 'M' }, text: '/help', entities: [{ type: 'bot_command', offset: 0, length: 5 }] },
    };
    await gateway.db
      .insertInto('telegram_updates')
      .values({ update_id: '990001', chat_id: '510', payload: sql`${JSON.stringify(update)}::jsonb`, received_at: new Date(Date.now() - 5 * 60_000) })
      .execute();
    await gateway.start();
    await processed(gateway.db, 990_001);
    const stored = await chatMessages(gateway.db, 510);
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant']);
  });
});

describe('bot-gateway intake with the agents online', () => {
  it('when three messages arrive quickly, then they are stored in order and each queues a run-turn whose id derives from its message', async () => {
    const { telegram } = await gateway.start({ ANTHROPIC_API_KEY: 'test-key' });
    await gateway.member(601);
    const texts = ['first question', 'second thought', 'third, and last'];
    const updates = texts.map((text) => telegram.sendUserMessage({ chatId: 601, from: { id: 601 }, text }));
    await processed(gateway.db, updates[2]!.update_id);

    const stored = await chatMessages(gateway.db, 601);
    expect(stored.map((m) => [m.role, m.text, m.answeredAt])).toEqual(texts.map((t) => ['user', t, null]));
    const turns = await gateway.jobs('agent-turns');
    expect(turns.map((j) => j.id).sort()).toEqual(stored.map((m) => runTurnJobId(m.id)).sort());
    for (const job of turns) {
      const message = stored.find((m) => runTurnJobId(m.id) === job.id)!;
      expect(job.data).toMatchObject({ chatId: '601', conversationId: message.conversationId, messageIds: [message.id] });
    }
    expect((await gateway.jobs('telegram-outbound')).filter((j) => j.data.chatId === '601')).toEqual([]);
  });
});
