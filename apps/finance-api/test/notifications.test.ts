import { Producer } from '@dealdome/queues';
import { sql } from 'kysely';
import { useFinanceApi } from './harness';

describe('finance-api notifications', () => {
  const api = useFinanceApi();
  let member: Awaited<ReturnType<typeof api.userWithToken>>;
  let viewer: Awaited<ReturnType<typeof api.userWithToken>>;
  let producer: Producer;

  beforeAll(async () => {
    member = await api.userWithToken('member');
    viewer = await api.userWithToken('viewer');
    producer = new Producer(api.redis.redis, api.redis.prefix);
  });
  afterAll(async () => {
    await producer.close();
  });
  beforeEach(async () => {
    await sql`TRUNCATE notifications`.execute(api.db);
  });

  async function notification(fields: { status: string; kind?: string; lastError?: string; attempts?: number; createdAt?: string }) {
    return api.db
      .insertInto('notifications')
      .values({
        kind: fields.kind ?? 'alert',
        priority: 'high',
        status: fields.status,
        chat_id: '-100200300',
        text: `<b>${fields.status}</b>`,
        attempts: fields.attempts ?? 0,
        last_error: fields.lastError ?? null,
        ...(fields.createdAt && { created_at: new Date(fields.createdAt) }),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
  }

  it('when notifications are listed, then the newest come first with their status and last error, and filters and pages work', async () => {
    const failed = await notification({ status: 'failed', lastError: 'Forbidden: bot was blocked by the user', attempts: 8, createdAt: '2026-11-20T08:00:00Z' });
    const sent = await notification({ status: 'sent', kind: 'reminder', createdAt: '2026-11-21T08:00:00Z' });
    await notification({ status: 'pending', createdAt: '2026-11-22T08:00:00Z' });

    const all = await api.request('GET', '/v1/notifications?limit=2', { token: viewer.accessToken });
    expect(all.status).toBe(200);
    expect(all.body.data.map((n: { status: string }) => n.status)).toEqual(['pending', 'sent']);
    const rest = await api.request('GET', `/v1/notifications?limit=2&cursor=${all.body.nextCursor}`, { token: viewer.accessToken });
    expect(rest.body).toEqual({
      data: [
        expect.objectContaining({
          id: failed.id,
          status: 'failed',
          priority: 'high',
          chatId: '-100200300',
          attempts: 8,
          lastError: 'Forbidden: bot was blocked by the user',
          createdAt: '2026-11-20T08:00:00.000Z',
        }),
      ],
      nextCursor: null,
    });
    const reminders = await api.request('GET', '/v1/notifications?kind=reminder', { token: viewer.accessToken });
    expect(reminders.body.data.map((n: { id: string }) => n.id)).toEqual([sent.id]);
    expect((await api.request('GET', '/v1/notifications?status=lost', { token: viewer.accessToken })).status).toBe(400);
  });

  it('when a failed notification is retried, then it is pending again and queued under a new job id; anything else is refused', async () => {
    const failed = await notification({ status: 'failed', lastError: 'timeout', attempts: 8 });
    const sent = await notification({ status: 'sent' });

    expect((await api.request('POST', `/v1/notifications/${failed.id}/retry`, { token: viewer.accessToken })).status).toBe(403);
    const retried = await api.request('POST', `/v1/notifications/${failed.id}/retry`, { token: member.accessToken });
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: failed.id, status: 'pending', lastError: 'timeout' });
    const job = await producer.queue('telegram-outbound').getJob(`deliver-notification-${failed.id}-retry-8`);
    expect(job?.name).toBe('deliver-notification');
    expect(job?.data).toMatchObject({ chatId: '-100200300', notificationId: failed.id });

    const again = await api.request('POST', `/v1/notifications/${failed.id}/retry`, { token: member.accessToken });
    expect(again.status).toBe(409);
    expect((await api.request('POST', `/v1/notifications/${sent.id}/retry`, { token: member.accessToken })).status).toBe(409);
    expect((await api.request('POST', '/v1/notifications/00000000-0000-4000-8000-000000000000/retry', { token: member.accessToken })).status).toBe(404);
  });
});
