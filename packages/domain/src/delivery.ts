import type { Database } from '@dealdome/db';
import { sql } from 'kysely';

/**
 * What is delivered to Telegram: the stored assistant replies and notifications
 * (their text is Telegram HTML), how that HTML is written safely, and the record
 * of which parts Telegram has accepted, so that a retried delivery sends nothing twice.
 */

// ---------------------------------------------------------------- Telegram HTML

/**
 * Replies and notifications are sent with `parse_mode: 'HTML'`, and Telegram accepts
 * only this subset (anything else fails the whole message with "can't parse entities"):
 *
 * - `<b>` `<strong>`, `<i>` `<em>`, `<u>` `<ins>`, `<s>` `<strike>` `<del>`
 * - `<tg-spoiler>` or `<span class="tg-spoiler">`
 * - `<a href="…">` (also `tg://user?id=…`)
 * - `<code>`, `<pre>`, `<pre><code class="language-…">`
 * - `<blockquote>`, `<blockquote expandable>`
 * - `<tg-emoji emoji-id="…">`
 *
 * Tags must nest properly. Text may contain only the entities `&lt;` `&gt;` `&amp;`
 * `&quot;` `&apos;` and numeric ones; a literal `<` or `>` must be escaped, and so
 * should `&`. There are no `<br>` or `<p>`: a line break is "\n".
 *
 * Build messages with `html` and `fmt` below: every string they are given is escaped,
 * so data such as a product called `Cups & <Saucers>` arrives as written.
 */
export const telegramHtmlTags = [
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'tg-spoiler',
  'span',
  'a',
  'code',
  'pre',
  'blockquote',
  'tg-emoji',
] as const;

/** Text for Telegram HTML: `&`, `<` and `>` become entities. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** An attribute value inside double quotes (a link's href): `"` is escaped too. */
export function escapeHtmlAttribute(text: string): string {
  return escapeHtml(text).replace(/"/g, '&quot;');
}

let trusted: (value: string) => Html;

/** A piece of Telegram HTML built by the functions here; only they create one, so it is escaped throughout. */
export class Html {
  static {
    trusted = (value) => new Html(value);
  }

  private constructor(readonly html: string) {}

  toString(): string {
    return this.html;
  }
}

/** Strings and numbers are escaped; Html is already safe and is kept. */
export type HtmlInput = Html | string | number | bigint;

function toHtml(input: HtmlInput): string {
  return input instanceof Html ? input.html : escapeHtml(String(input));
}

/**
 * A template whose literal parts are trusted markup and whose values are escaped:
 * html`<b>${product.name}</b> sold ${units} units`.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlInput[]): Html {
  return trusted(strings.reduce((out, literal, i) => out + literal + (i < values.length ? toHtml(values[i] as HtmlInput) : ''), ''));
}

const wrap = (tag: string, content: HtmlInput) => trusted(`<${tag}>${toHtml(content)}</${tag}>`);

function joinHtml(parts: (HtmlInput | null | undefined | false)[], separator: string): Html {
  const kept = parts.filter((p): p is HtmlInput => p !== null && p !== undefined && p !== false);
  return trusted(kept.map(toHtml).join(separator));
}

/**
 * The formatter for messages: `fmt.lines(fmt.bold(product.name), html`Sold: ${units}`)`.
 * Every string given to it is escaped.
 */
export const fmt = {
  bold: (content: HtmlInput): Html => wrap('b', content),
  italic: (content: HtmlInput): Html => wrap('i', content),
  underline: (content: HtmlInput): Html => wrap('u', content),
  strikethrough: (content: HtmlInput): Html => wrap('s', content),
  spoiler: (content: HtmlInput): Html => wrap('tg-spoiler', content),
  blockquote: (content: HtmlInput): Html => wrap('blockquote', content),
  /** Inline monospace; the content is shown verbatim. */
  code: (content: HtmlInput): Html => wrap('code', content),
  /** A preformatted block, optionally with a language for highlighting. */
  pre: (content: HtmlInput, language?: string): Html =>
    language === undefined
      ? wrap('pre', content)
      : trusted(`<pre><code class="language-${escapeHtmlAttribute(language)}">${toHtml(content)}</code></pre>`),
  link: (content: HtmlInput, url: string): Html => trusted(`<a href="${escapeHtmlAttribute(url)}">${toHtml(content)}</a>`),
  /** One line each; null, undefined and false are left out, so optional lines read naturally. */
  lines: (...parts: (HtmlInput | null | undefined | false)[]): Html => joinHtml(parts, '\n'),
  /** Paragraphs separated by an empty line (where a long reply is preferably split). */
  paragraphs: (...parts: (HtmlInput | null | undefined | false)[]): Html => joinHtml(parts, '\n\n'),
};

// ---------------------------------------------------------------- stored replies

/**
 * The text of an assistant message: its text blocks (Telegram HTML, as the agents
 * write them) joined by an empty line; tool_use and other blocks are not shown.
 */
export function renderTextBlocks(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .flatMap((block: unknown) => {
      if (typeof block !== 'object' || block === null) return [];
      const { type, text } = block as { type?: unknown; text?: unknown };
      return type === 'text' && typeof text === 'string' && text.trim() !== '' ? [text.trim()] : [];
    })
    .join('\n\n');
}

/** Something to deliver: its chat, its text and what Telegram has accepted of it so far. */
export interface OutboundText {
  id: string;
  /** Telegram chat id as a decimal string (it exceeds 2^31 and is negative for groups). */
  chatId: string;
  /** Telegram HTML. */
  html: string;
  /** Shown under the last part (an inline keyboard). */
  replyMarkup: Record<string, unknown> | null;
  /** Telegram message ids of the parts delivered so far, in order: part i was sent iff it has an id here. */
  sentTelegramMessageIds: string[];
}

export type NotificationStatus = 'pending' | 'sent' | 'failed';

export interface OutboundNotification extends OutboundText {
  status: NotificationStatus;
  attempts: number;
}

const asObject = (value: unknown): Record<string, unknown> | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;

/** An assistant message to deliver, with the chat's assistant messages written just before it. */
export interface OutboundMessage extends OutboundText {
  /**
   * The assistant messages with text (tool calls alone are never sent) of the same
   * Telegram chat, any of its conversations, stored before this one and at most
   * `withinMs` earlier and not marked delivered, newest first, at most `limit`. A
   * delivery waits while one of them is still being delivered, so that a chat reads its
   * messages in the order they were written even when sends are put off (the chat's
   * budget, a 429, a retry). Older messages are left out: their deliveries have long
   * finished or failed. So are delivered ones (recordMessagePartSent marks the last
   * part), which leaves nothing to ask about once a chat's replies have arrived.
   */
  earlierMessageIds: string[];
}

/**
 * An assistant message with what is needed to deliver it, and the chat's messages
 * before it (see OutboundMessage); undefined when there is no such assistant message.
 * One statement: it is on every reply's path to Telegram.
 */
export async function findOutboundMessage(
  db: Database,
  messageId: string,
  earlier: { withinMs: number; limit: number },
): Promise<OutboundMessage | undefined> {
  const { rows } = await sql<{
    id: string;
    content: unknown;
    reply_markup: unknown;
    telegram_sent_message_ids: string[] | null;
    chat_id: string;
    earlier: string[];
  }>`
    SELECT m.id, m.content, m.reply_markup, m.telegram_sent_message_ids, c.chat_id,
           -- Conversation by conversation of the chat, each read backwards on
           -- messages_conversation_idx (the inner order is that index's): joined the
           -- other way round, the planner could walk every chat's assistant messages
           -- of the window (messages_usage_idx) to find this chat's.
           ARRAY(
             SELECT e.id::text
             FROM conversations ec
             CROSS JOIN LATERAL (
               SELECT e.id, e.created_at
               FROM messages e
               WHERE e.conversation_id = ec.id
                 AND e.role = 'assistant'
                 AND e.content @> '[{"type": "text"}]'::jsonb
                 AND e.delivered_at IS NULL
                 AND (e.created_at, e.id) < (m.created_at, m.id)
                 AND e.created_at >= m.created_at - make_interval(secs => ${earlier.withinMs / 1000})
               ORDER BY e.created_at DESC
               LIMIT ${earlier.limit}
             ) e
             WHERE ec.chat_id = c.chat_id
             ORDER BY e.created_at DESC, e.id DESC
             LIMIT ${earlier.limit}
           ) AS earlier
    FROM messages m
    JOIN conversations c ON c.id = m.conversation_id
    WHERE m.id = ${messageId} AND m.role = 'assistant'`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    chatId: row.chat_id,
    html: renderTextBlocks(row.content),
    replyMarkup: asObject(row.reply_markup),
    sentTelegramMessageIds: row.telegram_sent_message_ids ?? [],
    earlierMessageIds: row.earlier,
  };
}

/**
 * Records that Telegram accepted part `partIndex` as `telegramMessageId`. It is a
 * compare-and-set on the number of parts recorded: false means another delivery of
 * the same message recorded this part first, and the caller should stop. The last
 * part also marks the message delivered, so later replies of the chat no longer wait
 * behind it.
 */
export async function recordMessagePartSent(
  db: Database,
  messageId: string,
  partIndex: number,
  telegramMessageId: number,
  options: { last: boolean },
): Promise<boolean> {
  const result = await db
    .updateTable('messages')
    .set({
      telegram_sent_message_ids: sql<string[]>`array_append(coalesce(telegram_sent_message_ids, '{}'::bigint[]), ${String(telegramMessageId)}::bigint)`,
      ...(options.last && { delivered_at: sql<Date>`now()` }),
    })
    .where('id', '=', messageId)
    .where(sql<number>`coalesce(cardinality(telegram_sent_message_ids), 0)`, '=', partIndex)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

// ---------------------------------------------------------------- notifications

export async function findOutboundNotification(db: Database, notificationId: string): Promise<OutboundNotification | undefined> {
  const row = await db
    .selectFrom('notifications')
    .select(['id', 'chat_id', 'text', 'status', 'attempts', 'telegram_sent_message_ids'])
    .where('id', '=', notificationId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    chatId: row.chat_id,
    html: row.text,
    replyMarkup: null,
    sentTelegramMessageIds: row.telegram_sent_message_ids ?? [],
    status: row.status as NotificationStatus,
    attempts: row.attempts,
  };
}

/** Same compare-and-set as recordMessagePartSent. */
export async function recordNotificationPartSent(
  db: Database,
  notificationId: string,
  partIndex: number,
  telegramMessageId: number,
): Promise<boolean> {
  const result = await db
    .updateTable('notifications')
    .set({
      telegram_sent_message_ids: sql<string[]>`array_append(coalesce(telegram_sent_message_ids, '{}'::bigint[]), ${String(telegramMessageId)}::bigint)`,
    })
    .where('id', '=', notificationId)
    .where(sql<number>`coalesce(cardinality(telegram_sent_message_ids), 0)`, '=', partIndex)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** One more try at sending it (counted when a send is about to be made, not when a job merely waits its turn). */
export async function recordNotificationAttempt(db: Database, notificationId: string): Promise<void> {
  await db
    .updateTable('notifications')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', notificationId)
    .execute();
}

export async function markNotificationSent(db: Database, notificationId: string): Promise<void> {
  await db
    .updateTable('notifications')
    .set({ status: 'sent', sent_at: sql<Date>`now()`, last_error: null })
    .where('id', '=', notificationId)
    .execute();
}

/**
 * Records why a try failed; `final` marks the notification failed (it will not be
 * tried again), otherwise it stays pending for the next try.
 */
export async function recordNotificationFailure(
  db: Database,
  notificationId: string,
  error: string,
  final: boolean,
): Promise<void> {
  await db
    .updateTable('notifications')
    .set({ last_error: error.slice(0, 1000), ...(final ? { status: 'failed' } : {}) })
    .where('id', '=', notificationId)
    .where('status', '<>', 'sent')
    .execute();
}
