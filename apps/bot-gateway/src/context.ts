import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { appendToOpenConversation, openConversation, textBlocks } from '@dealdome/domain';
import type { Conversation, User } from '@dealdome/domain';
import type { Producer } from '@dealdome/queues';
import type { RedisConnection } from '@dealdome/queues';
import type { Chat, User as TelegramUser } from 'node-telegram-bot-api';
import { MAX_MESSAGES_PER_UPDATE, updateRowId } from './ids';
import type { UpdateRowKind } from './ids';
import type { PendingJob } from './jobs';
import type { BotIdentity, IncomingUpdate, TelegramClient } from './telegram';

/** What the handlers share: the platform's connections, Telegram and two facts of configuration. */
export interface GatewayDeps {
  db: Database;
  producer: Producer;
  redis: RedisConnection;
  /** Prefix of the gateway's own Redis keys (the queue prefix, so one installation's keys stay together). */
  keyPrefix: string;
  logger: Logger;
  telegram: TelegramClient;
  /** The bot's id and username (getMe, asked once). */
  bot: () => Promise<BotIdentity>;
  /** An Anthropic key is configured: free text goes to the agents. */
  agentsOnline: boolean;
}

export interface InlineKeyboard {
  inline_keyboard: { text: string; callback_data: string }[][];
}

/**
 * One update being handled. Replies are stored as assistant messages and their
 * delivery queued once the handler is done; ids of what the update stores are
 * derived from its update_id, so handling it again stores nothing twice.
 */
export class UpdateContext {
  readonly jobs: PendingJob[] = [];
  readonly log: Logger;
  private messageSeq = 0;

  constructor(
    readonly deps: GatewayDeps,
    readonly update: IncomingUpdate,
    readonly chat: Chat,
    readonly from: TelegramUser,
    /** The team member who sent it; undefined for anyone else (until /link makes them one). */
    public member: User | undefined,
  ) {
    this.log = deps.logger.child({ updateId: update.update_id });
  }

  get db(): Database {
    return this.deps.db;
  }

  get chatId(): string {
    return String(this.chat.id);
  }

  get isPrivate(): boolean {
    return this.chat.type === 'private';
  }

  rowId(kind: Exclude<UpdateRowKind, 'message'>): string {
    return updateRowId(this.update, kind);
  }

  private nextMessageId(): string {
    if (this.messageSeq >= MAX_MESSAGES_PER_UPDATE) throw new Error(`an update may store at most ${MAX_MESSAGES_PER_UPDATE} messages`);
    return updateRowId(this.update, 'message', this.messageSeq++);
  }

  /**
   * Runs domain writes and the replies about them in one transaction. Should it
   * roll back, the jobs it queued are dropped with it: they would name rows that
   * do not exist.
   */
  async transaction<T>(work: (trx: Database) => Promise<T>): Promise<T> {
    const jobs = this.jobs.length;
    const seq = this.messageSeq;
    try {
      return await this.db.transaction().execute(work);
    } catch (err) {
      this.jobs.length = jobs;
      this.messageSeq = seq;
      throw err;
    }
  }

  conversation(db: Database = this.db): Promise<Conversation> {
    return openConversation(db, this.chatOwner());
  }

  /** The chat, and whom a conversation opened for it belongs to. */
  private chatOwner(): { chatId: number; userId: string | null } {
    return { chatId: this.chat.id, userId: this.member?.id ?? null };
  }

  /**
   * Stores what the person sent in the chat's open conversation. `answered`: a
   * command or upload, answered by its own reply; otherwise it waits for an agent.
   */
  async storeUserMessage(text: string, options: { answered: boolean; telegramMessageId?: number }, db: Database = this.db) {
    const { id, conversation } = await appendToOpenConversation(db, this.chatOwner(), {
      id: this.nextMessageId(),
      role: 'user',
      content: textBlocks(text),
      userId: this.member?.id ?? null,
      telegramMessageId: options.telegramMessageId ?? null,
      answered: options.answered,
    });
    return { id, conversation };
  }

  /** Stores a reply (Telegram HTML; every piece of data in it escaped) and queues its delivery. */
  async reply(html: string, options: { replyMarkup?: InlineKeyboard; db?: Database } = {}): Promise<string> {
    const db = options.db ?? this.db;
    const { id } = await appendToOpenConversation(db, this.chatOwner(), {
      id: this.nextMessageId(),
      role: 'assistant',
      content: textBlocks(html),
      userId: this.member?.id ?? null,
      replyMarkup: options.replyMarkup ? { ...options.replyMarkup } : null,
    });
    this.jobs.push({ kind: 'deliver', chatId: this.chatId, messageId: id });
    return id;
  }

  queueTurn(conversationId: string, messageId: string): void {
    this.jobs.push({ kind: 'turn', chatId: this.chatId, conversationId, messageId });
  }

  queueIngest(videoId: string): void {
    this.jobs.push({ kind: 'ingest', videoId });
  }

  queueMemoryEmbedding(memoryId: string): void {
    this.jobs.push({ kind: 'embed-memory', memoryId });
  }
}

/** A context whose sender is on the team: what command handlers get. */
export type MemberContext = UpdateContext & { readonly member: User };
