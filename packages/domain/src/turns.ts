import { randomUUID } from 'node:crypto';
import type { Database, DB, Json } from '@dealdome/db';
import { sql } from 'kysely';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import { adSpendInput, createAdSpend } from './ad-spend';
import type { AdSpendEntry } from './ad-spend';
import { DEFAULT_AGENT, isAgentName } from './conversations';
import type { AgentName } from './conversations';
import { AppError, forbidden, invalid, notFound, unprocessable } from './errors';
import { presentMemory } from './memories';
import type { Memory, MemoryRow } from './memories';
import { getProduct } from './products';
import { getSetting } from './settings';
import { getActiveUser } from './users';
import type { Role } from './users';
import { Decimal, timeZone as timeZoneSchema } from './values';

/**
 * What an agent turn reads and writes: the conversation's unanswered user messages
 * and its history, the one transaction that stores a turn's answer, Roos's pending
 * writes, the monthly AI budget, and the plain memory and knowledge queries the
 * agents' tools use (the embeddings work replaces the last two with vector search).
 */

const jsonb = (value: unknown) => sql<Json>`${JSON.stringify(value)}::jsonb`;

// ---------------------------------------------------------------- conversation state

/** A stored message as a turn reads it. `content` holds Anthropic content blocks. */
export interface TurnMessage {
  id: string;
  role: 'user' | 'assistant' | 'tool';
  content: Json[];
  userId: string | null;
  createdAt: Date;
}

export interface TurnPerson {
  id: string;
  displayName: string;
  role: Role;
}

export interface TurnContext {
  conversation: { id: string; chatId: string; agent: AgentName; userId: string | null };
  /**
   * The answered past, oldest first: each turn's user messages, then the messages
   * that answered them. Capped at HISTORY_MESSAGE_LIMIT; the caller trims by tokens.
   */
  history: TurnMessage[];
  /** Every user message not answered yet, in arrival order: one turn answers them all. */
  unanswered: TurnMessage[];
  /** Author of the newest unanswered message: whom the turn answers and charges. */
  asker: TurnPerson | null;
}

export const HISTORY_MESSAGE_LIMIT = 200;

function toStored(row: { id: string; role: string; content: Json; user_id: string | null; created_at: Date }): TurnMessage {
  return {
    id: row.id,
    role: row.role as TurnMessage['role'],
    content: Array.isArray(row.content) ? row.content : [],
    userId: row.user_id,
    createdAt: row.created_at,
  };
}

/**
 * The conversation, its unanswered user messages, its recent past and the asker, in
 * one statement (a turn runs it once; each round trip is paid per message handled).
 */
export async function loadTurnContext(db: Database, conversationId: string): Promise<TurnContext> {
  // A user message sorts at the moment it was answered and the answer a microsecond
  // later (see recordTurn), so each turn's question precedes its answer even when a
  // message arrived while an earlier turn was still running.
  const { rows } = await sql<{
    chat_id: string;
    agent: string;
    conversation_user_id: string | null;
    part: 'unanswered' | 'past' | null;
    id: string | null;
    role: string | null;
    content: Json;
    user_id: string | null;
    created_at: Date | null;
    asker_id: string | null;
    asker_name: string | null;
    asker_role: string | null;
  }>`
    WITH conversation AS (
      SELECT id, chat_id, agent, user_id FROM conversations WHERE id = ${conversationId}
    ), unanswered AS (
      SELECT id, role, content, user_id, created_at,
             row_number() OVER (ORDER BY created_at, telegram_message_id ASC NULLS LAST, id) AS ord
      FROM messages
      WHERE conversation_id = ${conversationId} AND role = 'user' AND answered_at IS NULL
    ), past AS (
      SELECT id, role, content, user_id, created_at,
             -row_number() OVER (ORDER BY coalesce(answered_at, created_at) DESC, created_at DESC, id DESC) AS ord
      FROM messages
      WHERE conversation_id = ${conversationId} AND NOT (role = 'user' AND answered_at IS NULL)
      ORDER BY coalesce(answered_at, created_at) DESC, created_at DESC, id DESC
      LIMIT ${HISTORY_MESSAGE_LIMIT}
    ), turn_messages AS (
      SELECT 'unanswered' AS part, * FROM unanswered
      UNION ALL
      SELECT 'past' AS part, * FROM past
    ), asker AS (
      SELECT u.id, u.display_name, u.role
      FROM users u
      WHERE u.disabled_at IS NULL
        AND u.id = coalesce((SELECT user_id FROM unanswered ORDER BY ord DESC LIMIT 1), (SELECT user_id FROM conversation))
    )
    SELECT c.chat_id, c.agent, c.user_id AS conversation_user_id,
           m.part, m.id, m.role, m.content, m.user_id, m.created_at,
           a.id AS asker_id, a.display_name AS asker_name, a.role AS asker_role
    FROM conversation c
    LEFT JOIN turn_messages m ON true
    LEFT JOIN asker a ON true
    ORDER BY m.part DESC, m.ord`.execute(db);
  const first = rows[0];
  if (!first) throw notFound('the conversation');
  const messagesOf = (part: 'unanswered' | 'past') =>
    rows.flatMap((r) => (r.part === part ? [toStored({ id: r.id!, role: r.role!, content: r.content, user_id: r.user_id, created_at: r.created_at! })] : []));
  return {
    conversation: {
      id: conversationId,
      chatId: first.chat_id,
      agent: isAgentName(first.agent) ? first.agent : DEFAULT_AGENT,
      userId: first.conversation_user_id,
    },
    history: messagesOf('past'),
    unanswered: messagesOf('unanswered'),
    asker: first.asker_id ? { id: first.asker_id, displayName: first.asker_name!, role: first.asker_role as Role } : null,
  };
}

export type TurnJobState =
  /** Some of the messages are not stored (yet): the job came before the intake committed, or names a deleted message. */
  | { state: 'missing'; missing: string[] }
  | { state: 'unanswered' }
  /** Every message is answered; `replyIds` are the replies that did it (none when answered without one). */
  | { state: 'answered'; replyIds: string[] };

/** Where a run-turn job's messages stand. */
export async function turnJobState(db: Database, conversationId: string, messageIds: readonly string[]): Promise<TurnJobState> {
  const rows = await db
    .selectFrom('messages')
    .select(['id', 'answered_at', 'answered_by'])
    .where('conversation_id', '=', conversationId)
    .where('role', '=', 'user')
    .where('id', 'in', [...messageIds])
    .execute();
  const found = new Set(rows.map((r) => r.id));
  const missing = messageIds.filter((id) => !found.has(id));
  if (missing.length > 0) return { state: 'missing', missing };
  if (rows.some((r) => r.answered_at === null)) return { state: 'unanswered' };
  const replyIds = [...new Set(rows.flatMap((r) => (r.answered_by ? [r.answered_by] : [])))];
  return { state: 'answered', replyIds };
}

// ---------------------------------------------------------------- recording a turn

export interface TurnUsage {
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  /** 5-minute and 1-hour cache writes together. */
  cacheWriteTokens: number;
  /** Exact USD decimal; null when the model is not in the price table. */
  costUsd: string | null;
  latencyMs: number;
}

export interface TurnRecord {
  conversationId: string;
  /** The user messages this turn answers: exactly those it read. */
  answers: readonly string[];
  /** The agent that answered; the conversation continues with it (a handoff moves it). */
  agent: AgentName;
  /** The person the turn answered: the reply's user_id, which the monthly budget sums. */
  chargedTo: string | null;
  /**
   * The turn's new messages in order — assistant messages and the tool results
   * sent back (role tool) — ending with the reply, an assistant message.
   */
  messages: readonly { role: 'assistant' | 'tool'; content: readonly unknown[] }[];
  /** An inline keyboard stored with the reply (Telegram's InlineKeyboardMarkup). */
  replyMarkup?: Record<string, unknown> | null;
  /** The whole turn's usage, kept on the reply; null when no model was called. */
  usage: TurnUsage | null;
  /** Proposals this turn stored that the reply does not offer: they expire unseen. */
  withdrawnActionIds?: readonly string[];
}

/** Another turn answered some of these messages first; this one was rolled back. */
/** What dealdome_assert raises when a turn's messages were answered by another turn. */
const ALREADY_ANSWERED_SQLSTATE = 'DD409';

export class TurnAlreadyAnsweredError extends AppError {
  constructor() {
    super(409, 'turn_already_answered', 'These messages were answered by another turn.');
    this.name = 'TurnAlreadyAnsweredError';
  }
}

/**
 * Stores a turn in one statement (all or nothing): the new messages (the reply last, with the
 * turn's model, tokens, cost and latency), the answered user messages marked with
 * the reply, and the conversation's agent. Nothing is stored if any of `answers` was
 * answered in the meantime (TurnAlreadyAnsweredError): whatever the locks in front
 * of it do, a user message is answered once.
 */
export async function recordTurn(db: Database, record: TurnRecord): Promise<{ replyId: string; messageIds: string[] }> {
  const last = record.messages.at(-1);
  if (!last || last.role !== 'assistant') throw new Error('a turn must end with an assistant message');
  if (record.answers.length === 0) throw new Error('a turn answers at least one user message');

  // Ids chosen here, so the answered messages can name the reply in the same statement.
  const messageIds = record.messages.map(() => randomUUID());
  const replyId = messageIds.at(-1)!;
  const usage = record.usage;
  const rows = record.messages.map((message, index) => {
    const onReply = <T>(value: T | null | undefined) => (index === record.messages.length - 1 && value != null ? value : null);
    return sql`(${messageIds[index]}::uuid, ${index + 1}::int, ${message.role}::text, ${JSON.stringify(message.content)}::jsonb,
      ${onReply(record.replyMarkup && JSON.stringify(record.replyMarkup))}::jsonb,
      ${onReply(usage?.inputTokens)}::int, ${onReply(usage?.outputTokens)}::int, ${onReply(usage?.cacheReadTokens)}::int,
      ${onReply(usage?.cacheWriteTokens)}::int, ${onReply(usage?.costUsd)}::numeric, ${onReply(usage?.latencyMs)}::int)`;
  });

  // One statement, no explicit transaction: each round trip is paid per turn. The
  // conversation's row is locked by its update, and RETURNING runs once the lock is
  // held, so turns of one conversation get increasing times in commit order; each new
  // message sorts a microsecond after the one before. A user message answered by a
  // turn that committed while this one waited is re-checked by the update and skipped
  // — the count then falls short, dealdome_assert (migration 0013) raises, and the
  // whole statement is undone. A missing conversation changes nothing (every part
  // joins the locked row) and is reported from the counts.
  let counts: { conversations: number; answered: number }[];
  try {
    ({ rows: counts } = await sql<{ conversations: number; answered: number }>`
      WITH locked AS (
        UPDATE conversations SET agent = ${record.agent} WHERE id = ${record.conversationId} RETURNING clock_timestamp() AS at
      ), new_messages (id, seq, role, content, reply_markup, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, latency_ms) AS (
        VALUES ${sql.join(rows)}
      ), inserted AS (
        INSERT INTO messages (id, conversation_id, role, content, agent, user_id, created_at, model, reply_markup,
                              input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, latency_ms)
        SELECT n.id, ${record.conversationId}::uuid, n.role, n.content, ${record.agent}::text, ${record.chargedTo}::uuid,
               l.at + n.seq * interval '1 microsecond', ${usage?.model ?? null}::text, n.reply_markup,
               n.input_tokens, n.output_tokens, n.cache_read_tokens, n.cache_write_tokens, n.cost_usd, n.latency_ms
        FROM new_messages n CROSS JOIN locked l
        RETURNING id
      ), answered AS (
        UPDATE messages SET answered_at = l.at, answered_by = ${replyId}::uuid
        FROM locked l
        WHERE messages.id = ANY(${[...record.answers]}::uuid[]) AND messages.conversation_id = ${record.conversationId}
          AND messages.role = 'user' AND messages.answered_at IS NULL
        RETURNING messages.id
      ), withdrawn AS (
        UPDATE pending_actions SET status = 'expired', decided_at = l.at
        FROM locked l
        WHERE pending_actions.id = ANY(${[...(record.withdrawnActionIds ?? [])]}::uuid[]) AND pending_actions.status = 'pending'
        RETURNING pending_actions.id
      ), outcome AS (
        SELECT (SELECT count(*) FROM locked)::int AS conversations, (SELECT count(*) FROM answered)::int AS answered,
               (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM withdrawn)::int AS withdrawn
      )
      SELECT conversations, answered, inserted, withdrawn,
             dealdome_assert(conversations = 0 OR answered = ${record.answers.length}, ${ALREADY_ANSWERED_SQLSTATE}, 'the messages were answered by another turn') AS checked
      FROM outcome`.execute(db));
  } catch (err) {
    if ((err as { code?: unknown }).code === ALREADY_ANSWERED_SQLSTATE) throw new TurnAlreadyAnsweredError();
    throw err;
  }
  if (counts[0]!.conversations === 0) throw notFound('the conversation');
  return { replyId, messageIds };
}

/**
 * The record of one run of a scheduled agent check. A check answers no one's message,
 * yet its messages, tool calls, tokens and cost belong in the same records as every
 * turn (recordTurn), where /usage and the monthly budget count them. So each run gets a
 * conversation of the task's chat under the run's id, closed from the start — never the
 * chat's open conversation, so the gateway adds nothing to it and no chat turn reads it
 * — holding the check's prompt as the user message the run answers, written as the
 * person who set the check up. Opened again for the same run, it is the same record.
 */
export async function openCheckRecord(
  db: Database,
  input: { runId: string; chatId: string; agent: AgentName; userId: string | null; prompt: string },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const opened = await trx
      .insertInto('conversations')
      .values({ id: input.runId, chat_id: input.chatId, user_id: input.userId, agent: input.agent, closed_at: sql<Date>`now()` })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!opened) return;
    await trx
      .insertInto('messages')
      .values({ conversation_id: input.runId, role: 'user', content: jsonb([{ type: 'text', text: input.prompt }]), user_id: input.userId })
      .execute();
  });
}

// ---------------------------------------------------------------- team settings

export const TEAM_TIMEZONE_SETTING = 'team.timezone';
export const AI_BUDGET_SETTING = 'ai.monthly_budget_usd';

/**
 * The team's time zone (setting `team.timezone`, an IANA name): range words such as
 * "yesterday" and the budget month are read in it. UTC when unset or not a zone.
 */
export async function teamTimeZone(db: Database): Promise<string> {
  // A secret setting cannot be read here; it is no time zone either way.
  const value = await getSetting(db, TEAM_TIMEZONE_SETTING).catch(() => undefined);
  const parsed = timeZoneSchema.safeParse(value);
  return parsed.success ? parsed.data : 'UTC';
}

export interface AiBudget {
  /** The monthly limit per person in USD, or null when no budget is set. */
  limitUsd: string | null;
  /** What the person's turns cost since the start of the month (team time zone). */
  spentUsd: string;
  exhausted: boolean;
}

const budgetValue = z.union([z.number().nonnegative().transform(String), z.string().regex(/^\d{1,12}(\.\d{1,6})?$/)]);

/**
 * A person's AI spending this month against the setting `ai.monthly_budget_usd`
 * (a non-negative number or decimal string; unset means no limit). A value that is
 * neither is refused with an error an admin can act on, rather than read as "no limit".
 */
/**
 * The budget given the setting's stored value (as turnEnvironment read it). A value
 * that is no amount throws an AppError an admin can act on, rather than being read
 * as "no limit".
 */
export async function aiBudgetFor(db: Database, userId: string, timeZone: string, setting: unknown): Promise<AiBudget> {
  let limitUsd: string | null = null;
  if (setting !== undefined && setting !== null) {
    const parsed = budgetValue.safeParse(setting);
    if (!parsed.success) {
      throw new AppError(500, 'setting_invalid', `The setting "${AI_BUDGET_SETTING}" is not an amount in USD such as 25 or "25.00"; an admin must set it again.`);
    }
    limitUsd = new Decimal(parsed.data).toFixed();
  }
  const { rows } = await sql<{ spent: string }>`
    SELECT coalesce(sum(cost_usd), 0)::text AS spent
    FROM messages
    WHERE user_id = ${userId} AND cost_usd IS NOT NULL
      AND created_at >= date_trunc('month', now() AT TIME ZONE ${timeZone}) AT TIME ZONE ${timeZone}`.execute(db);
  const spentUsd = new Decimal(rows[0]?.spent ?? 0).toFixed();
  return { limitUsd, spentUsd, exhausted: limitUsd !== null && new Decimal(spentUsd).gte(limitUsd) };
}

/** What a turn reads besides its conversation. */
export interface TurnEnvironment {
  /** The team's time zone (UTC when unset or not a zone). */
  timeZone: string;
  stores: StoreRef[];
  /** The stored value of the monthly AI budget setting; undefined when none is set (no limit). */
  budgetSetting?: unknown;
}

/** The settings and stores every turn reads, in one statement. */
export async function turnEnvironment(db: Database): Promise<TurnEnvironment> {
  const { rows } = await sql<{ timezone: Json | null; budget: Json | null; stores: StoreRef[] }>`
    SELECT (SELECT value FROM settings WHERE key = ${TEAM_TIMEZONE_SETTING}) AS timezone,
           (SELECT value FROM settings WHERE key = ${AI_BUDGET_SETTING}) AS budget,
           (SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'currency', currency, 'timezone', timezone) ORDER BY name, id), '[]')
            FROM stores) AS stores`.execute(db);
  const row = rows[0]!;
  // A secret (sealed) value is no time zone; the schema refuses it like any other non-zone.
  const zone = timeZoneSchema.safeParse(row.timezone);
  return { timeZone: zone.success ? zone.data : 'UTC', stores: row.stores, ...(row.budget !== null && { budgetSetting: row.budget }) };
}

// ---------------------------------------------------------------- stores by name

export interface StoreRef {
  id: string;
  name: string;
  currency: string;
  timezone: string;
}

export async function listStoreRefs(db: Database): Promise<StoreRef[]> {
  return db.selectFrom('stores').select(['id', 'name', 'currency', 'timezone']).orderBy('name').orderBy('id').execute();
}

/**
 * A store as people name it in chat: its name or shop domain, any case; else the one
 * store whose name contains the words. Unknown or ambiguous names are refused with
 * the stores there are, so the agent can ask.
 */
export async function findStoreByName(db: Database, name: string): Promise<StoreRef> {
  const wanted = name.trim().toLowerCase();
  const stores = await db.selectFrom('stores').select(['id', 'name', 'currency', 'timezone', 'shop_domain']).orderBy('name').execute();
  const ref = ({ id, name: storeName, currency, timezone }: (typeof stores)[number]): StoreRef => ({ id, name: storeName, currency, timezone });
  const exact = stores.filter((s) => s.name.toLowerCase() === wanted || s.shop_domain === wanted || s.id === wanted);
  if (exact.length === 1) return ref(exact[0]!);
  const partial = stores.filter((s) => s.name.toLowerCase().includes(wanted));
  if (partial.length === 1) return ref(partial[0]!);
  const known = stores.map((s) => s.name).join(', ') || 'none';
  if (partial.length > 1) throw unprocessable(`"${name}" matches several stores: ${partial.map((s) => s.name).join(', ')}. Say which one.`);
  throw new AppError(404, 'not_found', `There is no store called "${name}". The stores are: ${known}.`);
}

// ---------------------------------------------------------------- pending actions

export const PENDING_ACTION_TTL_MS = 60 * 60 * 1000;
export const pendingActionKinds = ['create_ad_spend'] as const;
export type PendingActionKind = (typeof pendingActionKinds)[number];
export type PendingActionStatus = 'pending' | 'confirmed' | 'cancelled' | 'expired';
export type PendingActionDecisionKind = 'confirm' | 'cancel';

export interface PendingAction {
  id: string;
  conversationId: string;
  userId: string;
  kind: PendingActionKind;
  payload: Record<string, unknown>;
  status: PendingActionStatus;
  result: Record<string, unknown> | null;
  createdAt: Date;
  decidedAt: Date | null;
  expiresAt: Date;
}

interface PendingRow {
  id: string;
  conversation_id: string;
  user_id: string;
  kind: string;
  payload: Json;
  status: string;
  result: Json | null;
  created_at: Date;
  decided_at: Date | null;
  expires_at: Date;
}

const pendingColumns = ['id', 'conversation_id', 'user_id', 'kind', 'payload', 'status', 'result', 'created_at', 'decided_at', 'expires_at'] as const;

const presentPending = (r: PendingRow): PendingAction => ({
  id: r.id,
  conversationId: r.conversation_id,
  userId: r.user_id,
  kind: r.kind as PendingActionKind,
  payload: r.payload as Record<string, unknown>,
  status: r.status as PendingActionStatus,
  result: r.result as Record<string, unknown> | null,
  createdAt: r.created_at,
  decidedAt: r.decided_at,
  expiresAt: r.expires_at,
});

const WRITERS: readonly Role[] = ['admin', 'member'];

async function requireWriter(db: Database, userId: string): Promise<void> {
  const user = await getActiveUser(db, userId);
  if (!user) throw forbidden();
  if (!WRITERS.includes(user.role)) throw new AppError(403, 'forbidden', 'Your role can read the finance data but not change it.');
}

export type ProposedAdSpend = z.infer<typeof adSpendInput>;

/**
 * Stores ad spend a person asked an agent to record, without recording it. The
 * input is checked now the way the write will check it (store, currency, product),
 * so a proposal that could never be confirmed is refused at once.
 */
export async function proposeAdSpend(
  db: Database,
  proposal: { conversationId: string; userId: string; input: ProposedAdSpend },
): Promise<PendingAction> {
  await requireWriter(db, proposal.userId);
  const parsed = adSpendInput.safeParse(proposal.input);
  if (!parsed.success) throw invalid(Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.') || 'input', [i.message]])));
  const input = parsed.data;
  const store = await db.selectFrom('stores').select(['currency']).where('id', '=', input.storeId).executeTakeFirst();
  if (!store) throw invalid({ storeId: ['no such store'] });
  if (store.currency !== input.currency) {
    throw unprocessable(`ad spend of this store is recorded in ${store.currency}, not ${input.currency}; convert it or ask which amount is meant`);
  }
  if (input.productId) {
    const product = await getProduct(db, input.productId);
    if (product.storeId !== input.storeId) throw unprocessable('the product belongs to another store');
  }
  const row = await db
    .insertInto('pending_actions')
    .values({
      conversation_id: proposal.conversationId,
      user_id: proposal.userId,
      kind: 'create_ad_spend',
      payload: jsonb(input),
      expires_at: sql<Date>`now() + ${PENDING_ACTION_TTL_MS}::int * interval '1 millisecond'`,
    })
    .returning(pendingColumns)
    .executeTakeFirstOrThrow();
  return presentPending(row);
}

export async function getPendingAction(db: Database, id: string): Promise<PendingAction> {
  const row = await db.selectFrom('pending_actions').select(pendingColumns).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('the proposed change');
  return presentPending(row);
}

export interface PendingActionOutcome {
  /** `already_decided`: nothing happened now; `action.status` says what had. */
  outcome: 'confirmed' | 'cancelled' | 'expired' | 'already_decided';
  action: PendingAction;
  /** The entry written, when this call confirmed an ad-spend proposal. */
  adSpendEntry?: AdSpendEntry;
  /** One short line for the person who pressed the button (fits answerCallbackQuery's 200 characters). */
  message: string;
}

/**
 * Kysely cannot open a transaction inside a transaction, and createAdSpend opens
 * its own. Inside ours it gets a handle whose transaction() joins the one already
 * open, so the status change and the finance write commit or roll back together
 * while the write stays the same domain function finance-api calls.
 */
function joinedTransaction(trx: Transaction<DB>): Database {
  return new Proxy(trx, {
    get(target, property) {
      if (property === 'transaction') return () => ({ execute: <T>(work: (t: Transaction<DB>) => Promise<T>) => work(target) });
      const value: unknown = Reflect.get(target, property, target);
      // Kysely's classes keep their state in private fields, reachable only with the real `this`.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * The decision on a proposed change, from the Confirm / Cancel buttons. Only the
 * person who asked decides, and only while their role may write. The status leaves
 * 'pending' in the same transaction as the write, with the row locked, so pressing
 * Confirm twice (or two gateways handling one tap) writes exactly once; a decided or
 * expired proposal is answered with what happened, nothing is written again.
 */
export async function decidePendingAction(
  db: Database,
  id: string,
  userId: string,
  decision: PendingActionDecisionKind,
): Promise<PendingActionOutcome> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('pending_actions').select(pendingColumns).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row) throw notFound('the proposed change');
    if (row.user_id !== userId) throw new AppError(403, 'forbidden', 'Only the person who asked for this change can confirm or cancel it.');
    const action = presentPending(row);
    if (action.status !== 'pending') {
      return { outcome: 'already_decided', action, message: alreadyDecided(action.status) };
    }
    const decide = async (status: Exclude<PendingActionStatus, 'pending'>, result: Record<string, unknown> | null = null) =>
      presentPending(
        await trx
          .updateTable('pending_actions')
          .set({ status, decided_at: sql<Date>`now()`, result: result === null ? null : jsonb(result) })
          .where('id', '=', id)
          .returning(pendingColumns)
          .executeTakeFirstOrThrow(),
      );

    if (decision === 'cancel') return { outcome: 'cancelled', action: await decide('cancelled'), message: 'Cancelled: nothing was recorded.' };
    if (action.expiresAt.getTime() <= Date.now()) {
      return { outcome: 'expired', action: await decide('expired'), message: 'This proposal expired; nothing was recorded. Ask again to record it.' };
    }
    await requireWriter(trx, userId);
    const input = adSpendInput.parse(action.payload);
    const entry = await createAdSpend(joinedTransaction(trx), input, userId);
    const confirmed = await decide('confirmed', { adSpendEntryId: entry.id });
    return {
      outcome: 'confirmed',
      action: confirmed,
      adSpendEntry: entry,
      message: `Recorded: ${entry.amount} ${entry.currency} ${entry.platform} ad spend on ${entry.date}.`,
    };
  });
}

function alreadyDecided(status: PendingActionStatus): string {
  if (status === 'confirmed') return 'Already recorded; nothing was added again.';
  if (status === 'cancelled') return 'This was cancelled; nothing was recorded.';
  return 'This proposal expired; nothing was recorded. Ask again to record it.';
}

/** Callback data of the buttons: `pa:<id>:confirm` and `pa:<id>:cancel` (47 bytes, under Telegram's 64). */
export function pendingActionCallbackData(id: string, decision: PendingActionDecisionKind): string {
  return `pa:${id}:${decision}`;
}

const CALLBACK = /^pa:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(confirm|cancel)$/;

/** The gateway's side of the buttons: a button's data, or undefined when it is not a pending-action button. */
export function parsePendingActionCallback(data: string): { id: string; decision: PendingActionDecisionKind } | undefined {
  const match = CALLBACK.exec(data);
  return match ? { id: match[1]!, decision: match[2] as PendingActionDecisionKind } : undefined;
}

/** One row of Confirm / Cancel per proposal; with several, each button says which it is. */
export function pendingActionKeyboard(actions: readonly { id: string; label: string }[]): {
  inline_keyboard: { text: string; callback_data: string }[][];
} {
  return {
    inline_keyboard: actions.map((a) => [
      { text: actions.length === 1 ? 'Confirm' : `Confirm ${a.label}`, callback_data: pendingActionCallbackData(a.id, 'confirm') },
      { text: actions.length === 1 ? 'Cancel' : `Cancel ${a.label}`, callback_data: pendingActionCallbackData(a.id, 'cancel') },
    ]),
  };
}

// ---------------------------------------------------------------- memories

/** Lower-cased words of a query, OR-ed into a tsquery: a question matches text that shares any of its words. */
function anyWordQuery(text: string): string | null {
  const words = [...new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].slice(0, 32);
  return words.length ? words.join(' | ') : null;
}

/**
 * What the agents remember for a person: the team's memories and their own, current
 * ones only. With a query, memories sharing its words come first (best first), then
 * the most recently touched fill up to `limit`; without one, the most recent.
 */
export async function recallMemories(
  db: Database,
  options: { userId: string | null; query?: string; limit: number },
): Promise<(Memory & { matched: boolean })[]> {
  const tsquery = options.query ? anyWordQuery(options.query) : null;
  const { rows } = await sql<MemoryRow & { score: number }>`
    SELECT id, scope, user_id, kind, content, source_message_id, created_at, updated_at,
           CASE WHEN ${tsquery}::text IS NULL THEN 0
                ELSE ts_rank(to_tsvector('english', content), to_tsquery('english', ${tsquery}::text)) END AS score
    FROM memories
    WHERE superseded_at IS NULL
      AND (scope = 'team' OR (scope = 'user' AND user_id = ${options.userId}::uuid))
    ORDER BY score DESC, updated_at DESC, id
    LIMIT ${options.limit}`.execute(db);
  return rows.map((r) => ({ ...presentMemory(r), matched: r.score > 0 }));
}

// ---------------------------------------------------------------- knowledge

export interface KnowledgeHit {
  chunkId: string;
  videoId: string;
  videoTitle: string;
  videoUrl: string | null;
  /** Seconds into the video as exact decimals, null for a transcript without times. */
  startSeconds: string | null;
  endSeconds: string | null;
  /** "m:ss" or "h:mm:ss", for citing. */
  start: string | null;
  end: string | null;
  text: string;
  score: number;
}

/** 754.5 → "12:34"; 3723 → "1:02:03". */
export function formatVideoTime(seconds: string | null): string | null {
  if (seconds === null) return null;
  const total = new Decimal(seconds).floor().toNumber();
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
