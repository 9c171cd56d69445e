import type { Database, Json } from '@dealdome/db';
import { sql } from 'kysely';

/**
 * Conversations and their messages: what the team said to the bot and what it
 * answered. A chat has at most one open conversation (a partial unique index);
 * /new closes it and the next one opens. Message content is a list of
 * Anthropic-style blocks; replies written by the platform itself are one text
 * block in Telegram HTML.
 */

export const agentNames = ['alfred', 'roos', 'elisa'] as const;
export type AgentName = (typeof agentNames)[number];
export const DEFAULT_AGENT: AgentName = 'alfred';

export const isAgentName = (value: string): value is AgentName => (agentNames as readonly string[]).includes(value);

export interface Conversation {
  id: string;
  /** Telegram chat id as a decimal string (it exceeds 2^31 and is negative for groups). */
  chatId: string;
  userId: string | null;
  agent: AgentName;
  startedAt: Date;
  closedAt: Date | null;
}

export interface TextBlock {
  type: 'text';
  text: string;
}

export const textBlocks = (text: string): TextBlock[] => [{ type: 'text', text }];

/**
 * Whether a Telegram chat is a private one with a single person: Telegram gives
 * private chats positive ids (the person's own) and groups, supergroups and
 * channels negative ones. Personal memories are read and written only there,
 * since everyone in a group sees every reply.
 */
export const isPrivateChat = (chatId: string | number | bigint): boolean => BigInt(chatId) > 0n;

const conversationColumns = ['id', 'chat_id', 'user_id', 'agent', 'started_at', 'closed_at'] as const;
type ConversationRow = { id: string; chat_id: string; user_id: string | null; agent: string; started_at: Date; closed_at: Date | null };

const presentConversation = (r: ConversationRow): Conversation => ({
  id: r.id,
  chatId: r.chat_id,
  userId: r.user_id,
  agent: isAgentName(r.agent) ? r.agent : DEFAULT_AGENT,
  startedAt: r.started_at,
  closedAt: r.closed_at,
});

type ChatId = string | number | bigint;

export async function findOpenConversation(db: Database, chatId: ChatId): Promise<Conversation | undefined> {
  const row = await db
    .selectFrom('conversations')
    .select(conversationColumns)
    .where('chat_id', '=', String(chatId))
    .where('closed_at', 'is', null)
    .executeTakeFirst();
  return row && presentConversation(row);
}

/**
 * The chat's open conversation, opened now when it has none. Two callers racing
 * for a chat without one get the same conversation: the one-open-per-chat index
 * lets one insert win and the other reads it.
 */
export async function openConversation(
  db: Database,
  input: { chatId: ChatId; userId: string | null; agent?: AgentName },
): Promise<Conversation> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const open = await findOpenConversation(db, input.chatId);
    if (open) return open;
    const inserted = await db
      .insertInto('conversations')
      .values({ chat_id: String(input.chatId), user_id: input.userId, agent: input.agent ?? DEFAULT_AGENT })
      .onConflict((oc) => oc.column('chat_id').where('closed_at', 'is', null).doNothing())
      .returning(conversationColumns)
      .executeTakeFirst();
    if (inserted) return presentConversation(inserted);
  }
  throw new Error(`no open conversation could be found or opened for chat ${String(input.chatId)}`);
}

/**
 * Closes the chat's open conversation and opens a new one with the same agent (a
 * person who chose Roos and starts afresh still talks to Roos). Runs in its own
 * transaction unless given one.
 */
export async function startNewConversation(
  db: Database,
  input: { chatId: ChatId; userId: string | null },
): Promise<{ closed: Conversation | undefined; opened: Conversation }> {
  const run = async (trx: Database) => {
    const closedRow = await trx
      .updateTable('conversations')
      .set({ closed_at: new Date() })
      .where('chat_id', '=', String(input.chatId))
      .where('closed_at', 'is', null)
      .returning(conversationColumns)
      .executeTakeFirst();
    const closed = closedRow && presentConversation(closedRow);
    const opened = await openConversation(trx, { chatId: input.chatId, userId: input.userId, agent: closed?.agent ?? DEFAULT_AGENT });
    return { closed, opened };
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/** Sets the agent of the chat's open conversation (opening one when there is none). */
export async function setConversationAgent(
  db: Database,
  input: { chatId: ChatId; userId: string | null; agent: AgentName },
): Promise<Conversation> {
  const conversation = await openConversation(db, input);
  const row = await db
    .updateTable('conversations')
    .set({ agent: input.agent })
    .where('id', '=', conversation.id)
    .returning(conversationColumns)
    .executeTakeFirstOrThrow();
  return presentConversation(row);
}

export interface NewMessage {
  /** Chosen by the caller for idempotency: a message stored twice under one id is stored once. */
  id?: string;
  conversationId: string;
  role: 'user' | 'assistant';
  content: unknown[];
  userId?: string | null;
  agent?: AgentName | null;
  telegramMessageId?: ChatId | null;
  /** An inline keyboard delivered with the message. */
  replyMarkup?: Record<string, unknown> | null;
  /** A user message that needs no agent's answer (a command, already answered by its reply). */
  answered?: boolean;
}

/**
 * Stores a message. With an `id` that is already stored nothing changes and
 * `inserted` is false, so a retried intake writes each message once.
 */
export async function appendMessage(db: Database, message: NewMessage): Promise<{ id: string; inserted: boolean }> {
  // Serialized here: pg would otherwise write a JS array as a PostgreSQL array.
  const json = (value: unknown) => sql<Json>`${JSON.stringify(value)}::jsonb`;
  const query = db
    .insertInto('messages')
    .values({
      ...(message.id !== undefined && { id: message.id }),
      conversation_id: message.conversationId,
      role: message.role,
      content: json(message.content),
      user_id: message.userId ?? null,
      agent: message.agent ?? null,
      telegram_message_id: message.telegramMessageId == null ? null : String(message.telegramMessageId),
      reply_markup: message.replyMarkup ? json(message.replyMarkup) : null,
      answered_at: message.answered ? new Date() : null,
    })
    .returning('id');
  const row = await (message.id === undefined ? query : query.onConflict((oc) => oc.column('id').doNothing())).executeTakeFirst();
  return row ? { id: row.id, inserted: true } : { id: message.id!, inserted: false };
}

/**
 * Stores a message in the chat's open conversation with one statement, the common
 * case of every update; when the chat has no open conversation yet, one is opened
 * first (openConversation) and the message appended. `inserted` as appendMessage.
 */
export async function appendToOpenConversation(
  db: Database,
  chat: { chatId: ChatId; userId: string | null },
  message: Omit<NewMessage, 'conversationId'> & { id: string },
): Promise<{ id: string; inserted: boolean; conversation: Conversation }> {
  const { rows } = await sql<ConversationRow & { message_id: string | null }>`
    WITH open AS (
      SELECT id, chat_id, user_id, agent, started_at, closed_at FROM conversations
      WHERE chat_id = ${String(chat.chatId)} AND closed_at IS NULL
    ), inserted AS (
      INSERT INTO messages (id, conversation_id, role, content, user_id, agent, telegram_message_id, reply_markup, answered_at)
      SELECT ${message.id}::uuid, open.id, ${message.role}, ${JSON.stringify(message.content)}::jsonb, ${message.userId ?? null}::uuid,
             ${message.agent ?? null}::text, ${message.telegramMessageId == null ? null : String(message.telegramMessageId)}::bigint,
             ${message.replyMarkup ? JSON.stringify(message.replyMarkup) : null}::jsonb, ${message.answered ? new Date() : null}::timestamptz
      FROM open
      ON CONFLICT (id) DO NOTHING
      RETURNING id
    )
    SELECT open.*, (SELECT id FROM inserted) AS message_id FROM open`.execute(db);
  const row = rows[0];
  if (row) return { id: message.id, inserted: row.message_id !== null, conversation: presentConversation(row) };
  const conversation = await openConversation(db, chat);
  const appended = await appendMessage(db, { ...message, conversationId: conversation.id });
  return { ...appended, conversation };
}

export interface StoredMessage {
  id: string;
  conversationId: string;
  chatId: string;
  role: 'user' | 'assistant' | 'tool';
  content: unknown;
  replyMarkup: unknown;
  userId: string | null;
  answeredAt: Date | null;
  createdAt: Date;
}

/** The messages among `ids` that are stored, oldest first. */
export async function findMessages(db: Database, ids: string[]): Promise<StoredMessage[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('messages as m')
    .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
    .select(['m.id', 'm.conversation_id', 'c.chat_id', 'm.role', 'm.content', 'm.reply_markup', 'm.user_id', 'm.answered_at', 'm.created_at'])
    .where('m.id', 'in', ids)
    .orderBy('m.created_at')
    .orderBy('m.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    conversationId: r.conversation_id,
    chatId: r.chat_id,
    role: r.role as StoredMessage['role'],
    content: r.content,
    replyMarkup: r.reply_markup,
    userId: r.user_id,
    answeredAt: r.answered_at,
    createdAt: r.created_at,
  }));
}

/**
 * Marks the open conversation's unanswered user messages as answered, so no agent
 * turn picks them up (a turn answers the chat's unanswered messages). Returns how
 * many there were.
 */
export async function dropUnansweredMessages(db: Database, chatId: ChatId): Promise<number> {
  const result = await db
    .updateTable('messages')
    .set({ answered_at: new Date() })
    .where('role', '=', 'user')
    .where('answered_at', 'is', null)
    .where('conversation_id', 'in', (eb) =>
      eb.selectFrom('conversations').select('id').where('chat_id', '=', String(chatId)).where('closed_at', 'is', null),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

// ---------------------------------------------------------------- usage

export interface UsageFigures {
  /** Assistant messages that recorded usage. */
  replies: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Exact decimal string, in USD (the currency the API bills in). */
  costUsd: string;
}

export interface UsageReport {
  from: string;
  /** Exclusive. */
  to: string;
  timeZone: string;
  byAgent: (UsageFigures & { agent: string })[];
  byPerson: (UsageFigures & { userId: string | null; displayName: string | null })[];
  total: UsageFigures;
}

type UsageRow = {
  key: string | null;
  name: string | null;
  replies: string;
  input_tokens: string;
  output_tokens: string;
  cache_read_tokens: string;
  cache_write_tokens: string;
  cost_usd: string;
};

const figuresOf = (r: UsageRow): UsageFigures => ({
  replies: Number(r.replies),
  inputTokens: Number(r.input_tokens),
  outputTokens: Number(r.output_tokens),
  cacheReadTokens: Number(r.cache_read_tokens),
  cacheWriteTokens: Number(r.cache_write_tokens),
  costUsd: r.cost_usd,
});

/**
 * Tokens and cost of the agents' replies from `from` (inclusive) to `to`
 * (exclusive), both calendar days in `timeZone`: per agent, per person and in
 * total. A reply counts for the person in its `user_id` (whom it answered), else
 * for the person whose conversation it is in.
 */
export async function usageBetween(db: Database, range: { from: string; to: string; timeZone: string }): Promise<UsageReport> {
  const sums = sql`
    count(*)::int8 AS replies,
    coalesce(sum(m.input_tokens), 0)::int8 AS input_tokens,
    coalesce(sum(m.output_tokens), 0)::int8 AS output_tokens,
    coalesce(sum(m.cache_read_tokens), 0)::int8 AS cache_read_tokens,
    coalesce(sum(m.cache_write_tokens), 0)::int8 AS cache_write_tokens,
    coalesce(sum(m.cost_usd), 0)::numeric(18, 6)::text AS cost_usd`;
  const from = sql`FROM messages m JOIN conversations c ON c.id = m.conversation_id`;
  const where = sql`
    WHERE m.role = 'assistant'
      AND m.created_at >= (${range.from}::date::timestamp AT TIME ZONE ${range.timeZone})
      AND m.created_at < (${range.to}::date::timestamp AT TIME ZONE ${range.timeZone})
      AND (m.input_tokens IS NOT NULL OR m.output_tokens IS NOT NULL OR m.cost_usd IS NOT NULL)`;
  const [byAgent, byPerson, total] = await Promise.all([
    sql<UsageRow>`SELECT coalesce(m.agent, c.agent) AS key, NULL::text AS name, ${sums} ${from} ${where} GROUP BY 1 ORDER BY 1`.execute(db),
    sql<UsageRow>`
      SELECT coalesce(m.user_id, c.user_id)::text AS key, u.display_name AS name, ${sums} ${from}
      LEFT JOIN users u ON u.id = coalesce(m.user_id, c.user_id)
      ${where} GROUP BY 1, 2 ORDER BY 2 NULLS LAST, 1`.execute(db),
    sql<UsageRow>`SELECT NULL::text AS key, NULL::text AS name, ${sums} ${from} ${where}`.execute(db),
  ]);
  return {
    from: range.from,
    to: range.to,
    timeZone: range.timeZone,
    byAgent: byAgent.rows.map((r) => ({ agent: r.key ?? DEFAULT_AGENT, ...figuresOf(r) })),
    byPerson: byPerson.rows.map((r) => ({ userId: r.key, displayName: r.name, ...figuresOf(r) })),
    total: figuresOf(total.rows[0]!),
  };
}
