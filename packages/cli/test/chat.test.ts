import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Api } from 'node-telegram-bot-api';
import type { Update } from 'node-telegram-bot-api';
import { FakeTelegram } from '@dealdome/testkit';
import { EmulatorClient, EmulatorUnreachableError } from '../src/chat/emulator';
import { runChat } from '../src/chat/session';

const TOKEN = '4242:chat-test';
const admin = { id: 1001, first_name: 'Admin' };

const messageOf = (update: Update | undefined) => (update && 'message' in update ? update.message : undefined);
const callbackOf = (update: Update | undefined) => (update && 'callback_query' in update ? update.callback_query : undefined);

/**
 * `pnpm chat` driven through its streams, as a person at a pipe would: lines go in,
 * printed text comes out. The bot's side is the real node-telegram-bot-api client
 * talking to the same emulator.
 */
describe('pnpm chat against the Telegram emulator', () => {
  let telegram: FakeTelegram;
  let bot: Api;
  let folder: string;

  beforeEach(async () => {
    telegram = await FakeTelegram.start({ token: TOKEN });
    bot = new Api(TOKEN, { apiRoot: telegram.url });
    folder = await mkdtemp(path.join(os.tmpdir(), 'dealdome-chat-'));
  });

  afterEach(async () => {
    await telegram.close();
    await rm(folder, { recursive: true, force: true });
  });

  function startChat(url = telegram.url) {
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = '';
    output.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const done = runChat({
      client: new EmulatorClient(url, admin.id, admin),
      input,
      output,
      ansi: false,
      terminal: false,
      cwd: folder,
      pollSeconds: 2,
      retryMs: 50,
    });
    return {
      done,
      type: (line: string) => input.write(`${line}\n`),
      end: () => input.end(),
      get printed() {
        return printed;
      },
      async waitFor(text: string, timeoutMs = 5000): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        while (!printed.includes(text)) {
          if (Date.now() > deadline) throw new Error(`"${text}" was not printed; the chat printed:\n${printed}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
    };
  }

  it('when the user types, then the bot gets it as an update; its reply is printed with numbered buttons, and typing 1 presses the first', async () => {
    const chat = startChat();
    await chat.waitFor('Chatting as Admin (Telegram user 1001)');

    chat.type('/pnl 7d');
    const [typed] = await bot.getUpdates({ timeout: 5 });
    const sent = await bot.sendMessage({
      chat_id: admin.id,
      text: '<b>Forget</b> "packaging &amp; co"?',
      parse_mode: 'HTML',
      reply_markup: {
        inline_keyboard: [
          [
            { text: 'Confirm', callback_data: 'forget:yes:7' },
            { text: 'Cancel', callback_data: 'forget:no' },
          ],
        ],
      },
    });
    await chat.waitFor('[1] Confirm  [2] Cancel');
    chat.type('1');
    const [pressed] = await bot.getUpdates({ offset: (typed?.update_id ?? 0) + 1, timeout: 5 });
    await chat.waitFor('(pressed [1] Confirm)');
    chat.type('/quit');
    await chat.done;

    expect(messageOf(typed)).toMatchObject({ text: '/pnl 7d', from: { id: 1001, first_name: 'Admin' }, chat: { id: 1001, type: 'private' } });
    expect(callbackOf(pressed)).toMatchObject({ data: 'forget:yes:7', from: { id: 1001 }, message: { message_id: sent.message_id } });
    expect(chat.printed).toContain('> /pnl 7d\n');
    expect(chat.printed).toMatch(/\nDealDome Test Bot \d\d:\d\d:\d\d\n {2}Forget "packaging & co"\?\n {2}\[1\] Confirm {2}\[2\] Cancel\n/);
  });

  it('when the bot edits or deletes its message, then the new text is printed marked as edited, and the deletion is told', async () => {
    const chat = startChat();
    chat.type('hello');
    await bot.getUpdates({ timeout: 5 });
    const sent = await bot.sendMessage({ chat_id: admin.id, text: 'Working on it…' });
    await chat.waitFor('Working on it…');

    await bot.editMessageText({ chat_id: admin.id, message_id: sent.message_id, text: 'Revenue was 1 200.00 EUR.' });
    await chat.waitFor('Revenue was 1 200.00 EUR.');
    await bot.deleteMessage({ chat_id: admin.id, message_id: sent.message_id });
    await chat.waitFor('deleted a message');
    chat.end();
    await chat.done;

    expect(chat.printed).toMatch(/DealDome Test Bot \d\d:\d\d:\d\d \(edited\)\n {2}Revenue was 1 200\.00 EUR\.\n/);
    expect(chat.printed).toContain('(DealDome Test Bot deleted a message: "Revenue was 1 200.00 EUR.")');
  });

  it('when the user uploads a file with a caption, then the bot gets a document it can download', async () => {
    await writeFile(path.join(folder, 'ad spend.csv'), 'date,platform,amount\n2026-05-01,meta,12.50\n');
    const chat = startChat();

    chat.type('/upload ad spend.csv');
    chat.type('/upload ad spend.csv Main store');
    chat.type('/upload missing.csv');
    chat.end();
    await chat.done;
    const updates = await bot.getUpdates({ timeout: 0 });
    const document = messageOf(updates[1])?.document;
    const file = await bot.getFile({ file_id: document?.file_id ?? '' });
    const download = await fetch(`${telegram.url}/file/bot${TOKEN}/${file.file_path}`);

    expect(updates.map((u) => messageOf(u)?.caption)).toEqual([undefined, 'Main store']);
    expect(document).toMatchObject({ file_name: 'ad spend.csv', mime_type: 'text/csv' });
    expect(await download.text()).toBe('date,platform,amount\n2026-05-01,meta,12.50\n');
    expect(chat.printed).toContain(`(no file "missing.csv"; relative paths start at ${folder})`);
  });

  it('when the input ends right after a line, then the line is still sent before the chat ends', async () => {
    const chat = startChat();
    chat.type('are we profitable?');
    chat.type('3');
    chat.end();
    await chat.done;

    // No buttons were shown, so "3" is text like any other.
    expect(telegram.pendingUpdates.map((u) => u.message?.text)).toEqual(['are we profitable?', '3']);
  });

  it('when no emulator answers at the address, then the chat fails at once, naming it', async () => {
    const gone = await FakeTelegram.start();
    await gone.close();

    const chat = startChat(gone.url);

    await expect(chat.done).rejects.toThrow(EmulatorUnreachableError);
    await expect(chat.done).rejects.toThrow(`no Telegram emulator answers at ${gone.url} (ECONNREFUSED)`);
  });
});
