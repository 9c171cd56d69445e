import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmulatorRequestError, EmulatorUnreachableError } from './emulator';
import type { ChatChange, EmulatorClient } from './emulator';
import { keyboardButtons, renderMessage } from './render';
import type { ChatMessage, NumberedButton } from './render';

/** The emulator's control API takes a file base64-encoded in a JSON body of at most 32 MB. */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

const MIME_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.txt': 'text/plain',
  '.srt': 'application/x-subrip',
  '.vtt': 'text/vtt',
};

export interface ChatSessionOptions {
  client: EmulatorClient;
  input: Readable;
  output: Writable;
  /** Style the bot's formatting with ANSI escape codes. */
  ansi: boolean;
  /**
   * The input is a person at a terminal: a prompt is drawn (and redrawn around
   * incoming messages) and typed lines are on screen already. Otherwise each line
   * read is echoed as `> line`, so a piped session reads like a transcript.
   */
  terminal: boolean;
  /** Relative upload paths start here (the directory `pnpm chat` was typed in). */
  cwd?: string;
  /** How many earlier messages of the chat to show on start (default 10). */
  history?: number;
  /** Seconds one long poll of the chat waits (default 25). */
  pollSeconds?: number;
  /** Pause before asking a vanished emulator again, in ms (default 2000). */
  retryMs?: number;
}

/**
 * One person chatting with the bot through the emulator until they leave. Rejects
 * with EmulatorUnreachableError when no emulator answers at the start; resolves
 * after `/quit`, Ctrl-C or the end of the input, once every line read has been
 * handled.
 */
export async function runChat(options: ChatSessionOptions): Promise<void> {
  const session = new ChatSession(options);
  await session.run();
}

class ChatSession {
  private readonly client: EmulatorClient;
  private readonly out: Writable;
  private readonly messages = new Map<number, ChatMessage>();
  private readonly stopping = new AbortController();
  private rl: readline.Interface | undefined;
  private after = 0;
  private leaving = false;

  constructor(private readonly options: ChatSessionOptions) {
    this.client = options.client;
    this.out = options.output;
  }

  async run(): Promise<void> {
    await this.client.check();
    const earlier = await this.client.changes(0, 0);
    this.after = earlier.next;
    const shown = earlier.messages.filter((c) => !c.deleted).slice(-(this.options.history ?? 10));
    for (const change of earlier.messages) if (!change.deleted) this.messages.set(change.message.message_id, change.message);
    const { user, chatId, url } = this.client;
    this.print(
      `Chatting as ${user.first_name} (Telegram user ${user.id}) in chat ${chatId}, through the Telegram emulator at ${url}.\n` +
        'Type a message and press Enter. A number presses that button of the latest message with buttons (or /press N);\n' +
        '/upload PATH [caption] sends a file (.csv ad spend, .txt/.srt/.vtt transcripts); /quit or Ctrl-D leaves.',
    );
    if (shown.length > 0) {
      this.print(this.dim(`— the last ${shown.length === 1 ? 'message' : `${shown.length} messages`} of this chat —`));
      for (const change of shown) this.print(renderMessage(change.message, { ansi: this.options.ansi }));
      this.print(this.dim('—'));
    }

    const rl = readline.createInterface({
      input: this.options.input,
      ...(this.options.terminal ? { output: this.out } : {}),
      terminal: this.options.terminal,
      prompt: '> ',
    });
    this.rl = rl;
    const following = this.follow();
    let handled = Promise.resolve();
    const closed = new Promise<void>((resolve) => rl.once('close', resolve));
    rl.on('line', (line) => {
      handled = handled.then(() => this.handle(line));
    });
    rl.on('SIGINT', () => rl.close());
    if (this.options.terminal) rl.prompt();
    await closed;
    await handled;
    this.leaving = true;
    this.stopping.abort();
    await following;
    this.rl = undefined;
    if (this.options.terminal) this.out.write('\n');
  }

  /** Prints each message as it arrives, until the session ends. */
  private async follow(): Promise<void> {
    let lost = false;
    while (!this.stopping.signal.aborted) {
      try {
        const page = await this.client.changes(this.after, this.options.pollSeconds ?? 25, this.stopping.signal);
        if (lost) this.print(this.dim('(the emulator answers again)'));
        lost = false;
        if (page.next < this.after) {
          // A new emulator process: its chats start empty and count revisions from 0 again.
          this.print(this.dim('(the emulator was restarted: this chat starts afresh)'));
          this.after = 0;
          this.messages.clear();
          continue;
        }
        for (const change of page.messages) this.show(change);
        this.after = page.next;
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        if (!lost) this.print(this.dim(`(${describe(err)}; asking again every ${(this.options.retryMs ?? 2000) / 1000} s — /quit leaves)`));
        lost = true;
        await sleep(this.options.retryMs ?? 2000, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      }
    }
  }

  private show(change: ChatChange): void {
    const { message } = change;
    const known = this.messages.get(message.message_id);
    if (change.deleted) {
      this.messages.delete(message.message_id);
      if (known && !this.isOwn(known)) {
        const words = (known.text ?? known.caption ?? known.document?.file_name ?? '').replace(/\s+/g, ' ');
        this.print(this.dim(`(${known.from?.first_name ?? 'a'} deleted a message: "${words.length > 40 ? `${words.slice(0, 39)}…` : words}")`));
      }
      return;
    }
    this.messages.set(message.message_id, message);
    // The person's own lines are on screen already: typed, or echoed as read.
    if (this.isOwn(message)) return;
    this.print(renderMessage(message, { ansi: this.options.ansi, edited: known !== undefined }));
  }

  private isOwn(message: ChatMessage): boolean {
    return message.from !== undefined && !message.from.is_bot && message.from.id === this.client.user.id;
  }

  /** The buttons of the bot's latest message that has any. */
  private latestKeyboard(): { messageId: number; buttons: NumberedButton[] } | undefined {
    let latest: { messageId: number; buttons: NumberedButton[] } | undefined;
    for (const message of this.messages.values()) {
      if (!message.from?.is_bot) continue;
      const buttons = keyboardButtons(message.reply_markup);
      if (buttons.length > 0 && (!latest || message.message_id > latest.messageId)) latest = { messageId: message.message_id, buttons };
    }
    return latest;
  }

  private async handle(line: string): Promise<void> {
    const text = line.trim();
    if (this.leaving || text === '') return;
    if (!this.options.terminal) this.print(`> ${text}`);
    try {
      if (text === '/quit') {
        this.leaving = true;
        this.rl?.close();
        return;
      }
      const press = /^\/press(?:\s+(.*))?$/.exec(text);
      if (press) return await this.press(press[1]?.trim() ?? '');
      const keyboard = this.latestKeyboard();
      if (/^\d+$/.test(text) && keyboard?.buttons.some((b) => b.number === Number(text))) return await this.press(text);
      const upload = /^\/upload(?:\s+(.*))?$/.exec(text);
      if (upload) return await this.upload(upload[1]?.trim() ?? '');
      await this.client.sendText(text);
    } catch (err) {
      this.print(this.dim(`(${describe(err)})`));
    }
  }

  private async press(choice: string): Promise<void> {
    const keyboard = this.latestKeyboard();
    if (!keyboard) return this.print(this.dim('(no message with buttons yet)'));
    const button = /^\d+$/.test(choice) ? keyboard.buttons.find((b) => b.number === Number(choice)) : undefined;
    if (!button) return this.print(this.dim(`(usage: /press N, where N is 1 to ${keyboard.buttons.length})`));
    if (button.callbackData !== undefined) {
      await this.client.press(keyboard.messageId, button.callbackData);
      return this.print(this.dim(`(pressed [${button.number}] ${button.text})`));
    }
    if (button.url !== undefined) return this.print(this.dim(`([${button.number}] ${button.text} opens ${button.url})`));
    this.print(this.dim(`([${button.number}] ${button.text} is a kind of button this chat cannot press)`));
  }

  private async upload(argument: string): Promise<void> {
    if (argument === '') return this.print(this.dim('(usage: /upload PATH [caption])'));
    // The longest start of the argument that names a file is the path (names may have
    // spaces); what follows it is the caption.
    const starts = [argument, ...[...argument.matchAll(/\s+/g)].reverse().map((m) => argument.slice(0, m.index))];
    let found: { filePath: string; size: number; caption: string } | undefined;
    for (const start of starts) {
      const filePath = this.resolve(start);
      const info = await stat(filePath).catch(() => undefined);
      if (info?.isFile()) {
        found = { filePath, size: info.size, caption: argument.slice(start.length).trim() };
        break;
      }
    }
    if (!found) return this.print(this.dim(`(no file "${argument}"; relative paths start at ${this.options.cwd ?? process.cwd()})`));
    const { filePath, size, caption } = found;
    if (size > MAX_UPLOAD_BYTES) {
      return this.print(this.dim(`(${path.basename(filePath)} has ${size} bytes; the emulator takes files up to ${MAX_UPLOAD_BYTES} bytes)`));
    }
    const fileName = path.basename(filePath);
    const mimeType = MIME_TYPES[path.extname(fileName).toLowerCase()];
    await this.client.sendDocument({
      fileName,
      content: await readFile(filePath),
      ...(mimeType ? { mimeType } : {}),
      ...(caption ? { caption } : {}),
    });
    this.print(this.dim(`(sent ${fileName}, ${size} bytes${caption ? `, caption "${caption}"` : ''})`));
  }

  private resolve(file: string): string {
    const expanded = file === '~' || file.startsWith('~/') ? path.join(homedir(), file.slice(1)) : file;
    return path.resolve(this.options.cwd ?? process.cwd(), expanded);
  }

  private dim(text: string): string {
    return this.options.ansi ? `\x1b[2m${text}\x1b[22m` : text;
  }

  /** Writes a block; at a terminal, above the prompt and whatever is half typed there. */
  private print(block: string): void {
    const rl = this.rl;
    if (rl && this.options.terminal) {
      readline.cursorTo(this.out, 0);
      readline.clearLine(this.out, 0);
      this.out.write(`${block}\n`);
      if (!this.leaving) rl.prompt(true);
      return;
    }
    this.out.write(`${block}\n`);
  }
}

function describe(err: unknown): string {
  if (err instanceof EmulatorUnreachableError) return err.message;
  if (err instanceof EmulatorRequestError) return `the emulator refused: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
