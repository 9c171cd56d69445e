import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { AppError, invalid, notFound } from './errors';
import { decodeCursor, toPage } from './pagination';
import type { Page, PageQuery } from './pagination';
import { dateTimeOutput, idOutput, pageOutput } from './schemas/common';
import { getSetting } from './settings';

/** The setting naming the Telegram chat alerts go to (a chat id, as a number or a decimal string). */
export const ALERTS_CHAT_SETTING = 'alerts.chat_id';

export const alertPriorities = ['low', 'normal', 'high', 'critical'] as const;
export type AlertPriority = (typeof alertPriorities)[number];

/** The chat alerts go to, or undefined when `alerts.chat_id` is not set (or not a chat id). */
export async function alertsChatId(db: Database): Promise<string | undefined> {
  const value = await getSetting(db, ALERTS_CHAT_SETTING);
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  return /^-?\d{1,19}$/.test(text) ? text : undefined;
}

/**
 * Stores an alert (a notification of kind `alert`, status pending) for the team's
 * alerts chat and returns its id and chat, for the caller to queue its delivery; or
 * undefined when no alerts chat is configured, so the caller can say so in its log.
 */
export async function createAlert(
  db: Database,
  input: { html: string; priority: AlertPriority; storeId?: string | null },
): Promise<{ notificationId: string; chatId: string } | undefined> {
  const chatId = await alertsChatId(db);
  if (!chatId) return undefined;
  const row = await db
    .insertInto('notifications')
    .values({ kind: 'alert', priority: input.priority, chat_id: chatId, text: input.html, store_id: input.storeId ?? null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { notificationId: row.id, chatId };
}

// ---------------------------------------------------------------- the record of notifications

export const notificationStatuses = ['pending', 'sent', 'failed'] as const;

export const notificationFilters = z.object({
  status: z.enum(notificationStatuses).optional(),
  kind: z.enum(['reminder', 'alert', 'digest', 'agent_check', 'system']).optional(),
  chatId: z.string().regex(/^-?\d{1,19}$/, 'a Telegram chat id').optional(),
});
export type NotificationFilters = z.output<typeof notificationFilters>;

export const notificationOutput = z
  .object({
    id: idOutput,
    kind: z.string(),
    priority: z.enum(alertPriorities),
    status: z.enum(notificationStatuses),
    chatId: z.string(),
    text: z.string().meta({ description: 'As sent: Telegram HTML' }),
    taskId: idOutput.nullable(),
    storeId: idOutput.nullable(),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    createdAt: dateTimeOutput,
    sentAt: dateTimeOutput.nullable(),
  })
  .meta({ id: 'Notification' });
export const notificationPageOutput = pageOutput(notificationOutput, 'NotificationPage');
export type NotificationRecord = z.output<typeof notificationOutput>;

const notificationColumns = [
  'id',
  'kind',
  'priority',
  'status',
  'chat_id',
  'text',
  'task_id',
  'store_id',
  'attempts',
  'last_error',
  'created_at',
  'sent_at',
] as const;

type NotificationRow = {
  id: string;
  kind: string;
  priority: string;
  status: string;
  chat_id: string;
  text: string;
  task_id: string | null;
  store_id: string | null;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
};

const presentNotification = (r: NotificationRow) => ({
  id: r.id,
  kind: r.kind,
  priority: r.priority as AlertPriority,
  status: r.status as (typeof notificationStatuses)[number],
  chatId: String(r.chat_id),
  text: r.text,
  taskId: r.task_id,
  storeId: r.store_id,
  attempts: r.attempts,
  lastError: r.last_error,
  createdAt: r.created_at.toISOString(),
  sentAt: r.sent_at?.toISOString() ?? null,
});

/** Notifications newest first (reminders, digests, alerts, agent checks), failed ones with their last error. */
export async function listNotifications(db: Database, filters: NotificationFilters, page: PageQuery): Promise<Page<NotificationRecord>> {
  const after = decodeCursor(page.cursor);
  let query = db
    .selectFrom('notifications')
    .select([...notificationColumns, sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('position')])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
  if (filters.status) query = query.where('status', '=', filters.status);
  if (filters.kind) query = query.where('kind', '=', filters.kind);
  if (filters.chatId) query = query.where('chat_id', '=', filters.chatId);
  if (after) {
    if (Number.isNaN(Date.parse(after.key))) throw invalid({ cursor: ['is not a cursor this API issued'] });
    query = query.where(sql<boolean>`(created_at, id) < (${after.key}::timestamptz, ${after.id}::uuid)`);
  }
  return toPage(await query.execute(), page.limit, presentNotification, (r) => [r.position, r.id]);
}

/** Where a retried notification is handed to the queue: its delivery job, under the id it must be queued with. */
export type NotificationRetryDispatch = (delivery: { notification: NotificationRecord; jobId: string }) => Promise<void>;

/**
 * Puts a failed notification back to pending for one more delivery, which `dispatch`
 * queues, and returns it. The job id is new per retry (the failed job keeps its own
 * while it is kept for inspection) and the same for the same state, so queueing it
 * twice queues one job. 404 when unknown, 409 unless failed.
 *
 * The row is held and `dispatch` called before the change commits, as the clock does
 * with due tasks: if the queue refuses, the transaction rolls back and the
 * notification stays failed (visible, retryable), never pending with no job. A
 * delivery that starts before the commit waits on the row for its first write.
 */
export async function retryNotification(db: Database, id: string, dispatch: NotificationRetryDispatch): Promise<NotificationRecord> {
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('notifications').select(['status']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!current) throw notFound('the notification');
    if (current.status !== 'failed') throw new AppError(409, 'not_failed', `The notification is ${current.status}: only a failed one is retried.`);
    const row = await trx.updateTable('notifications').set({ status: 'pending' }).where('id', '=', id).returning(notificationColumns).executeTakeFirstOrThrow();
    const notification = presentNotification(row);
    await dispatch({ notification, jobId: `deliver-notification-${id}-retry-${row.attempts}` });
    return notification;
  });
}
