import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { createAlert, escapeHtml } from '@dealdome/domain';
import { jobIds } from '@dealdome/queues';
import type { Producer } from '@dealdome/queues';

/**
 * The "Shopify sync failing" alert: a high-priority notification to the team's alerts
 * chat (setting `alerts.chat_id`), delivered by telegram-outbound like any other. With
 * no alerts chat set the failure is only logged, saying which setting is missing.
 */
export function syncFailingAlert(db: Database, producer: Producer, logger: Logger) {
  return async ({ storeId, consecutiveFailures, error }: { storeId: string; consecutiveFailures: number; error: string }): Promise<void> => {
    const store = await db.selectFrom('stores').select('name').where('id', '=', storeId).executeTakeFirst();
    const html =
      `⚠️ <b>Shopify sync failing</b> for ${escapeHtml(store?.name ?? storeId)}: ${consecutiveFailures} rounds in a row.\n` +
      escapeHtml(error.slice(0, 500));
    const alert = await createAlert(db, { html, priority: 'high', storeId });
    if (!alert) {
      logger.warn({ storeId, consecutiveFailures }, 'Shopify sync is failing and no alerts chat is set (setting alerts.chat_id): the alert is only logged');
      return;
    }
    await producer.enqueue('telegram-outbound', 'deliver-notification', alert, { jobId: jobIds.deliverNotification(alert.notificationId) });
  };
}
