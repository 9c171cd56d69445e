import type { Producer } from '@dealdome/queues';
import { listNotifications, notificationFilters, notificationOutput, notificationPageOutput, pageQuery, retryNotification, uuid } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import type { Api } from '../http/api';

const idParam = z.object({ id: uuid });

/** What the platform sent or tried to send to Telegram on its own: reminders, digests, alerts, agent checks. */
export function notificationRoutes(api: Api, db: Database, producer: Producer): void {
  api.route({
    operationId: 'listNotifications',
    method: 'get',
    path: '/v1/notifications',
    summary: 'List notifications, newest first',
    description:
      'Reminders, digests, alerts and agent-check findings with their delivery status: `pending` (waiting or being retried), ' +
      '`sent`, or `failed` with the last error once every try is spent. `?status=failed` shows what did not arrive.',
    tag: 'Scheduled tasks',
    guard: 'read',
    query: [notificationFilters, pageQuery],
    status: 200,
    response: notificationPageOutput,
    csv: { filename: 'notifications' },
    handle: ({ query }) => listNotifications(db, query, query),
  });
  api.route({
    operationId: 'retryNotification',
    method: 'post',
    path: '/v1/notifications/:id/retry',
    summary: 'Deliver a failed notification again',
    description:
      'A failed notification goes back to `pending` and is queued for telegram-outbound once more; 409 unless it failed. ' +
      'When the queue cannot take it, the notification stays `failed`.',
    tag: 'Scheduled tasks',
    guard: 'write',
    params: idParam,
    problems: [409],
    status: 202,
    response: notificationOutput,
    handle: ({ params }, { req }) =>
      retryNotification(db, params.id, async ({ notification, jobId }) => {
        await producer.enqueue('telegram-outbound', 'deliver-notification', { chatId: notification.chatId, notificationId: notification.id }, { jobId });
        req.log.info({ notificationId: notification.id, jobId }, 'failed notification queued again');
      }),
  });
}
