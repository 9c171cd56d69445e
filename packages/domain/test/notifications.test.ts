import { sql } from 'kysely';
import { useTestDatabase } from '@dealdome/db/testing';
import { AppError, retryNotification } from '../src';
import type { NotificationRetryDispatch } from '../src';

describe('retrying a failed notification', () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;

  beforeEach(async () => {
    await sql`TRUNCATE notifications`.execute(db());
  });

  async function notification(status: 'pending' | 'sent' | 'failed', attempts = 8) {
    const row = await db()
      .insertInto('notifications')
      .values({ kind: 'alert', priority: 'high', status, chat_id: '-100200300', text: '<b>ROAS</b>', attempts, last_error: status === 'failed' ? 'timeout' : null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  const statusOf = async (id: string) => (await db().selectFrom('notifications').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

  /** A dispatch that records what it was asked to queue, and the status other connections saw meanwhile. */
  function recordingDispatch() {
    const queued: { id: string; status: string; jobId: string; committedStatus: string }[] = [];
    const dispatch: NotificationRetryDispatch = async ({ notification, jobId }) => {
      queued.push({ id: notification.id, status: notification.status, jobId, committedStatus: await statusOf(notification.id) });
    };
    return { queued, dispatch };
  }

  it('when a failed notification is retried, then it is queued as pending under a job id of its attempts, and is pending once that is done', async () => {
    const id = await notification('failed', 8);
    const { queued, dispatch } = recordingDispatch();

    const retried = await retryNotification(db(), id, dispatch);

    expect(retried).toMatchObject({ id, status: 'pending', attempts: 8, lastError: 'timeout' });
    // Handed to the queue before the change was committed: others still saw it failed.
    expect(queued).toEqual([{ id, status: 'pending', jobId: `deliver-notification-${id}-retry-8`, committedStatus: 'failed' }]);
    expect(await statusOf(id)).toBe('pending');
  });

  it('when the queue refuses the retry, then the notification stays failed, and a later retry queues it under the same job id', async () => {
    const id = await notification('failed', 3);
    const refusing: NotificationRetryDispatch = () => Promise.reject(new Error('Redis is down'));

    await expect(retryNotification(db(), id, refusing)).rejects.toThrow('Redis is down');
    expect(await statusOf(id)).toBe('failed');

    const { queued, dispatch } = recordingDispatch();
    await retryNotification(db(), id, dispatch);
    expect(queued.map((q) => q.jobId)).toEqual([`deliver-notification-${id}-retry-3`]);
    expect(await statusOf(id)).toBe('pending');
  });

  it('when two retries of the same notification race, then it is queued once and the other is refused with 409', async () => {
    const id = await notification('failed');
    const { queued, dispatch } = recordingDispatch();
    // The first holds the row a while, so the second waits on it rather than running after it.
    const slow: NotificationRetryDispatch = async (delivery) => {
      await new Promise((r) => setTimeout(r, 100));
      await dispatch(delivery);
    };

    const outcomes = await Promise.allSettled([retryNotification(db(), id, slow), retryNotification(db(), id, slow)]);

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!.reason as AppError;
    expect(refused).toBeInstanceOf(AppError);
    expect(refused.status).toBe(409);
    expect(queued).toHaveLength(1);
  });

  it.each(['pending', 'sent'] as const)('when the notification is %s, then the retry is refused with 409 and nothing is queued', async (status) => {
    const id = await notification(status);
    const { queued, dispatch } = recordingDispatch();
    const err = (await retryNotification(db(), id, dispatch).catch((e: unknown) => e)) as AppError;
    expect(err).toBeInstanceOf(AppError);
    expect(err.status).toBe(409);
    expect(err.message).toBe(`The notification is ${status}: only a failed one is retried.`);
    expect(queued).toEqual([]);
    expect(await statusOf(id)).toBe(status);
  });

  it('when the notification does not exist, then the retry is refused with 404', async () => {
    const { queued, dispatch } = recordingDispatch();
    const err = (await retryNotification(db(), '00000000-0000-4000-8000-000000000000', dispatch).catch((e: unknown) => e)) as AppError;
    expect(err.status).toBe(404);
    expect(queued).toEqual([]);
  });
});
