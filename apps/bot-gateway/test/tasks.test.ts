import { createScheduledTask, formatLocalTime, nextRunAt, reminderExamples } from '@dealdome/domain';
import type { FakeTelegram, TelegramMessage } from '@dealdome/testkit';
import { chatMessages, deliverAsBot, eventually, processed, replies, useGateway } from './harness';

const gateway = useGateway();
const AMSTERDAM = 'Europe/Amsterdam';

beforeAll(async () => {
  await gateway.db.insertInto('settings').values({ key: 'team.timezone', value: JSON.stringify(AMSTERDAM) }).execute();
});

const taskRow = (id: string) => gateway.db.selectFrom('scheduled_tasks').selectAll().where('id', '=', id).executeTakeFirst();
const tasksOfChat = (chatId: number) =>
  gateway.db.selectFrom('scheduled_tasks').selectAll().where('chat_id', '=', String(chatId)).orderBy('created_at').execute();

/** The bot's message in the fake chat as it is now (edits included). */
function messageNow(telegram: FakeTelegram, chatId: number, messageId: number) {
  const message = telegram.messages(chatId).find((m) => m.message_id === messageId);
  if (!message) throw new Error(`chat ${chatId} has no message ${messageId}`);
  return message;
}

const buttonsOf = (message: TelegramMessage) => (message.reply_markup?.inline_keyboard ?? []).map((row) => row.map((b) => [b.text, b.callback_data]));

/** Waits until the message has been edited into something that contains `text`. */
function editedTo(telegram: FakeTelegram, chatId: number, messageId: number, text: string) {
  return eventually(async () => {
    const message = messageNow(telegram, chatId, messageId);
    return message.edit_date !== undefined && (message.text ?? '').includes(text) ? message : undefined;
  }, `message ${messageId} edited to show "${text}"`);
}

describe('/remind', () => {
  it('when "/remind in 2h …" is sent, then a reminder runs two hours later in this chat, created by the member, and the reply says when', async () => {
    const { telegram } = await gateway.start();
    const member = await gateway.member(801);
    const before = Date.now();
    telegram.sendUserMessage({ chatId: 801, from: { id: 801 }, text: '/remind in 2h check the ad budget & <ROAS>' });
    const [reply] = await replies(gateway.db, 801, 1);
    const after = Date.now();

    const [task] = await tasksOfChat(801);
    expect(task).toMatchObject({
      kind: 'reminder',
      chat_id: '801',
      created_by: member.id,
      cron_expression: null,
      timezone: AMSTERDAM,
      enabled: true,
      payload: { text: 'check the ad budget & <ROAS>' },
    });
    const next = task!.next_run_at!.getTime();
    expect(next).toBeGreaterThanOrEqual(before + 2 * 3_600_000);
    expect(next).toBeLessThanOrEqual(after + 2 * 3_600_000);
    expect(task!.run_at).toEqual(task!.next_run_at);
    expect(reply!.text).toContain(`I will remind this chat on <b>${formatLocalTime(task!.next_run_at!, AMSTERDAM)}</b> (Europe/Amsterdam):`);
    expect(reply!.text).toContain('check the ad budget &amp; &lt;ROAS&gt;');
  });

  it('when "/remind every monday 8:30 …" is sent, then the cron runs in the team’s zone and the reply says it in words', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(802);
    const before = new Date();
    telegram.sendUserMessage({ chatId: 802, from: { id: 802 }, text: '/remind every monday 8:30 weekly stand-up' });
    const [reply] = await replies(gateway.db, 802, 1);

    const [task] = await tasksOfChat(802);
    expect(task).toMatchObject({ cron_expression: '30 8 * * 1', timezone: AMSTERDAM, run_at: null, payload: { text: 'weekly stand-up' } });
    expect(task!.next_run_at).toEqual(nextRunAt('30 8 * * 1', AMSTERDAM, before));
    expect(reply!.text).toContain('I will remind this chat <b>every Monday at 08:30</b> (Europe/Amsterdam):\nweekly stand-up');
    expect(reply!.text).toContain(`First time: ${formatLocalTime(task!.next_run_at!, AMSTERDAM)}. Schedule: <code>30 8 * * 1</code>`);
  });

  it('when /remind comes alone or with a phrase it cannot read, then it answers with examples and stores nothing', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(803);
    telegram.sendUserMessage({ chatId: 803, from: { id: 803 }, text: '/remind' });
    const [usage] = await replies(gateway.db, 803, 1);
    expect(usage!.text.split('\n')[0]).toBe('Tell me when, then what. For example:');
    for (const example of reminderExamples) expect(usage!.text).toContain(`/remind ${example.replace(/&/g, '&amp;')}`);
    expect(usage!.text).toContain('Times are read in the team’s time zone, Europe/Amsterdam.');

    telegram.sendUserMessage({ chatId: 803, from: { id: 803 }, text: '/remind yesterday 9:00 call the bank' });
    telegram.sendUserMessage({ chatId: 803, from: { id: 803 }, text: '/remind tomorrow call the bank' });
    const [, past, noTime] = await replies(gateway.db, 803, 3);
    expect(past!.text).toMatch(/^"yesterday 9:00" is .*, which has passed: it is .* in Europe\/Amsterdam now\. Name a later time\.\n\nTell me when/);
    expect(noTime!.text.split('\n')[0]).toBe('"tomorrow" names a day but no time; add one, such as "tomorrow 9:00".');
    expect(await tasksOfChat(803)).toEqual([]);
  });

  it('when /help is asked, then /remind and /tasks are listed', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(804);
    telegram.sendUserMessage({ chatId: 804, from: { id: 804 }, text: '/help' });
    const [help] = await replies(gateway.db, 804, 1);
    expect(help!.text).toContain('/remind when what — set a reminder for this chat');
    expect(help!.text).toContain('/tasks — this chat’s reminders and scheduled tasks');
  });
});

describe('/tasks and its buttons', () => {
  async function seed(chatId: number) {
    const now = new Date();
    const once = await createScheduledTask(gateway.db, {
      kind: 'reminder',
      chatId: String(chatId),
      runAt: new Date(now.getTime() + 3 * 3_600_000),
      timezone: AMSTERDAM,
      payload: { text: 'call the supplier' },
    });
    const weekly = await createScheduledTask(gateway.db, {
      kind: 'reminder',
      chatId: String(chatId),
      cronExpression: '0 8 * * 1-5',
      timezone: AMSTERDAM,
      payload: { text: 'answer tickets' },
    });
    const check = await createScheduledTask(gateway.db, {
      kind: 'agent_check',
      agent: 'roos',
      chatId: String(chatId),
      cronExpression: '0 9 * * *',
      timezone: 'UTC',
      payload: { prompt: 'alert if yesterday’s ROAS was below 1.5' },
    });
    return { once, weekly, check };
  }

  /** Sends /tasks, puts the bot's answer into the fake chat as the outbound worker would, and returns it. */
  async function listInChat(telegram: FakeTelegram, chatId: number, replyCount: number) {
    telegram.sendUserMessage({ chatId, from: { id: chatId }, text: '/tasks' });
    const list = (await replies(gateway.db, chatId, replyCount)).at(-1)!;
    return { list, sent: await deliverAsBot(telegram, chatId, list) };
  }

  it('when /tasks is asked, then this chat’s tasks are listed with their schedule, next run and buttons, and no other chat’s', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(811);
    const { once, weekly, check } = await seed(811);
    await seed(812);

    const { list } = await listInChat(telegram, 811, 1);
    const lines = list.text.split('\n');
    expect(lines[0]).toBe('<b>Scheduled tasks in this chat</b> (times in Europe/Amsterdam)');
    expect(lines.slice(1)).toEqual([
      '1. ⏰ call the supplier',
      `    <i>once · next ${formatLocalTime(once.nextRunAt!, AMSTERDAM)}</i>`,
      '2. ⏰ answer tickets',
      `    <i>every weekday (Monday to Friday) at 08:00 · next ${formatLocalTime(weekly.nextRunAt!, AMSTERDAM)}</i>`,
      '3. 🔎 Roos checks: alert if yesterday’s ROAS was below 1.5',
      `    <i>every day at 09:00 (UTC) · next ${formatLocalTime(check.nextRunAt!, AMSTERDAM)}</i>`,
    ]);
    expect(list.replyMarkup).toEqual({
      inline_keyboard: [once, weekly, check].map((t, i) => [
        { text: `⏸ Pause ${i + 1}`, callback_data: `tasks:pause:${t.id}` },
        { text: `🗑 Delete ${i + 1}`, callback_data: `tasks:delete:${t.id}` },
      ]),
    });
  });

  it('when Pause and then Resume are pressed, then the task is disabled and enabled again and the list is edited in place each time', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(813);
    const { weekly } = await seed(813);
    const { sent } = await listInChat(telegram, 813, 1);

    const press = telegram.sendCallback({ chatId: 813, from: { id: 813 }, messageId: sent.message_id, data: `tasks:pause:${weekly.id}` });
    const edited = await editedTo(telegram, 813, sent.message_id, 'Paused: ⏰ answer tickets');
    expect((await taskRow(weekly.id))!.enabled).toBe(false);
    expect(edited.text).toContain('2. ⏰ answer tickets\n    every weekday (Monday to Friday) at 08:00 · ⏸ paused');
    expect(buttonsOf(edited)[1]).toEqual([
      ['▶️ Resume 2', `tasks:resume:${weekly.id}`],
      ['🗑 Delete 2', `tasks:delete:${weekly.id}`],
    ]);
    // The press was answered (the spinner stops), and no new message was written: the list changed in place.
    const answer = telegram.sent.find((c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === press.callback_query!.id);
    const edit = telegram.sent.find((c) => c.method === 'editMessageText' && c.ok);
    expect(answer?.ok).toBe(true);
    expect(telegram.sent.indexOf(answer!)).toBeLessThan(telegram.sent.indexOf(edit!));
    expect(await chatMessages(gateway.db, 813, 'assistant')).toHaveLength(1);

    telegram.sendCallback({ chatId: 813, from: { id: 813 }, messageId: sent.message_id, data: `tasks:resume:${weekly.id}` });
    const resumed = await editedTo(telegram, 813, sent.message_id, 'Resumed: ⏰ answer tickets');
    const row = (await taskRow(weekly.id))!;
    expect(row.enabled).toBe(true);
    expect(row.next_run_at!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(buttonsOf(resumed)[1]![0]).toEqual(['⏸ Pause 2', `tasks:pause:${weekly.id}`]);
  });

  it('when Delete is pressed, then it asks first; "No" keeps the task and "Yes" removes it, the list edited each time', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(814);
    const { once, weekly, check } = await seed(814);
    const { sent } = await listInChat(telegram, 814, 1);
    const from = { id: 814 };

    telegram.sendCallback({ chatId: 814, from, messageId: sent.message_id, data: `tasks:delete:${once.id}` });
    const asking = await editedTo(telegram, 814, sent.message_id, 'Delete this task? This cannot be undone.');
    expect(asking.text).toContain('⏰ call the supplier');
    expect(buttonsOf(asking)).toEqual([
      [
        ['Yes, delete it', `tasks:yes:${once.id}`],
        ['No, keep it', 'tasks:list'],
      ],
    ]);
    expect(await taskRow(once.id)).toBeDefined();

    telegram.sendCallback({ chatId: 814, from, messageId: sent.message_id, data: 'tasks:list' });
    await editedTo(telegram, 814, sent.message_id, 'Nothing was deleted.');
    expect(await taskRow(once.id)).toBeDefined();

    telegram.sendCallback({ chatId: 814, from, messageId: sent.message_id, data: `tasks:delete:${once.id}` });
    await editedTo(telegram, 814, sent.message_id, 'Delete this task?');
    telegram.sendCallback({ chatId: 814, from, messageId: sent.message_id, data: `tasks:yes:${once.id}` });
    const after = await editedTo(telegram, 814, sent.message_id, 'Deleted: ⏰ call the supplier');
    expect(await taskRow(once.id)).toBeUndefined();
    expect((after.text ?? '').split('\n').filter((line) => /^\d+\. /.test(line))).toEqual([
      '1. ⏰ answer tickets',
      '2. 🔎 Roos checks: alert if yesterday’s ROAS was below 1.5',
    ]);
    expect(buttonsOf(after)).toEqual([
      [
        ['⏸ Pause 1', `tasks:pause:${weekly.id}`],
        ['🗑 Delete 1', `tasks:delete:${weekly.id}`],
      ],
      [
        ['⏸ Pause 2', `tasks:pause:${check.id}`],
        ['🗑 Delete 2', `tasks:delete:${check.id}`],
      ],
    ]);
  });

  it('when a button names a task of another chat (a forged callback), then that task is not touched', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(815);
    await seed(815);
    const { weekly: theirs } = await seed(816);
    const from = { id: 815 };

    // Messages in chat 815 whose buttons were made to name chat 816's task; each is pressed.
    telegram.addChat({ id: 815 });
    const pressForged = async (data: string) => {
      const forged = await deliverAsBot(telegram, 815, { text: 'Scheduled tasks', replyMarkup: { inline_keyboard: [[{ text: 'Press', callback_data: data }]] } });
      const press = telegram.sendCallback({ chatId: 815, from, messageId: forged.message_id, data });
      await processed(gateway.db, press.update_id);
      return messageNow(telegram, 815, forged.message_id);
    };
    const afterPause = await pressForged(`tasks:pause:${theirs.id}`);
    await pressForged(`tasks:resume:${theirs.id}`);
    await pressForged(`tasks:delete:${theirs.id}`);
    await pressForged(`tasks:yes:${theirs.id}`);

    expect(await taskRow(theirs.id)).toMatchObject({ enabled: true, chat_id: '816' });
    expect((await taskRow(theirs.id))!.updated_at).toEqual(theirs.updatedAt);
    // What the chat is shown is its own list, with a word on why nothing happened.
    expect(afterPause.text).toContain('That task is no longer in this chat’s list.');
    expect(afterPause.text).toContain('1. ⏰ call the supplier');
    expect(buttonsOf(afterPause).flat().some(([, data]) => data?.includes(theirs.id))).toBe(false);
  });

  it('when someone not on the team presses a task button, then nothing changes', async () => {
    const { telegram } = await gateway.start();
    await gateway.member(817);
    const { weekly } = await seed(817);
    const { sent } = await listInChat(telegram, 817, 1);

    // A stranger in the same (group) chat presses Pause.
    const press = telegram.sendCallback({ chatId: 817, from: { id: 9817 }, messageId: sent.message_id, data: `tasks:pause:${weekly.id}` });
    await processed(gateway.db, press.update_id);
    expect((await taskRow(weekly.id))!.enabled).toBe(true);
    expect(messageNow(telegram, 817, sent.message_id).edit_date).toBeUndefined();
  });
});
