import type { ChatMessage } from './render';

/**
 * The local Telegram emulator's control API (packages/testkit/src/fakes/telegram-server.ts
 * documents it), as one user in one chat sees it: write, press buttons, send files,
 * and long-poll the chat for what changed.
 */

export interface ChatUser {
  id: number;
  first_name: string;
  username?: string;
}

export interface ChatChange {
  revision: number;
  message: ChatMessage;
  deleted?: boolean;
}

export interface ChatChanges {
  messages: ChatChange[];
  /** Pass as `after` on the next call. Lower than the `after` asked with: the emulator was restarted. */
  next: number;
}

/** The emulator does not answer at all (not started, stopped, wrong address). */
export class EmulatorUnreachableError extends Error {}

/** The emulator answered with an error, e.g. a button the bot never sent. */
export class EmulatorRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface OutgoingDocument {
  fileName: string;
  content: Buffer;
  mimeType?: string;
  caption?: string;
}

export class EmulatorClient {
  readonly url: string;

  constructor(
    url: string,
    readonly chatId: number,
    readonly user: ChatUser,
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  /** Resolves when the emulator answers its control API; otherwise says what to start. */
  async check(): Promise<void> {
    await this.request('GET', '/_emulator/chats');
  }

  async sendText(text: string): Promise<void> {
    await this.request('POST', '/_emulator/messages', { chatId: this.chatId, from: this.user, text });
  }

  async press(messageId: number, data: string): Promise<void> {
    await this.request('POST', '/_emulator/callbacks', { chatId: this.chatId, from: this.user, messageId, data });
  }

  async sendDocument(document: OutgoingDocument): Promise<void> {
    await this.request('POST', '/_emulator/documents', {
      chatId: this.chatId,
      from: this.user,
      fileName: document.fileName,
      contentBase64: document.content.toString('base64'),
      ...(document.mimeType ? { mimeType: document.mimeType } : {}),
      ...(document.caption ? { caption: document.caption } : {}),
    });
  }

  /** The chat's new, edited and deleted messages since `after`; with a timeout, waits up to that long for one. */
  async changes(after: number, timeoutSeconds: number, signal?: AbortSignal): Promise<ChatChanges> {
    const query = new URLSearchParams({ after: String(after), timeout: String(timeoutSeconds) });
    return (await this.request('GET', `/_emulator/chats/${this.chatId}/messages?${query.toString()}`, undefined, signal)) as ChatChanges;
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new EmulatorUnreachableError(
        `no Telegram emulator answers at ${this.url} (${cause?.code ?? cause?.message ?? (err as Error).message})`,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new EmulatorRequestError(response.status, `${this.url} is not the Telegram emulator (${method} ${path} answered ${response.status}, not JSON)`);
    }
    if (!response.ok) {
      const message = (parsed as { error?: unknown }).error;
      throw new EmulatorRequestError(response.status, typeof message === 'string' ? message : `${method} ${path} answered ${response.status}`);
    }
    return parsed;
  }
}
