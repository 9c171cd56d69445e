import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Recorder, clientGone, startFake, readBody, sendJson, sleep } from './http';
import type { LoopbackServer } from './http';
import { handleEmulatorControl } from './telegram-control';
import { TelegramParseError, commandEntities, parseTelegramHtml } from './telegram-html';
import type { TelegramEntity } from './telegram-html';

/**
 * A fake Telegram Bot API on loopback. Bots reach it with their real client
 * library pointed at `url` (node-telegram-bot-api's `apiRoot`, or `baseApiUrl` in
 * its 0.x releases): `{url}/bot{token}/{method}` for calls, `{url}/file/bot{token}/{file_path}`
 * for downloads. Parameters may come as JSON, urlencoded or multipart form data,
 * or in the query string, as Telegram accepts them all.
 *
 * Tests play the users (`sendUserMessage`, `sendCallback`, `sendDocument`), read
 * what the bot did (`sent`, `waitForSent`, `messages`) and make Telegram misbehave
 * (`injectError`, `redeliver`). The same server, started by `telegram-server.ts`,
 * is the local Telegram emulator; its `/_emulator/*` control API is documented there.
 */

export type ChatType = 'private' | 'group' | 'supergroup' | 'channel';

export interface TelegramUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export interface TelegramChat {
  id: number;
  type: ChatType;
  title?: string;
  username?: string;
  first_name?: string;
  last_name?: string;
}

export interface TelegramDocument {
  file_id: string;
  file_unique_id: string;
  file_name?: string;
  mime_type?: string;
  file_size: number;
}

export interface InlineKeyboardButton {
  text: string;
  callback_data?: string;
  url?: string;
  [field: string]: unknown;
}

export interface TelegramReplyMarkup {
  inline_keyboard?: InlineKeyboardButton[][];
  [field: string]: unknown;
}

export interface TelegramMessage {
  message_id: number;
  from?: TelegramUser;
  chat: TelegramChat;
  date: number;
  edit_date?: number;
  text?: string;
  entities?: TelegramEntity[];
  caption?: string;
  caption_entities?: TelegramEntity[];
  document?: TelegramDocument;
  reply_markup?: TelegramReplyMarkup;
  reply_to_message?: TelegramMessage;
}

export interface TelegramCallbackQuery {
  id: string;
  from: TelegramUser;
  message?: TelegramMessage;
  chat_instance: string;
  data?: string;
}

export interface TelegramUpdate {
  update_id: number;
  message?: TelegramMessage;
  edited_message?: TelegramMessage;
  callback_query?: TelegramCallbackQuery;
}

/** A user as tests describe one; `is_bot` and `first_name` get defaults. */
export interface UserInput {
  id: number;
  first_name?: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export interface UserMessageInput {
  chatId: number;
  from: UserInput;
  text: string;
  /** Default 'private'. A private chat's id should equal the user's id, as in Telegram. */
  chatType?: ChatType;
  chatTitle?: string;
  replyToMessageId?: number;
}

export interface CallbackInput {
  chatId: number;
  from: UserInput;
  /** The bot's message whose inline button was pressed. */
  messageId: number;
  data: string;
}

export interface UserDocumentInput {
  chatId: number;
  from: UserInput;
  fileName: string;
  content: Buffer | string;
  mimeType?: string;
  caption?: string;
  chatType?: ChatType;
  chatTitle?: string;
  /** Declares a larger size than `content` has, to test the 20 MB download cap without 20 MB of memory. */
  fileSize?: number;
}

/** One call the bot made, whatever its outcome. */
export interface TelegramCall {
  method: string;
  params: Record<string, unknown>;
  /** `chat_id` of the call, when it has one. */
  chatId?: number | string;
  /** Epoch milliseconds. */
  at: number;
  ok: boolean;
  result?: unknown;
  error?: { error_code: number; description: string; parameters?: { retry_after?: number } };
}

export type TelegramInjectedError =
  { status: 429; retryAfter: number; description?: string } | { status: number; description: string };

export interface WebhookDelivery {
  updateId: number;
  attempt: number;
  at: number;
  /** HTTP status the bot answered, if it answered. */
  status?: number;
  error?: string;
}

export interface WebhookInfo {
  url: string;
  has_custom_certificate: boolean;
  pending_update_count: number;
  max_connections?: number;
  allowed_updates?: string[];
  last_error_date?: number;
  last_error_message?: string;
}

export interface FakeTelegramOptions {
  port?: number;
  host?: string;
  /**
   * The first update's id (default 1). Telegram, too, may start from another number
   * (after a week without updates); a long-lived emulator starts from the clock so a
   * restarted one never repeats ids a gateway has already recorded.
   */
  firstUpdateId?: number;
  /** When set, other tokens get 401 Unauthorized. Otherwise any token works and getMe derives the bot id from it. */
  token?: string;
  bot?: { first_name?: string; username?: string };
  /** Also reject a bare `&` in HTML (Telegram keeps it as text): catches missing escaping. */
  strictHtml?: boolean;
  /** Attempts per update before the fake stops pushing to a failing webhook (default 3), and the pause between them (default 100 ms). */
  webhookAttempts?: number;
  webhookRetryDelayMs?: number;
  /**
   * How long a callback query can be answered. Telegram publishes no deadline;
   * reports put it at seconds to tens of seconds. Default 15 s.
   */
  callbackQueryTimeoutMs?: number;
  /** Told of every call once it is answered (the emulator logs them). */
  onCall?: (call: TelegramCall) => void;
}

export interface ChatHistoryEntry {
  /** Increases with every change in the chat; the emulator's `after=` compares against it. */
  revision: number;
  message: TelegramMessage;
  deleted?: boolean;
}

interface ChatState {
  chat: TelegramChat;
  nextMessageId: number;
  revision: number;
  history: ChatHistoryEntry[];
}

interface StoredFile {
  file_id: string;
  file_unique_id: string;
  file_path: string;
  file_size: number;
  content: Buffer;
  mime_type?: string;
  file_name?: string;
}

interface PendingUpdate {
  update: TelegramUpdate;
  handedOut: boolean;
}

interface Poller {
  limit: number;
  respond(result: TelegramUpdate[] | ApiError): void;
}

type Params = Record<string, unknown>;
type MethodHandler = (params: Params, ctx: { signal: AbortSignal }) => unknown;

/** Telegram answers `{ok:false}` with the HTTP status equal to error_code. */
class ApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: { retry_after?: number },
  ) {
    super(description);
  }
}

const badRequest = (what: string) => new ApiError(400, `Bad Request: ${what}`);

export const TELEGRAM_MAX_TEXT_LENGTH = 4096;
export const TELEGRAM_MAX_CAPTION_LENGTH = 1024;
export const TELEGRAM_MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;
export const TELEGRAM_MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
const MAX_CALLBACK_DATA_BYTES = 64;
const MAX_CALLBACK_ANSWER_LENGTH = 200;

const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

/** Fields Telegram takes as JSON-serialised strings in form bodies. */
const JSON_FIELDS = new Set([
  'reply_markup',
  'entities',
  'caption_entities',
  'commands',
  'allowed_updates',
  'link_preview_options',
  'reply_parameters',
  'scope',
  'media',
]);
const INTEGER_FIELDS = new Set([
  'chat_id',
  'message_id',
  'offset',
  'limit',
  'timeout',
  'reply_to_message_id',
  'max_connections',
  'cache_time',
  'user_id',
  'message_thread_id',
]);
const BOOLEAN_FIELDS = new Set([
  'show_alert',
  'drop_pending_updates',
  'disable_notification',
  'protect_content',
  'disable_web_page_preview',
  'allow_sending_without_reply',
  'disable_content_type_detection',
]);

export class FakeTelegram {
  /** Root URL: give it to the client as its API root. */
  readonly url: string;
  private readonly server: LoopbackServer;
  private readonly options: FakeTelegramOptions;
  private readonly closing = new AbortController();
  private readonly calls = new Recorder<TelegramCall>();
  private readonly methods: Map<string, [string, MethodHandler]>;

  private nextUpdateId: number;
  private nextFileNumber = 1;
  private nextCallbackNumber = 1;
  private readonly queue: PendingUpdate[] = [];
  private allowedUpdates: string[] = [];
  private poller: Poller | undefined;
  private readonly chats = new Map<number | string, ChatState>();
  /** Emulator clients long-polling a chat, which may not exist yet. */
  private readonly chatWaiters = new Map<number | string, Set<() => void>>();
  private readonly files = new Map<string, StoredFile>();
  private readonly callbackQueries = new Map<string, { createdAt: number; answered: boolean }>();
  private readonly injected: { method: string; error: TelegramInjectedError; remaining: number; until?: number }[] = [];
  private commands: { command: string; description: string }[] = [];
  private webhook: { url: string; secretToken?: string; maxConnections: number; allowedUpdates?: string[] } | undefined;
  private webhookError: { date: number; message: string } | undefined;
  private webhookPump: Promise<void> = Promise.resolve();
  private webhookPumping = false;
  /** Every attempt to push an update to the webhook. */
  readonly webhookDeliveries: WebhookDelivery[] = [];

  private constructor(server: LoopbackServer, options: FakeTelegramOptions) {
    this.server = server;
    this.url = server.url;
    this.options = options;
    this.nextUpdateId = options.firstUpdateId ?? 1;
    this.methods = this.methodTable();
  }

  static start(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
    return startFake(options, (server) => new FakeTelegram(server, options), (fake, req, res) => fake.handle(req, res));
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.poller?.respond([]);
    this.poller = undefined;
    for (const waiters of this.chatWaiters.values()) for (const wake of waiters) wake();
    await this.server.close();
    await this.webhookPump;
  }

  /** Every call the bot has made so far, in order. */
  get sent(): readonly TelegramCall[] {
    return this.calls.all;
  }

  /** The first call (made already or still to come) that matches; rejects after `timeoutMs`. */
  waitForSent(predicate: (call: TelegramCall) => boolean, timeoutMs = 5000): Promise<TelegramCall> {
    return this.calls.waitFor(predicate, timeoutMs, (calls) => {
      const recent = calls
        .filter((c) => c.method !== 'getUpdates')
        .slice(-10)
        .map((c) => `${c.method}(${JSON.stringify(c.params).slice(0, 200)}) → ${c.ok ? 'ok' : c.error?.description}`);
      return `bot calls other than getUpdates: ${recent.length === 0 ? 'none' : `\n  ${recent.join('\n  ')}`}`;
    });
  }

  /** The chat's messages (the users' and the bot's), oldest first, deleted ones left out. */
  messages(chatId: number | string): TelegramMessage[] {
    return (this.chats.get(chatId)?.history ?? []).filter((e) => !e.deleted).map((e) => e.message);
  }

  /** History entries whose revision is above `after` (new, edited or deleted since), oldest change first. */
  changesSince(chatId: number | string, after: number): { entries: ChatHistoryEntry[]; revision: number } {
    const chat = this.chats.get(chatId);
    if (!chat) return { entries: [], revision: after };
    const entries = chat.history.filter((e) => e.revision > after).sort((a, b) => a.revision - b.revision);
    return { entries, revision: chat.revision };
  }

  /** Resolves at the next change in the chat, or after `timeoutMs`. */
  async waitForChange(chatId: number | string, after: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if ((this.chats.get(chatId)?.revision ?? 0) > after) return;
    const waiters = this.chatWaiters.get(chatId) ?? new Set<() => void>();
    this.chatWaiters.set(chatId, waiters);
    const woken = new AbortController();
    await new Promise<void>((resolve) => {
      const wake = () => {
        waiters.delete(wake);
        if (waiters.size === 0 && this.chatWaiters.get(chatId) === waiters) this.chatWaiters.delete(chatId);
        woken.abort();
        resolve();
      };
      waiters.add(wake);
      void sleep(timeoutMs, AbortSignal.any([this.closing.signal, woken.signal, ...(signal ? [signal] : [])])).then(wake);
    });
  }

  knownChats(): TelegramChat[] {
    return [...this.chats.values()].map((c) => c.chat);
  }

  /** Makes a chat known without a message in it, for bots that write first (Telegram answers "chat not found" otherwise). */
  addChat(chat: { id: number; type?: ChatType; title?: string; first_name?: string; username?: string }): TelegramChat {
    return this.chatState({ type: 'private', ...chat }).chat;
  }

  /** The commands the bot registered with setMyCommands. */
  get registeredCommands(): readonly { command: string; description: string }[] {
    return this.commands;
  }

  /** Updates not yet confirmed by an offset (nor delivered to a webhook). */
  get pendingUpdates(): readonly TelegramUpdate[] {
    return this.queue.map((p) => p.update);
  }

  get webhookInfo(): WebhookInfo {
    return {
      url: this.webhook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: this.queue.length,
      ...(this.webhook
        ? {
            max_connections: this.webhook.maxConnections,
            ...(this.webhook.allowedUpdates ? { allowed_updates: this.webhook.allowedUpdates } : {}),
          }
        : {}),
      ...(this.webhookError ? { last_error_date: this.webhookError.date, last_error_message: this.webhookError.message } : {}),
    };
  }

  // ---- the users' side --------------------------------------------------------------------

  sendUserMessage(input: UserMessageInput): TelegramUpdate {
    const chat = this.chatState(chatFor(input.chatId, input.from, input.chatType, input.chatTitle));
    const replyTo = input.replyToMessageId === undefined ? undefined : this.findMessage(chat, input.replyToMessageId);
    if (input.replyToMessageId !== undefined && !replyTo) {
      throw new Error(`chat ${input.chatId} has no message ${input.replyToMessageId} to reply to`);
    }
    const entities = commandEntities(input.text);
    const message = this.appendMessage(chat, {
      from: userFor(input.from),
      text: input.text,
      ...(entities.length > 0 ? { entities } : {}),
      ...(replyTo ? { reply_to_message: replyTo } : {}),
    });
    return this.enqueue({ message });
  }

  /** A press on an inline button of one of the bot's messages. */
  sendCallback(input: CallbackInput): TelegramUpdate {
    const chat = this.chats.get(input.chatId);
    const message = chat ? this.findMessage(chat, input.messageId) : undefined;
    if (!message) throw new Error(`chat ${input.chatId} has no message ${input.messageId} to press a button on`);
    const buttons = (message.reply_markup?.inline_keyboard ?? []).flat();
    if (!buttons.some((b) => b.callback_data === input.data)) {
      throw new Error(
        `message ${input.messageId} has no button with callback_data ${JSON.stringify(input.data)} ` +
          `(it has ${JSON.stringify(buttons.map((b) => b.callback_data))})`,
      );
    }
    const id = `${Date.now()}${String(this.nextCallbackNumber++).padStart(6, '0')}`;
    this.callbackQueries.set(id, { createdAt: Date.now(), answered: false });
    return this.enqueue({
      callback_query: {
        id,
        from: userFor(input.from),
        message,
        chat_instance: createHash('sha256').update(String(input.chatId)).digest('hex').slice(0, 19),
        data: input.data,
      },
    });
  }

  /** A user sends a file; the bot can getFile and download it. */
  sendDocument(input: UserDocumentInput): TelegramUpdate {
    const chat = this.chatState(chatFor(input.chatId, input.from, input.chatType, input.chatTitle));
    const file = this.storeFile(
      Buffer.isBuffer(input.content) ? input.content : Buffer.from(input.content, 'utf8'),
      'documents',
      input.fileName,
      input.mimeType,
      input.fileSize,
    );
    const message = this.appendMessage(chat, {
      from: userFor(input.from),
      document: documentFor(file),
      ...(input.caption ? { caption: input.caption } : {}),
    });
    return this.enqueue({ message });
  }

  /** Hands out an update again with the same update_id, as Telegram does when it lost a confirmation. */
  redeliver(update: TelegramUpdate): void {
    this.queue.push({ update, handedOut: false });
    this.queue.sort((a, b) => a.update.update_id - b.update.update_id);
    this.wakeConsumers();
  }

  /**
   * The next `times` calls of `method` ('*' for any) fail with this error; with
   * `{ forMs }`, every such call does until that much time has passed.
   */
  injectError(method: string, error: TelegramInjectedError, times: number | { forMs: number } = 1): void {
    const name = method === '*' ? '*' : method.toLowerCase();
    if (typeof times === 'number') this.injected.push({ method: name, error, remaining: times });
    else this.injected.push({ method: name, error, remaining: Infinity, until: Date.now() + times.forMs });
  }

  // ---- HTTP -------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    if (url.pathname.startsWith('/_emulator/')) {
      await handleEmulatorControl(this, req, res, url);
      return;
    }
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (file && (req.method === 'GET' || req.method === 'HEAD')) {
      this.download(res, file[1] ?? '', decodeURIComponent(file[2] ?? ''));
      return;
    }
    const call = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!call) {
      sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    if (this.options.token !== undefined && call[1] !== this.options.token) {
      sendJson(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      return;
    }
    const entry = this.methods.get((call[2] ?? '').toLowerCase());
    if (!entry) {
      sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
      return;
    }
    const [method, handler] = entry;
    let params: Params;
    try {
      params = await readParams(req, url);
    } catch (err) {
      const status = err instanceof ApiError ? err.errorCode : 400;
      const description = err instanceof ApiError ? err.description : `Bad Request: ${(err as Error).message}`;
      sendJson(res, status, { ok: false, error_code: status, description });
      return;
    }
    const record: TelegramCall = {
      method,
      params,
      at: Date.now(),
      ok: false,
      ...(params.chat_id !== undefined ? { chatId: params.chat_id as number | string } : {}),
    };
    try {
      const injected = this.takeInjected(method);
      if (injected) throw injected;
      const result: unknown = await handler(params, { signal: clientGone(req, res) });
      record.ok = true;
      record.result = result;
      this.record(record);
      const description =
        method === 'setWebhook' ? 'Webhook was set' : method === 'deleteWebhook' ? 'Webhook was deleted' : undefined;
      sendJson(res, 200, { ok: true, result, ...(description ? { description } : {}) });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      record.error = {
        error_code: err.errorCode,
        description: err.description,
        ...(err.parameters ? { parameters: err.parameters } : {}),
      };
      this.record(record);
      sendJson(res, err.errorCode, {
        ok: false,
        error_code: err.errorCode,
        description: err.description,
        ...(err.parameters ? { parameters: err.parameters } : {}),
      });
    }
  }

  private record(call: TelegramCall): void {
    this.calls.push(call);
    this.options.onCall?.(call);
  }

  private download(res: ServerResponse, token: string, filePath: string): void {
    if (this.options.token !== undefined && token !== this.options.token) {
      sendJson(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      return;
    }
    const file = [...this.files.values()].find((f) => f.file_path === filePath);
    if (!file) {
      sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    res.writeHead(200, {
      'content-type': file.mime_type ?? 'application/octet-stream',
      'content-length': file.content.length,
    });
    res.end(file.content);
  }

  private takeInjected(method: string): ApiError | undefined {
    const now = Date.now();
    for (let i = this.injected.length - 1; i >= 0; i--) if ((this.injected[i]!.until ?? Infinity) <= now) this.injected.splice(i, 1);
    const index = this.injected.findIndex((i) => i.method === method.toLowerCase() || i.method === '*');
    const entry = this.injected[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.injected.splice(index, 1);
    const { error } = entry;
    if ('retryAfter' in error) {
      return new ApiError(429, error.description ?? `Too Many Requests: retry after ${error.retryAfter}`, {
        retry_after: error.retryAfter,
      });
    }
    return new ApiError(error.status, error.description);
  }

  // ---- Bot API methods --------------------------------------------------------------------

  private methodTable(): Map<string, [string, MethodHandler]> {
    const table: Record<string, MethodHandler> = {
      getMe: () => this.botUser(),
      getUpdates: (p, ctx) => this.getUpdates(p, ctx.signal),
      setWebhook: (p) => this.setWebhook(p),
      deleteWebhook: (p) => {
        this.webhook = undefined;
        this.webhookError = undefined;
        if (p.drop_pending_updates === true) this.queue.length = 0;
        this.wakeConsumers();
        return true;
      },
      getWebhookInfo: () => this.webhookInfo,
      sendMessage: (p) => this.sendMessage(p),
      editMessageText: (p) => this.editMessageText(p),
      editMessageReplyMarkup: (p) => this.editMessageReplyMarkup(p),
      deleteMessage: (p) => {
        const chat = this.requireChat(p);
        const entry = chat.history.find((e) => e.message.message_id === p.message_id && !e.deleted);
        if (!entry) throw badRequest('message to delete not found');
        entry.deleted = true;
        this.touch(chat, entry);
        return true;
      },
      sendChatAction: (p) => {
        this.requireChat(p);
        if (typeof p.action !== 'string' || !CHAT_ACTIONS.has(p.action)) throw badRequest('wrong parameter action in request');
        return true;
      },
      answerCallbackQuery: (p) => this.answerCallbackQuery(p),
      getFile: (p) => {
        const file = typeof p.file_id === 'string' ? this.files.get(p.file_id) : undefined;
        if (!file) throw badRequest('invalid file_id');
        if (file.file_size > TELEGRAM_MAX_DOWNLOAD_BYTES) throw badRequest('file is too big');
        return {
          file_id: file.file_id,
          file_unique_id: file.file_unique_id,
          file_size: file.file_size,
          file_path: file.file_path,
        };
      },
      sendDocument: (p) => this.sendBotDocument(p),
      setMyCommands: (p) => this.setMyCommands(p),
      getMyCommands: () => this.commands,
      deleteMyCommands: () => {
        this.commands = [];
        return true;
      },
    };
    return new Map(Object.entries(table).map(([name, handler]) => [name.toLowerCase(), [name, handler]]));
  }

  private botUser(): TelegramUser & Record<string, unknown> {
    const token = this.options.token;
    const id = token && /^\d+:/.test(token) ? Number(token.split(':')[0]) : 100000001;
    return {
      id,
      is_bot: true,
      first_name: this.options.bot?.first_name ?? 'DealDome Test Bot',
      username: this.options.bot?.username ?? 'dealdome_test_bot',
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
    };
  }

  private async getUpdates(p: Params, signal: AbortSignal): Promise<TelegramUpdate[]> {
    if (this.webhook) {
      throw new ApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
    }
    const limit = Math.min(100, Math.max(1, typeof p.limit === 'number' && p.limit > 0 ? p.limit : 100));
    const timeoutSeconds = typeof p.timeout === 'number' && p.timeout > 0 ? p.timeout : 0;
    if (Array.isArray(p.allowed_updates))
      this.allowedUpdates = p.allowed_updates.filter((u): u is string => typeof u === 'string');
    if (typeof p.offset === 'number' && p.offset !== 0) this.confirm(p.offset);

    // Telegram lets one getUpdates wait at a time: a newer one ends the older with 409.
    this.poller?.respond(
      new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'),
    );
    this.poller = undefined;

    const ready = this.takeUpdates(limit);
    if (ready.length > 0 || timeoutSeconds === 0) return ready;

    // An update arriving while this waits is handed over by wakeConsumers().
    const result = await new Promise<TelegramUpdate[] | ApiError>((resolve) => {
      const answered = new AbortController();
      const poller: Poller = {
        limit,
        respond: (value) => {
          if (this.poller === poller) this.poller = undefined;
          answered.abort();
          resolve(value);
        },
      };
      this.poller = poller;
      void sleep(timeoutSeconds * 1000, AbortSignal.any([signal, this.closing.signal, answered.signal])).then(() =>
        poller.respond([]),
      );
    });
    if (result instanceof ApiError) throw result;
    return result;
  }

  /** Drops confirmed updates: with offset > 0, those below it; with offset < 0, all but the last |offset|. */
  private confirm(offset: number): void {
    if (offset < 0) {
      this.queue.splice(0, Math.max(0, this.queue.length + offset));
      return;
    }
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const pending = this.queue[i];
      // A redelivered update is handed out once although its id is below the offset.
      if (pending && pending.update.update_id < offset && pending.handedOut) this.queue.splice(i, 1);
    }
  }

  private takeUpdates(limit: number): TelegramUpdate[] {
    if (this.allowedUpdates.length > 0) {
      for (let i = this.queue.length - 1; i >= 0; i--) {
        const pending = this.queue[i];
        if (pending && !this.allowedUpdates.includes(updateType(pending.update))) this.queue.splice(i, 1);
      }
    }
    const batch = this.queue.slice(0, limit);
    for (const pending of batch) pending.handedOut = true;
    return batch.map((p) => p.update);
  }

  private wakeConsumers(): void {
    if (this.webhook) {
      this.pumpWebhook();
      return;
    }
    const poller = this.poller;
    if (!poller) return;
    const ready = this.takeUpdates(poller.limit);
    if (ready.length > 0) poller.respond(ready);
  }

  private setWebhook(p: Params): boolean {
    const url = typeof p.url === 'string' ? p.url : '';
    if (url === '') {
      this.webhook = undefined;
      return true;
    }
    try {
      new URL(url);
    } catch {
      throw badRequest('bad webhook: Failed to resolve host: Name or service not known');
    }
    const secretToken = typeof p.secret_token === 'string' ? p.secret_token : undefined;
    if (secretToken !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken)) {
      throw badRequest('secret token contains unallowed characters');
    }
    const maxConnections = typeof p.max_connections === 'number' ? p.max_connections : 40;
    if (maxConnections < 1 || maxConnections > 100) throw badRequest('bad webhook: max_connections must be between 1 and 100');
    if (p.drop_pending_updates === true) this.queue.length = 0;
    const allowedUpdates = Array.isArray(p.allowed_updates)
      ? p.allowed_updates.filter((u): u is string => typeof u === 'string')
      : undefined;
    this.webhook = {
      url,
      maxConnections,
      ...(secretToken ? { secretToken } : {}),
      ...(allowedUpdates ? { allowedUpdates } : {}),
    };
    this.webhookError = undefined;
    // A long poll still waiting is ended as Telegram ends it.
    this.poller?.respond(
      new ApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      ),
    );
    this.poller = undefined;
    this.pumpWebhook();
    return true;
  }

  /** Pushes pending updates to the webhook one at a time, in order; a failing one blocks those after it, as in Telegram. */
  private pumpWebhook(): void {
    if (this.webhookPumping) return;
    this.webhookPumping = true;
    this.webhookPump = this.webhookPump.then(async () => {
      try {
        while (this.webhook && this.queue.length > 0 && !this.closing.signal.aborted) {
          const pending = this.queue[0];
          if (!pending) break;
          if (this.webhook.allowedUpdates && !this.webhook.allowedUpdates.includes(updateType(pending.update))) {
            this.queue.shift();
            continue;
          }
          if (!(await this.deliver(this.webhook, pending.update))) break;
          if (this.queue[0] === pending) this.queue.shift();
        }
      } finally {
        this.webhookPumping = false;
      }
    });
  }

  private async deliver(webhook: NonNullable<FakeTelegram['webhook']>, update: TelegramUpdate): Promise<boolean> {
    const attempts = this.options.webhookAttempts ?? 3;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const delivery: WebhookDelivery = { updateId: update.update_id, attempt, at: Date.now() };
      try {
        const response = await fetch(webhook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(webhook.secretToken ? { 'x-telegram-bot-api-secret-token': webhook.secretToken } : {}),
          },
          body: JSON.stringify(update),
          signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(10_000)]),
        });
        await response.arrayBuffer();
        delivery.status = response.status;
        this.webhookDeliveries.push(delivery);
        if (response.ok) {
          this.webhookError = undefined;
          return true;
        }
        this.webhookError = {
          date: Math.floor(Date.now() / 1000),
          message: `Wrong response from the webhook: ${response.status} ${response.statusText}`,
        };
      } catch (err) {
        delivery.error = (err as Error).message;
        this.webhookDeliveries.push(delivery);
        this.webhookError = { date: Math.floor(Date.now() / 1000), message: `Connection refused: ${(err as Error).message}` };
      }
      if (this.closing.signal.aborted) return false;
      if (attempt < attempts) await sleep(this.options.webhookRetryDelayMs ?? 100, this.closing.signal);
    }
    return false;
  }

  private sendMessage(p: Params): TelegramMessage {
    const chat = this.requireChat(p);
    const formatted = this.formatText(p.text, p.parse_mode, p.entities, 'text');
    const replyMarkup = validReplyMarkup(p.reply_markup);
    const replyTo = this.replyTarget(chat, p);
    return this.appendMessage(chat, {
      from: this.botUser(),
      text: formatted.text,
      ...(formatted.entities.length > 0 ? { entities: formatted.entities } : {}),
      ...(replyMarkup ? { reply_markup: replyMarkup } : {}),
      ...(replyTo ? { reply_to_message: replyTo } : {}),
    });
  }

  private editMessageText(p: Params): TelegramMessage {
    const { chat, entry } = this.editableMessage(p);
    const formatted = this.formatText(p.text, p.parse_mode, p.entities, 'text');
    const replyMarkup = validReplyMarkup(p.reply_markup);
    const current = entry.message;
    if (
      current.text === formatted.text &&
      JSON.stringify(current.entities ?? []) === JSON.stringify(formatted.entities) &&
      JSON.stringify(current.reply_markup ?? null) === JSON.stringify(replyMarkup ?? null)
    ) {
      throw badRequest(
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
    }
    const edited: TelegramMessage = { ...current, text: formatted.text, edit_date: Math.floor(Date.now() / 1000) };
    if (formatted.entities.length > 0) edited.entities = formatted.entities;
    else delete edited.entities;
    if (replyMarkup) edited.reply_markup = replyMarkup;
    else delete edited.reply_markup;
    entry.message = edited;
    this.touch(chat, entry);
    return edited;
  }

  private editMessageReplyMarkup(p: Params): TelegramMessage {
    const { chat, entry } = this.editableMessage(p);
    const replyMarkup = validReplyMarkup(p.reply_markup);
    if (JSON.stringify(entry.message.reply_markup ?? null) === JSON.stringify(replyMarkup ?? null)) {
      throw badRequest(
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
    }
    const edited: TelegramMessage = { ...entry.message, edit_date: Math.floor(Date.now() / 1000) };
    if (replyMarkup) edited.reply_markup = replyMarkup;
    else delete edited.reply_markup;
    entry.message = edited;
    this.touch(chat, entry);
    return edited;
  }

  private editableMessage(p: Params): { chat: ChatState; entry: ChatHistoryEntry } {
    if (p.inline_message_id !== undefined) throw badRequest('inline messages are not supported by the fake');
    const chat = this.requireChat(p);
    const entry = chat.history.find((e) => e.message.message_id === p.message_id && !e.deleted);
    if (!entry) throw badRequest('message to edit not found');
    if (!entry.message.from?.is_bot) throw badRequest("message can't be edited");
    return { chat, entry };
  }

  private answerCallbackQuery(p: Params): true {
    const id =
      typeof p.callback_query_id === 'string' || typeof p.callback_query_id === 'number' ? String(p.callback_query_id) : '';
    const query = this.callbackQueries.get(id);
    const timeout = this.options.callbackQueryTimeoutMs ?? 15_000;
    if (!query || query.answered || Date.now() - query.createdAt > timeout) {
      throw badRequest('query is too old and response timeout expired or query ID is invalid');
    }
    if (typeof p.text === 'string' && p.text.length > MAX_CALLBACK_ANSWER_LENGTH) throw badRequest('MESSAGE_TOO_LONG');
    query.answered = true;
    return true;
  }

  private sendBotDocument(p: Params): TelegramMessage {
    const chat = this.requireChat(p);
    let file: StoredFile | undefined;
    if (isUpload(p.document)) {
      if (p.document.content.length > TELEGRAM_MAX_UPLOAD_BYTES) throw new ApiError(413, 'Request Entity Too Large');
      file = this.storeFile(p.document.content, 'documents', p.document.fileName, p.document.mimeType);
    } else if (typeof p.document === 'string' && this.files.has(p.document)) {
      file = this.files.get(p.document);
    } else if (typeof p.document === 'string' && /^https?:\/\//.test(p.document)) {
      throw badRequest('failed to get HTTP URL content');
    }
    if (!file)
      throw badRequest(
        p.document === undefined ? 'there is no document in the request' : 'wrong file identifier/HTTP URL specified',
      );
    const caption = p.caption === undefined ? undefined : this.formatText(p.caption, p.parse_mode, p.caption_entities, 'caption');
    const replyMarkup = validReplyMarkup(p.reply_markup);
    return this.appendMessage(chat, {
      from: this.botUser(),
      document: documentFor(file),
      ...(caption ? { caption: caption.text } : {}),
      ...(caption && caption.entities.length > 0 ? { caption_entities: caption.entities } : {}),
      ...(replyMarkup ? { reply_markup: replyMarkup } : {}),
    });
  }

  private setMyCommands(p: Params): true {
    if (!Array.isArray(p.commands)) throw badRequest("can't parse commands JSON object");
    if (p.commands.length > 100) throw badRequest('too many commands');
    const commands = p.commands.map((c: unknown) => {
      const command = (c as { command?: unknown }).command;
      const description = (c as { description?: unknown }).description;
      if (typeof command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(command)) throw badRequest('BOT_COMMAND_INVALID');
      if (typeof description !== 'string' || description.length < 1 || description.length > 256) {
        throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
      }
      return { command, description };
    });
    this.commands = commands;
    return true;
  }

  // ---- helpers ----------------------------------------------------------------------------

  private formatText(
    raw: unknown,
    parseMode: unknown,
    explicitEntities: unknown,
    field: 'text' | 'caption',
  ): { text: string; entities: TelegramEntity[] } {
    const source = typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : '';
    let text = source;
    let entities: TelegramEntity[] = Array.isArray(explicitEntities) ? (explicitEntities as TelegramEntity[]) : [];
    if (parseMode !== undefined && parseMode !== '') {
      if (parseMode === 'HTML' || parseMode === 'html') {
        try {
          ({ text, entities } = parseTelegramHtml(source, { strictAmpersand: this.options.strictHtml === true }));
        } catch (err) {
          if (err instanceof TelegramParseError) throw badRequest(`can't parse entities: ${err.message}`);
          throw err;
        }
      } else if (parseMode !== 'MarkdownV2' && parseMode !== 'Markdown') {
        throw badRequest('unsupported parse_mode');
      }
      // MarkdownV2 and Markdown are stored as sent; only HTML is checked.
    }
    const trimmed = text.trim();
    if (field === 'text' && trimmed.length === 0) throw badRequest('message text is empty');
    if (field === 'text' && text.length > TELEGRAM_MAX_TEXT_LENGTH) throw badRequest('message is too long');
    if (field === 'caption' && text.length > TELEGRAM_MAX_CAPTION_LENGTH) throw badRequest('message caption is too long');
    return { text, entities };
  }

  private requireChat(p: Params): ChatState {
    if (p.chat_id === undefined || p.chat_id === '') throw badRequest('chat_id is empty');
    const chat = this.chats.get(p.chat_id as number | string);
    if (!chat) throw badRequest('chat not found');
    return chat;
  }

  private replyTarget(chat: ChatState, p: Params): TelegramMessage | undefined {
    const parameters = p.reply_parameters as { message_id?: unknown } | undefined;
    const id = parameters?.message_id ?? p.reply_to_message_id;
    if (id === undefined) return undefined;
    const message = this.findMessage(chat, Number(id));
    if (!message) throw badRequest('message to be replied not found');
    return message;
  }

  /** The chat's state, created on its first message (or addChat). */
  private chatState(chat: TelegramChat): ChatState {
    let state = this.chats.get(chat.id);
    if (!state) {
      state = { chat, nextMessageId: 1, revision: 0, history: [] };
      this.chats.set(chat.id, state);
    }
    return state;
  }

  private findMessage(chat: ChatState, messageId: number): TelegramMessage | undefined {
    return chat.history.find((e) => e.message.message_id === messageId && !e.deleted)?.message;
  }

  private appendMessage(chat: ChatState, content: Omit<TelegramMessage, 'message_id' | 'chat' | 'date'>): TelegramMessage {
    const message: TelegramMessage = {
      message_id: chat.nextMessageId++,
      chat: chat.chat,
      date: Math.floor(Date.now() / 1000),
      ...content,
    };
    const entry: ChatHistoryEntry = { revision: 0, message };
    chat.history.push(entry);
    this.touch(chat, entry);
    return message;
  }

  private touch(chat: ChatState, entry: ChatHistoryEntry): void {
    chat.revision += 1;
    entry.revision = chat.revision;
    for (const wake of this.chatWaiters.get(chat.chat.id) ?? []) wake();
  }

  private enqueue(content: Omit<TelegramUpdate, 'update_id'>): TelegramUpdate {
    const update: TelegramUpdate = { update_id: this.nextUpdateId++, ...content };
    this.queue.push({ update, handedOut: false });
    this.wakeConsumers();
    return update;
  }

  private storeFile(content: Buffer, folder: string, fileName?: string, mimeType?: string, declaredSize?: number): StoredFile {
    const number = this.nextFileNumber++;
    const extension = fileName && /\.[A-Za-z0-9]{1,8}$/.exec(fileName)?.[0];
    const file: StoredFile = {
      file_id: `BQACAgIAAxkBAAI${randomBytes(12).toString('base64url')}`,
      file_unique_id: `AgAD${randomBytes(6).toString('base64url')}`,
      file_path: `${folder}/file_${number}${extension ?? ''}`,
      file_size: Math.max(declaredSize ?? 0, content.length),
      content,
      ...(mimeType ? { mime_type: mimeType } : {}),
      ...(fileName ? { file_name: fileName } : {}),
    };
    this.files.set(file.file_id, file);
    return file;
  }
}

function userFor(input: UserInput): TelegramUser {
  return { is_bot: false, first_name: `User ${input.id}`, ...input };
}

function chatFor(chatId: number, from: UserInput, type: ChatType = 'private', title?: string): TelegramChat {
  if (type === 'private') {
    return {
      id: chatId,
      type,
      first_name: from.first_name ?? `User ${from.id}`,
      ...(from.last_name ? { last_name: from.last_name } : {}),
      ...(from.username ? { username: from.username } : {}),
    };
  }
  return { id: chatId, type, title: title ?? `Chat ${chatId}` };
}

function documentFor(file: StoredFile): TelegramDocument {
  return {
    file_id: file.file_id,
    file_unique_id: file.file_unique_id,
    file_size: file.file_size,
    ...(file.file_name ? { file_name: file.file_name } : {}),
    ...(file.mime_type ? { mime_type: file.mime_type } : {}),
  };
}

function updateType(update: TelegramUpdate): string {
  return Object.keys(update).find((k) => k !== 'update_id') ?? 'message';
}

function validReplyMarkup(raw: unknown): TelegramReplyMarkup | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'object') throw badRequest("can't parse reply keyboard markup JSON object");
  const markup = raw as TelegramReplyMarkup;
  if (markup.inline_keyboard !== undefined) {
    if (!Array.isArray(markup.inline_keyboard) || !markup.inline_keyboard.every((row) => Array.isArray(row))) {
      throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
    }
    for (const button of markup.inline_keyboard.flat()) {
      if (typeof button.text !== 'string' || button.text === '')
        throw badRequest('text buttons are unallowed in the inline keyboard');
      if (button.callback_data !== undefined) {
        const size = Buffer.byteLength(String(button.callback_data), 'utf8');
        if (size < 1 || size > MAX_CALLBACK_DATA_BYTES) throw badRequest('BUTTON_DATA_INVALID');
      }
    }
  }
  return markup;
}

interface Upload {
  fileName?: string;
  mimeType?: string;
  content: Buffer;
}

function isUpload(value: unknown): value is Upload {
  return typeof value === 'object' && value !== null && Buffer.isBuffer((value as Upload).content);
}

/** Query string and body merged; form values coerced to what Telegram makes of them. */
async function readParams(req: IncomingMessage, url: URL): Promise<Params> {
  const params: Params = {};
  for (const [key, value] of url.searchParams) params[key] = value;
  if (req.method === 'GET' || req.method === 'HEAD') return coerce(params);
  const body = await readBody(req);
  if (body.length > TELEGRAM_MAX_UPLOAD_BYTES + 1024 * 1024) throw new ApiError(413, 'Request Entity Too Large');
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (body.length === 0) return coerce(params);
  if (type.startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest("can't parse JSON object");
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest("can't parse JSON object");
    return coerce({ ...params, ...(parsed as Params) });
  }
  if (type.startsWith('multipart/form-data')) {
    // undici's multipart parser, so the fake needs no dependency of its own.
    const form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
    for (const [key, value] of form) {
      if (typeof value === 'string') params[key] = value;
      else {
        params[key] = {
          fileName: value.name,
          ...(value.type ? { mimeType: value.type } : {}),
          content: Buffer.from(await value.arrayBuffer()),
        } satisfies Upload;
      }
    }
    return coerce(params);
  }
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params[key] = value;
  return coerce(params);
}

function coerce(params: Params): Params {
  for (const [key, value] of Object.entries(params)) {
    if (typeof value !== 'string') continue;
    if (JSON_FIELDS.has(key)) {
      try {
        params[key] = JSON.parse(value);
      } catch {
        throw badRequest(`can't parse ${key} JSON object`);
      }
    } else if (INTEGER_FIELDS.has(key) && /^-?\d+$/.test(value)) {
      params[key] = Number(value);
    } else if (BOOLEAN_FIELDS.has(key)) {
      params[key] = value === 'true' || value === '1';
    }
  }
  return params;
}
