import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Api, Bot, InlineKeyboardBuilder, InputFile, TelegramApiError } from 'node-telegram-bot-api';
import { createWebhookServer } from 'node-telegram-bot-api/node';
import { FakeTelegram, parseTelegramHtml, repoRoot } from '../src';

const TOKEN = '123456:test-token';
const alice = { id: 501, first_name: 'Alice', username: 'alice' };

describe('fake Telegram Bot API', () => {
  let fake: FakeTelegram;
  const bots: Bot[] = [];

  beforeEach(async () => {
    fake = await FakeTelegram.start({ token: TOKEN, webhookRetryDelayMs: 20 });
  });

  afterEach(async () => {
    for (const bot of bots.splice(0)) bot.stop();
    await fake.close();
  });

  const api = (options: { maxRetries?: number } = {}) => new Api(TOKEN, { apiRoot: fake.url, ...options });

  function pollingBot(setup: (bot: Bot) => void): Promise<void> {
    const bot = new Bot(TOKEN, { apiRoot: fake.url });
    setup(bot);
    bots.push(bot);
    return bot.startPolling(undefined, { timeout: 5 });
  }

  it('when a user writes to a polling bot, then the bot receives the message and its reply lands in sent', async () => {
    const polling = pollingBot((bot) => bot.on('message', (ctx) => ctx.reply(`echo: ${ctx.message?.text ?? ''}`)));

    const update = fake.sendUserMessage({ chatId: alice.id, from: alice, text: 'hello' });
    const call = await fake.waitForSent((c) => c.method === 'sendMessage');

    expect(update.update_id).toBe(1);
    expect(call).toMatchObject({ ok: true, chatId: alice.id, params: { chat_id: alice.id, text: 'echo: hello' } });
    expect(fake.messages(alice.id).map((m) => [m.message_id, m.from?.is_bot, m.text])).toEqual([
      [1, false, 'hello'],
      [2, true, 'echo: hello'],
    ]);
    bots[0]?.stop();
    await polling;
  });

  it('when updates are fetched again with an offset, then the earlier ones are confirmed and not handed out again', async () => {
    const first = fake.sendUserMessage({ chatId: alice.id, from: alice, text: 'one' });
    const second = fake.sendUserMessage({ chatId: alice.id, from: alice, text: '/start now' });

    const unconfirmed = await api().getUpdates({ timeout: 0 });
    const again = await api().getUpdates({ timeout: 0 });
    const afterFirst = await api().getUpdates({ offset: first.update_id + 1, timeout: 0 });
    const afterBoth = await api().getUpdates({ offset: second.update_id + 1, timeout: 0 });

    expect(unconfirmed.map((u) => u.update_id)).toEqual([1, 2]);
    expect(again.map((u) => u.update_id)).toEqual([1, 2]);
    expect(afterFirst.map((u) => u.update_id)).toEqual([2]);
    expect((afterFirst[0] as { message?: { entities?: unknown } }).message?.entities).toEqual([
      { type: 'bot_command', offset: 0, length: 6 },
    ]);
    expect(afterBoth).toEqual([]);
    expect(fake.pendingUpdates).toEqual([]);
  });

  it('when an update is redelivered, then the bot gets the same update_id again although it confirmed it', async () => {
    const update = fake.sendUserMessage({ chatId: alice.id, from: alice, text: 'pay invoice 7' });
    await api().getUpdates({ timeout: 0 });
    await api().getUpdates({ offset: update.update_id + 1, timeout: 0 });

    fake.redeliver(update);
    const redelivered = await api().getUpdates({ offset: update.update_id + 1, timeout: 0 });

    expect(redelivered).toEqual([update]);
  });

  it('when a long poll is waiting, then an update arriving ends it at once', async () => {
    const started = Date.now();
    const polling = api().getUpdates({ timeout: 20 });
    setTimeout(() => fake.sendUserMessage({ chatId: alice.id, from: alice, text: 'late' }), 150);

    const updates = await polling;

    expect(updates.map((u) => ('message' in u ? u.message.text : undefined))).toEqual(['late']);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('when a second getUpdates starts while one waits, then the first ends with 409 Conflict', async () => {
    const older = api({ maxRetries: 0 }).getUpdates({ timeout: 20 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const newer = api().getUpdates({ timeout: 0 });

    await expect(older).rejects.toMatchObject({
      errorCode: 409,
      description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
    });
    await expect(newer).resolves.toEqual([]);
  });

  it('when Telegram answers 429, then the client error carries retry_after', async () => {
    fake.addChat({ id: alice.id });
    fake.injectError('sendMessage', { status: 429, retryAfter: 7 });

    const error = await api({ maxRetries: 0 })
      .sendMessage({ chat_id: alice.id, text: 'hi' })
      .catch((err: unknown) => err);

    expect(error).toBeInstanceOf(TelegramApiError);
    expect(error).toMatchObject({ errorCode: 429, retryAfter: 7, description: 'Too Many Requests: retry after 7' });
    expect(fake.messages(alice.id)).toEqual([]);
  });

  it('when Telegram answers 429 once and the client may retry, then it waits retry_after and the message is sent', async () => {
    fake.addChat({ id: alice.id });
    fake.injectError('sendMessage', { status: 429, retryAfter: 1 });

    const sent = await api().sendMessage({ chat_id: alice.id, text: 'second time lucky' });

    const attempts = fake.sent.filter((c) => c.method === 'sendMessage');
    expect(attempts.map((c) => c.ok)).toEqual([false, true]);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(sent.text).toBe('second time lucky');
  });

  it('when Telegram answers 429 for a period, then every send fails until it is over and only sends of that method', async () => {
    fake.addChat({ id: alice.id });
    fake.injectError('sendMessage', { status: 429, retryAfter: 1 }, { forMs: 300 });
    const send = () =>
      api({ maxRetries: 0 })
        .sendMessage({ chat_id: alice.id, text: 'hi' })
        .then(() => 'sent', (err: unknown) => (err as TelegramApiError).errorCode);

    const during = [await send(), await send()];
    await api().sendChatAction({ chat_id: alice.id, action: 'typing' });
    await new Promise((r) => setTimeout(r, 350));

    expect(during).toEqual([429, 429]);
    expect(await send()).toBe('sent');
  });

  it('when HTML is malformed, then sendMessage fails with Telegram\'s 400 "can\'t parse entities"', async () => {
    fake.addChat({ id: alice.id });
    const send = (text: string) =>
      api({ maxRetries: 0 })
        .sendMessage({ chat_id: alice.id, text, parse_mode: 'HTML' })
        .then(
          () => 'sent',
          (err: TelegramApiError) => `${err.errorCode} ${err.description}`,
        );

    expect(await send('<b>total')).toBe("400 Bad Request: can't parse entities: Can't find end tag corresponding to start tag b");
    expect(await send('Revenue <blink>up</blink>')).toBe(
      '400 Bad Request: can\'t parse entities: Unsupported start tag "blink" at byte offset 8',
    );
    expect(await send('margin < 5%')).toBe('400 Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 7');
    expect(await send('<b>x</i>')).toBe(
      '400 Bad Request: can\'t parse entities: Unmatched end tag at byte offset 4, expected "</b>", found "</i>"',
    );
    expect(await send('<b>bold</b> &amp; <a href="https://example.com/p?a=1&amp;b=2">link</a>')).toBe('sent');
    expect(fake.messages(alice.id)[0]).toMatchObject({
      text: 'bold & link',
      entities: [
        { type: 'bold', offset: 0, length: 4 },
        { type: 'text_link', offset: 7, length: 4, url: 'https://example.com/p?a=1&b=2' },
      ],
    });
  });

  it('when HTML carries a bare "&", then Telegram keeps it as text unless the fake is strict', async () => {
    expect(parseTelegramHtml('Q&A &laquo;x&raquo;').text).toBe('Q&A &laquo;x&raquo;');
    expect(() => parseTelegramHtml('Q&A', { strictAmpersand: true })).toThrow('Unescaped "&" at byte offset 1');
    expect(parseTelegramHtml('🏟 <i>x</i>').entities).toEqual([{ type: 'italic', offset: 3, length: 1 }]);
  });

  it("when HTML uses Telegram's richer tags, then the entities come out as Telegram reports them", () => {
    expect(parseTelegramHtml('<pre><code class="language-sql">SELECT 1</code></pre>').entities).toEqual([
      { type: 'pre', offset: 0, length: 8, language: 'sql' },
    ]);
    expect(
      parseTelegramHtml('<tg-spoiler>a</tg-spoiler><span class="tg-spoiler">b</span><blockquote expandable>c</blockquote>')
        .entities,
    ).toEqual([
      { type: 'spoiler', offset: 0, length: 1 },
      { type: 'spoiler', offset: 1, length: 1 },
      { type: 'blockquote', offset: 2, length: 1 },
    ]);
    expect(parseTelegramHtml('<a href="tg://user?id=501">Alice</a> <a href="not a link">x</a>').entities).toEqual([
      { type: 'text_mention', offset: 0, length: 5, user: { id: 501 } },
    ]);
    expect(() => parseTelegramHtml('<span>x</span>')).toThrow('Tag "span" must have class "tg-spoiler" at byte offset 0');
    expect(() => parseTelegramHtml('x</b>')).toThrow('Unexpected end tag at byte offset 1');
    expect(() => parseTelegramHtml('<a href')).toThrow('Unclosed start tag "a" at byte offset 0');
  });

  it('when text is empty or over 4096 characters after parsing, then sendMessage fails as in Telegram', async () => {
    fake.addChat({ id: alice.id });
    const client = api({ maxRetries: 0 });

    await expect(client.sendMessage({ chat_id: alice.id, text: '<b> </b>', parse_mode: 'HTML' })).rejects.toMatchObject({
      description: 'Bad Request: message text is empty',
    });
    await expect(client.sendMessage({ chat_id: alice.id, text: 'x'.repeat(4097) })).rejects.toMatchObject({
      description: 'Bad Request: message is too long',
    });
    await expect(
      client.sendMessage({ chat_id: alice.id, text: `<b>${'x'.repeat(4096)}</b>`, parse_mode: 'HTML' }),
    ).resolves.toMatchObject({
      text: 'x'.repeat(4096),
    });
    await expect(client.sendMessage({ chat_id: 999, text: 'who?' })).rejects.toMatchObject({
      description: 'Bad Request: chat not found',
    });
  });

  it('when the bot sends an inline keyboard and the user presses a button, then the callback arrives and can be answered once', async () => {
    let answered = 0;
    const polling = pollingBot((bot) => {
      bot.on('message', (ctx) =>
        ctx.reply('Approve the refund?', {
          reply_markup: new InlineKeyboardBuilder().text('Approve', 'refund:42:yes').text('Reject', 'refund:42:no').build(),
        }),
      );
      bot.on('callback_query', async (ctx) => {
        await ctx.answerCallbackQuery({ text: 'Approved' });
        answered += 1;
      });
    });
    fake.sendUserMessage({ chatId: alice.id, from: alice, text: 'refund 42' });
    const prompt = await fake.waitForSent((c) => c.method === 'sendMessage');
    const promptMessage = prompt.result as { message_id: number; reply_markup: unknown };

    const callback = fake.sendCallback({
      chatId: alice.id,
      from: alice,
      messageId: promptMessage.message_id,
      data: 'refund:42:yes',
    });
    const answer = await fake.waitForSent((c) => c.method === 'answerCallbackQuery');
    const second = await api({ maxRetries: 0 })
      .answerCallbackQuery({ callback_query_id: callback.callback_query?.id ?? '' })
      .catch((err: TelegramApiError) => err.description);

    expect(promptMessage.reply_markup).toEqual({
      inline_keyboard: [
        [
          { text: 'Approve', callback_data: 'refund:42:yes' },
          { text: 'Reject', callback_data: 'refund:42:no' },
        ],
      ],
    });
    expect(answer.params).toEqual({ callback_query_id: callback.callback_query?.id, text: 'Approved' });
    expect(answered).toBe(1);
    expect(second).toBe('Bad Request: query is too old and response timeout expired or query ID is invalid');
    expect(() =>
      fake.sendCallback({ chatId: alice.id, from: alice, messageId: promptMessage.message_id, data: 'refund:43:yes' }),
    ).toThrow(/no button with callback_data/);
    bots[0]?.stop();
    await polling;
  });

  it('when callback_data is over 64 bytes, then sendMessage fails with BUTTON_DATA_INVALID', async () => {
    fake.addChat({ id: alice.id });
    const keyboard = new InlineKeyboardBuilder().text('Go', 'x'.repeat(65)).build();

    await expect(
      api({ maxRetries: 0 }).sendMessage({ chat_id: alice.id, text: 'pick', reply_markup: keyboard }),
    ).rejects.toMatchObject({ errorCode: 400, description: 'Bad Request: BUTTON_DATA_INVALID' });
  });

  it('when the bot edits its message, then the chat shows the new text and an identical edit is refused', async () => {
    fake.addChat({ id: alice.id });
    const client = api({ maxRetries: 0 });
    const draft = await client.sendMessage({ chat_id: alice.id, text: 'Thinking…' });

    const edited = await client.editMessageText({
      chat_id: alice.id,
      message_id: draft.message_id,
      text: 'Revenue: 1 200.00 EUR',
    });
    const same = client.editMessageText({ chat_id: alice.id, message_id: draft.message_id, text: 'Revenue: 1 200.00 EUR' });

    expect(edited).toMatchObject({ message_id: draft.message_id, text: 'Revenue: 1 200.00 EUR', edit_date: expect.any(Number) });
    await expect(same).rejects.toMatchObject({ description: expect.stringMatching(/^Bad Request: message is not modified/) });
    expect(fake.messages(alice.id).map((m) => m.text)).toEqual(['Revenue: 1 200.00 EUR']);
  });

  it('when the bot sets a webhook with a secret, then updates are POSTed with the secret header and retried on failure', async () => {
    const received: { secret: string | undefined; updateId: number }[] = [];
    let failuresLeft = 1;
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const secret = req.headers['x-telegram-bot-api-secret-token'];
        received.push({
          secret: typeof secret === 'string' ? secret : undefined,
          updateId: (JSON.parse(body) as { update_id: number }).update_id,
        });
        res.statusCode = failuresLeft-- > 0 ? 500 : 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      const client = api({ maxRetries: 0 });
      await client.setWebhook({
        url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/tg`,
        secret_token: 'hook_secret-1',
      });

      const update = fake.sendUserMessage({ chatId: alice.id, from: alice, text: 'via webhook' });
      await waitUntil(() => fake.webhookDeliveries.some((d) => d.status === 200));

      expect(received).toEqual([
        { secret: 'hook_secret-1', updateId: update.update_id },
        { secret: 'hook_secret-1', updateId: update.update_id },
      ]);
      expect(fake.webhookDeliveries.map((d) => [d.attempt, d.status])).toEqual([
        [1, 500],
        [2, 200],
      ]);
      expect(fake.webhookInfo).toMatchObject({ pending_update_count: 0 });
      await expect(client.getUpdates({ timeout: 0 })).rejects.toMatchObject({ errorCode: 409 });
      await client.deleteWebhook({});
      await expect(client.getUpdates({ timeout: 0 })).resolves.toEqual([]);
    } finally {
      hook.closeAllConnections();
      await new Promise((resolve) => hook.close(resolve));
    }
  });

  it("when the library's own webhook server receives the update, then its handler's reply lands in sent", async () => {
    const bot = new Bot(TOKEN, { apiRoot: fake.url });
    bot.on('message', (ctx) => ctx.reply('got it'));
    const server = createWebhookServer(bot, { path: '/telegram', secretToken: 'ww_secret' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await bot.api.setWebhook({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/telegram`,
        secret_token: 'ww_secret',
      });
      fake.sendUserMessage({ chatId: alice.id, from: alice, text: 'hi' });

      const reply = await fake.waitForSent((c) => c.method === 'sendMessage');

      expect(reply.params).toMatchObject({ chat_id: alice.id, text: 'got it' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('when the bot downloads a document a user sent, then getFile gives a path that serves its content', async () => {
    const update = fake.sendDocument({
      chatId: alice.id,
      from: alice,
      fileName: 'orders.csv',
      mimeType: 'text/csv',
      content: 'id,total\n1,19.90\n',
      caption: 'May orders',
    });
    const document = update.message?.document;

    const file = await api().getFile({ file_id: document?.file_id ?? '' });
    const download = await fetch(`${fake.url}/file/bot${TOKEN}/${file.file_path}`);

    expect(document).toMatchObject({ file_name: 'orders.csv', mime_type: 'text/csv', file_size: 17 });
    expect(file).toMatchObject({
      file_id: document?.file_id,
      file_size: 17,
      file_path: expect.stringMatching(/^documents\/file_\d+\.csv$/),
    });
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('id,total\n1,19.90\n');
    expect((await fetch(`${fake.url}/file/botother:token/${file.file_path}`)).status).toBe(401);
  });

  it('when a file is over 20 MB, then getFile fails with "file is too big"', async () => {
    const update = fake.sendDocument({
      chatId: alice.id,
      from: alice,
      fileName: 'dump.zip',
      content: 'zip',
      fileSize: 20 * 1024 * 1024 + 1,
    });

    await expect(api({ maxRetries: 0 }).getFile({ file_id: update.message?.document?.file_id ?? '' })).rejects.toMatchObject({
      errorCode: 400,
      description: 'Bad Request: file is too big',
    });
  });

  it('when the bot uploads a document, then the multipart upload is stored and downloadable', async () => {
    fake.addChat({ id: alice.id });
    const client = api();

    const message = await client.sendDocument({
      chat_id: alice.id,
      document: new InputFile(new TextEncoder().encode('%PDF-1.7 report'), {
        filename: 'report.pdf',
        contentType: 'application/pdf',
      }),
      caption: '<b>Weekly</b> report',
      parse_mode: 'HTML',
    });
    const file = await client.getFile({ file_id: message.document?.file_id ?? '' });

    expect(message).toMatchObject({ caption: 'Weekly report', caption_entities: [{ type: 'bold', offset: 0, length: 6 }] });
    expect(message.document).toMatchObject({ file_name: 'report.pdf', mime_type: 'application/pdf', file_size: 15 });
    expect(await (await fetch(`${fake.url}/file/bot${TOKEN}/${file.file_path}`)).text()).toBe('%PDF-1.7 report');
  });

  it('when the bot registers commands and sends chat actions, then they are validated and recorded', async () => {
    fake.addChat({ id: alice.id });
    const client = api({ maxRetries: 0 });

    await client.setMyCommands({ commands: [{ command: 'report', description: 'Daily P&L' }] });
    await client.sendChatAction({ chat_id: alice.id, action: 'typing' });

    expect(fake.registeredCommands).toEqual([{ command: 'report', description: 'Daily P&L' }]);
    expect(await client.getMe()).toMatchObject({ id: 123456, is_bot: true, username: 'dealdome_test_bot' });
    await expect(client.setMyCommands({ commands: [{ command: 'Report!', description: 'x' }] })).rejects.toMatchObject({
      description: 'Bad Request: BOT_COMMAND_INVALID',
    });
    await expect(client.sendChatAction({ chat_id: alice.id, action: 'dancing' })).rejects.toMatchObject({
      description: 'Bad Request: wrong parameter action in request',
    });
    await expect(new Api('999:wrong', { apiRoot: fake.url, maxRetries: 0 }).getMe()).rejects.toMatchObject({ errorCode: 401 });
  });

  it('when a client posts urlencoded form fields as the 0.x library does, then JSON fields and numbers are understood', async () => {
    fake.addChat({ id: alice.id });
    const form = new URLSearchParams({
      chat_id: String(alice.id),
      text: '42',
      reply_markup: JSON.stringify({ inline_keyboard: [[{ text: 'OK', callback_data: 'ok' }]] }),
      disable_notification: 'true',
    });

    const response = await fetch(`${fake.url}/bot${TOKEN}/sendmessage`, { method: 'POST', body: form });

    expect(await response.json()).toMatchObject({
      ok: true,
      result: { text: '42', reply_markup: { inline_keyboard: [[{ callback_data: 'ok' }]] } },
    });
    expect(fake.sent.at(-1)).toMatchObject({
      method: 'sendMessage',
      params: { chat_id: alice.id, text: '42', disable_notification: true },
    });
  });

  it("when a chat client uses the emulator control API, then it can write, and long-poll for the bot's reply", async () => {
    const polling = pollingBot((bot) => bot.on('message', (ctx) => ctx.reply(`You said: ${ctx.message?.text ?? ''}`)));

    const posted = await fetch(`${fake.url}/_emulator/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chatId: 77, text: 'ping' }),
    });
    type Page = { messages: { revision: number; message: { text: string; from: { is_bot: boolean } } }[]; next: number };
    const seen: Page['messages'] = [];
    let after = 0;
    while (!seen.some((m) => m.message.from.is_bot)) {
      const page = (await (await fetch(`${fake.url}/_emulator/chats/77/messages?after=${after}&timeout=5`)).json()) as Page;
      if (page.messages.length === 0) throw new Error('the long poll ended without a change');
      seen.push(...page.messages);
      after = page.next;
    }
    const chats = (await (await fetch(`${fake.url}/_emulator/chats`)).json()) as { chats: { id: number }[] };
    const calls = (await (await fetch(`${fake.url}/_emulator/calls?method=sendMessage`)).json()) as { calls: unknown[] };
    const unknown = await fetch(`${fake.url}/_emulator/nothing`);

    expect(posted.status).toBe(201);
    expect(seen.map((m) => [m.revision, m.message.from.is_bot, m.message.text])).toEqual([
      [1, false, 'ping'],
      [2, true, 'You said: ping'],
    ]);
    expect(chats.chats.map((c) => c.id)).toEqual([77]);
    expect(calls.calls).toHaveLength(1);
    expect(unknown.status).toBe(404);
    bots[0]?.stop();
    await polling;
  });
});

describe('local Telegram emulator process', () => {
  it('when started with TELEGRAM_EMULATOR_PORT=0, then it logs its URL, answers the Bot API and stops cleanly on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'packages/testkit/src/fakes/telegram-server.ts')],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', TELEGRAM_EMULATOR_PORT: '0', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within 20 s\n${stderr}`)), 20_000);
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        for (const line of buffered.split('\n')) {
          const match = /"url":"([^"]+)".*ready to serve/.exec(line);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        }
      });
    });

    const me = (await (await fetch(`${url}/bot1:local/getMe`)).json()) as { ok: boolean; result: { is_bot: boolean } };
    child.kill('SIGTERM');

    expect(me).toMatchObject({ ok: true, result: { is_bot: true } });
    expect(await exited).toBe(0);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
