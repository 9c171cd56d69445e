import { Api, TelegramApiError } from 'node-telegram-bot-api';
import type { CallbackQuery, Message } from 'node-telegram-bot-api';

/**
 * The gateway's own calls to the Bot API. It never sends messages (the outbound
 * worker does, from stored replies); it reads updates, answers callback queries,
 * fetches uploaded files and registers its webhook.
 */

/** What the gateway reads of an update; the rest of the payload is stored as it came. */
export interface IncomingUpdate {
  update_id: number;
  message?: Message;
  callback_query?: CallbackQuery;
  [kind: string]: unknown;
}

/** getFile serves at most this much (a local Bot API server lifts the cap). */
export const TELEGRAM_MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;
export const DEFAULT_TELEGRAM_API_ROOT = 'https://api.telegram.org';
/** The update kinds the gateway acts on; Telegram is asked for nothing else. */
export const ALLOWED_UPDATES = ['message', 'callback_query'];

export class FileTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`the file is larger than ${limitBytes} bytes`);
    this.name = 'FileTooLargeError';
  }
}

export interface BotIdentity {
  id: number;
  username: string;
}

export class TelegramClient {
  readonly api: Api;

  constructor(
    private readonly token: string,
    readonly apiRoot: string,
  ) {
    this.api = new Api(token, { apiRoot, maxRetries: 2 });
  }

  async identity(signal?: AbortSignal): Promise<BotIdentity> {
    const me = await this.api.getMe(signal);
    return { id: me.id, username: me.username ?? '' };
  }

  getUpdates(offset: number | undefined, timeoutSeconds: number, signal: AbortSignal) {
    return this.api.getUpdates(
      { ...(offset !== undefined && { offset }), timeout: timeoutSeconds, limit: 100, allowed_updates: ALLOWED_UPDATES },
      signal,
    ) as unknown as Promise<IncomingUpdate[]>;
  }

  async useWebhook(url: string, secretToken: string): Promise<void> {
    await this.api.setWebhook({ url, secret_token: secretToken, allowed_updates: ALLOWED_UPDATES });
  }

  /** Long polling fails while a webhook is set; pending updates are kept. */
  async usePolling(): Promise<void> {
    await this.api.deleteWebhook({ drop_pending_updates: false });
  }

  /**
   * Stops the button's spinner. Telegram refuses a second or late answer ("query is
   * too old"): that is no reason to leave the press unhandled, so false is returned.
   */
  async answerCallbackQuery(id: string, text?: string): Promise<boolean> {
    try {
      await this.api.answerCallbackQuery({ callback_query_id: id, ...(text ? { text } : {}) });
      return true;
    } catch (err) {
      if (err instanceof TelegramApiError && err.errorCode === 400) return false;
      throw err;
    }
  }

  /** Downloads an uploaded file by id: getFile, then `{apiRoot}/file/bot{token}/{file_path}`, refusing more than `maxBytes`. */
  async download(fileId: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
    const file = await this.api.getFile({ file_id: fileId }, signal);
    if (file.file_size !== undefined && file.file_size > maxBytes) throw new FileTooLargeError(maxBytes);
    if (!file.file_path) throw new Error('Telegram gave no file_path for the file');
    const response = await fetch(`${this.apiRoot}/file/bot${this.token}/${file.file_path}`, {
      ...(signal && { signal }),
    });
    if (!response.ok || !response.body) throw new Error(`the file download answered ${response.status}`);
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > maxBytes) {
      await response.body.cancel();
      throw new FileTooLargeError(maxBytes);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Uint8Array).length;
      if (size > maxBytes) throw new FileTooLargeError(maxBytes);
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
    return Buffer.concat(chunks);
  }
}
