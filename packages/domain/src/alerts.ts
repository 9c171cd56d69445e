import type { Database } from '@dealdome/db';
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
