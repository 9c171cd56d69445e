import { nextRunAt } from '@dealdome/domain';
import { sql } from 'kysely';
import { useFinanceApi } from './harness';

const problemType = 'application/problem+json';
const AMSTERDAM = 'Europe/Amsterdam';
const CHAT = '-1001234567890';

describe('finance-api scheduled tasks', () => {
  const api = useFinanceApi();
  let admin: Awaited<ReturnType<typeof api.userWithToken>>;
  let member: Awaited<ReturnType<typeof api.userWithToken>>;
  let viewer: Awaited<ReturnType<typeof api.userWithToken>>;

  beforeAll(async () => {
    admin = await api.userWithToken('admin');
    member = await api.userWithToken('member');
    viewer = await api.userWithToken('viewer');
  });

  beforeEach(async () => {
    await sql`TRUNCATE scheduled_tasks, notifications`.execute(api.db);
  });

  const create = (body: Record<string, unknown>, token = member.accessToken) => api.request('POST', '/v1/scheduled-tasks', { token, body });
  const patch = (id: string, body: Record<string, unknown>, token = member.accessToken) => api.request('PATCH', `/v1/scheduled-tasks/${id}`, { token, body });
  const get = (id: string, token = viewer.accessToken) => api.request('GET', `/v1/scheduled-tasks/${id}`, { token });
  const weekly = (extra: Record<string, unknown> = {}) => ({
    kind: 'reminder',
    chatId: CHAT,
    cronExpression: '30 8 * * 1',
    timezone: AMSTERDAM,
    payload: { text: 'Order packaging for next week' },
    ...extra,
  });
  const stored = (id: string) => api.db.selectFrom('scheduled_tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const count = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM scheduled_tasks`.execute(api.db)).rows[0]!.n);

  async function token(scopes: string[]): Promise<string> {
    const res = await api.request('POST', '/v1/api-tokens', { token: admin.accessToken, body: { name: `tasks ${scopes.join(' ')} ${Math.random()}`, scopes } });
    expect(res.status).toBe(201);
    return res.body.token as string;
  }

  it('when a member schedules a weekly reminder, then it is stored with its creator and the first Monday 08:30 in Amsterdam as next run', async () => {
    const before = new Date();
    const res = await create(weekly());
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      kind: 'reminder',
      chatId: CHAT,
      cronExpression: '30 8 * * 1',
      timezone: AMSTERDAM,
      runAt: null,
      agent: null,
      payload: { text: 'Order packaging for next week' },
      createdBy: member.user.id,
      enabled: true,
      nextRunAt: nextRunAt('30 8 * * 1', AMSTERDAM, before).toISOString(),
      lastRunAt: null,
      lastStatus: null,
      lastError: null,
      consecutiveFailures: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: AMSTERDAM, weekday: 'long', hour: '2-digit', minute: '2-digit' }).format(new Date(res.body.nextRunAt));
    expect(local).toBe('Monday 08:30');
    const row = await stored(res.body.id);
    expect(row).toMatchObject({ chat_id: CHAT, created_by: member.user.id, next_run_at: new Date(res.body.nextRunAt) });

    const read = await get(res.body.id);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
  });

  it('when a one-shot task and an agent check are scheduled, then the one runs at its instant and the other keeps its agent and prompt', async () => {
    const runAt = new Date(Date.now() + 2 * 3600_000);
    const oneShot = await create({ kind: 'reminder', chatId: '42', runAt: runAt.toISOString().replace('Z', '+00:00'), payload: { text: 'Call the supplier' } });
    expect(oneShot.status).toBe(201);
    expect(oneShot.body).toMatchObject({ cronExpression: null, timezone: 'UTC', runAt: runAt.toISOString(), nextRunAt: runAt.toISOString() });

    const noAgent = await create({ kind: 'agent_check', chatId: '42', cronExpression: '0 9 * * *', timezone: AMSTERDAM, payload: { prompt: 'ROAS below 1.5?' } });
    expect(noAgent.status).toBe(400);
    expect(noAgent.body.errors).toHaveProperty('agent');

    const check = await create(
      { kind: 'agent_check', chatId: '42', cronExpression: '0 9 * * *', timezone: AMSTERDAM, agent: 'roos', payload: { prompt: "Alert if yesterday's ROAS of Nordic Home was below 1.5" } },
      admin.accessToken,
    );
    expect(check.status).toBe(201);
    expect(check.body).toMatchObject({ kind: 'agent_check', agent: 'roos', payload: { prompt: "Alert if yesterday's ROAS of Nordic Home was below 1.5" } });
    expect((await stored(check.body.id)).agent).toBe('roos');
  });

  it('when the cron expression or time zone cannot be read, then the answer is a 422 problem with the reason and nothing is stored', async () => {
    const sixFields = await create(weekly({ cronExpression: '0 30 8 * * 1' }));
    expect(sixFields.status).toBe(422);
    expect(sixFields.headers.get('content-type')).toContain(problemType);
    expect(sixFields.body).toMatchObject({ status: 422, code: 'unprocessable', detail: expect.stringContaining('"0 30 8 * * 1" is not a cron expression DealDome can run: it has 6 fields') });
    expect(sixFields.body.errors.cronExpression[0]).toMatch(/a cron expression has 5/);

    const outOfRange = await create(weekly({ cronExpression: '61 8 * * 1' }));
    expect(outOfRange.status).toBe(422);
    expect(outOfRange.body.detail).toMatch(/^"61 8 \* \* 1" is not a cron expression DealDome can run: /);

    const zone = await create(weekly({ timezone: 'Europe/Amsterdem' }));
    expect(zone.status).toBe(422);
    expect(zone.body).toMatchObject({ detail: '"Europe/Amsterdem" is not a time zone: expected an IANA time zone such as "Europe/Amsterdam"', errors: { timezone: [expect.any(String)] } });

    const past = await create({ kind: 'reminder', chatId: CHAT, runAt: '2020-01-01T09:00:00+01:00', payload: { text: 'Too late' } });
    expect(past.status).toBe(422);
    expect(past.body.errors).toEqual({ runAt: ['is in the past'] });

    expect(await count()).toBe(0);
  });

  it('when the input is malformed, then the answer is 400 naming the fields', async () => {
    const both = await create(weekly({ runAt: new Date(Date.now() + 3600_000).toISOString() }));
    expect(both.status).toBe(400);
    expect(both.body.errors).toHaveProperty('cronExpression');
    const noZone = await create(weekly({ timezone: undefined }));
    expect(noZone.status).toBe(400);
    expect(noZone.body.errors).toHaveProperty('timezone');
    for (const chatId of ['my chat', '99999999999999999999', '9223372036854775808']) {
      const badChat = await create(weekly({ chatId }));
      expect(badChat.status).toBe(400);
      expect(badChat.body.errors).toHaveProperty('chatId');
    }
    const tooLong = await api.request('GET', '/v1/scheduled-tasks?chatId=99999999999999999999', { token: viewer.accessToken });
    expect(tooLong.status).toBe(400);
    const emptyText = await create(weekly({ payload: { text: '  ' } }));
    expect(emptyText.status).toBe(400);
    expect(emptyText.body.errors).toHaveProperty(['payload.text']);
    const noOffset = await create({ kind: 'reminder', chatId: CHAT, runAt: '2030-01-01T09:00:00', payload: { text: 'x' } });
    expect(noOffset.status).toBe(400);
    expect(noOffset.body.errors).toHaveProperty('runAt');
    expect(await count()).toBe(0);
  });

  it('when viewers and read-only tokens write, then they are refused; they read, and a finance:write token writes', async () => {
    const task = (await create(weekly())).body;
    const reader = await token(['finance:read']);
    const writer = await token(['finance:write']);

    expect((await create(weekly(), viewer.accessToken)).status).toBe(403);
    expect((await create(weekly(), reader)).status).toBe(403);
    expect((await patch(task.id, { enabled: false }, viewer.accessToken)).status).toBe(403);
    expect((await patch(task.id, { enabled: false }, reader)).status).toBe(403);
    expect((await api.request('DELETE', `/v1/scheduled-tasks/${task.id}`, { token: reader })).status).toBe(403);
    expect((await api.request('GET', '/v1/scheduled-tasks')).status).toBe(401);
    expect((await stored(task.id)).enabled).toBe(true);

    expect((await get(task.id, reader)).status).toBe(200);
    expect((await api.request('GET', '/v1/scheduled-tasks', { token: viewer.accessToken })).body.data).toHaveLength(1);
    const byMachine = await create(weekly(), writer);
    expect(byMachine.status).toBe(201);
    expect(byMachine.body.createdBy).toBeNull();
    expect((await patch(byMachine.body.id, { enabled: false }, writer)).status).toBe(200);
  });

  it('when the list is filtered and paged, then it answers each task once, oldest first, with only the asked kind, chat and state', async () => {
    const ids: string[] = [];
    for (const [i, chatId] of ['1', '1', '2', '1', '2'].entries()) {
      const res = await create(weekly({ chatId, payload: { text: `reminder ${i}` } }));
      ids.push(res.body.id);
    }
    const check = await create({ kind: 'agent_check', chatId: '1', agent: 'elisa', cronExpression: '0 7 * * *', timezone: 'UTC', payload: { prompt: 'Anything new?' } });
    await patch(ids[3]!, { enabled: false });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await api.request('GET', `/v1/scheduled-tasks?kind=reminder&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: viewer.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((t: { id: string }) => t.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);

    const chatOne = await api.request('GET', '/v1/scheduled-tasks?chatId=1&enabled=true', { token: viewer.accessToken });
    expect(chatOne.body.data.map((t: { id: string }) => t.id)).toEqual([ids[0], ids[1], check.body.id]);
    const paused = await api.request('GET', '/v1/scheduled-tasks?enabled=false', { token: viewer.accessToken });
    expect(paused.body.data.map((t: { id: string }) => t.id)).toEqual([ids[3]]);
    const checks = await api.request('GET', '/v1/scheduled-tasks?kind=agent_check', { token: viewer.accessToken });
    expect(checks.body.data.map((t: { id: string }) => t.id)).toEqual([check.body.id]);

    const badFilter = await api.request('GET', '/v1/scheduled-tasks?kind=alarm&enabled=yes', { token: viewer.accessToken });
    expect(badFilter.status).toBe(400);
    expect(Object.keys(badFilter.body.errors).sort()).toEqual(['enabled', 'kind']);
  });

  it('when a task is paused and resumed, then pausing keeps its next run and resuming continues from the next slot after now', async () => {
    const task = (await create(weekly({ cronExpression: '0 * * * *', timezone: 'UTC' }))).body;
    const paused = await patch(task.id, { enabled: false });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ enabled: false, nextRunAt: task.nextRunAt });

    // Paused for a day: its slot passed meanwhile.
    await api.db.updateTable('scheduled_tasks').set({ next_run_at: new Date(Date.now() - 86_400_000) }).where('id', '=', task.id).execute();
    const before = new Date();
    const resumed = await patch(task.id, { enabled: true });
    expect(resumed.status).toBe(200);
    expect(resumed.body.enabled).toBe(true);
    expect(resumed.body.nextRunAt).toBe(nextRunAt('0 * * * *', 'UTC', before).toISOString());
  });

  it('when the schedule or payload changes, then the next run is worked out again and a refused change leaves the task as it was', async () => {
    const task = (await create(weekly())).body;

    const before = new Date();
    const daily = await patch(task.id, { cronExpression: '15 18 * * *', timezone: 'America/New_York' });
    expect(daily.status).toBe(200);
    expect(daily.body).toMatchObject({ cronExpression: '15 18 * * *', timezone: 'America/New_York', runAt: null });
    expect(daily.body.nextRunAt).toBe(nextRunAt('15 18 * * *', 'America/New_York', before).toISOString());

    const zoneOnly = await patch(task.id, { timezone: 'Asia/Tokyo' });
    expect(zoneOnly.body.nextRunAt).toBe(nextRunAt('15 18 * * *', 'Asia/Tokyo', new Date(zoneOnly.body.updatedAt)).toISOString());

    const unchanged = (await get(task.id)).body;
    const badCron = await patch(task.id, { cronExpression: '* * *' });
    expect(badCron.status).toBe(422);
    expect(badCron.headers.get('content-type')).toContain(problemType);
    expect(badCron.body.detail).toMatch(/it has 3 fields/);
    const badZone = await patch(task.id, { timezone: 'Mars/Olympus' });
    expect(badZone.status).toBe(422);
    expect(badZone.body.errors).toHaveProperty('timezone');
    const wrongPayload = await patch(task.id, { payload: { prompt: 'not a reminder' } });
    expect(wrongPayload.status).toBe(400);
    expect(wrongPayload.body.errors).toHaveProperty(['payload.text']);
    const both = await patch(task.id, { cronExpression: '0 9 * * *', runAt: new Date(Date.now() + 3600_000).toISOString() });
    expect(both.status).toBe(400);
    expect((await get(task.id)).body).toEqual(unchanged);

    const text = await patch(task.id, { payload: { text: 'Order boxes' } });
    expect(text.body).toMatchObject({ payload: { text: 'Order boxes' }, nextRunAt: unchanged.nextRunAt });

    const runAt = new Date(Date.now() + 5 * 60_000);
    const oneShot = await patch(task.id, { runAt: runAt.toISOString() });
    expect(oneShot.body).toMatchObject({ cronExpression: null, runAt: runAt.toISOString(), nextRunAt: runAt.toISOString() });
    expect(await stored(task.id)).toMatchObject({ cron_expression: null, run_at: runAt, next_run_at: runAt });
  });

  it('when a one-shot task that has run is enabled again without a new time, then the answer is 409', async () => {
    const task = (await create({ kind: 'reminder', chatId: CHAT, runAt: new Date(Date.now() + 60_000).toISOString(), payload: { text: 'Once' } })).body;
    // As the clock leaves it after the run, then paused.
    await api.db.updateTable('scheduled_tasks').set({ next_run_at: null, enabled: false }).where('id', '=', task.id).execute();
    const res = await patch(task.id, { enabled: true });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/has run already/);
    expect((await stored(task.id)).enabled).toBe(false);

    const rearmed = await patch(task.id, { enabled: true, runAt: new Date(Date.now() + 3600_000).toISOString() });
    expect(rearmed.status).toBe(200);
    expect(rearmed.body.enabled).toBe(true);
  });

  it('when a task is deleted, then it is gone: reading or deleting it again is a 404', async () => {
    const task = (await create(weekly())).body;
    const res = await api.request('DELETE', `/v1/scheduled-tasks/${task.id}`, { token: member.accessToken });
    expect(res.status).toBe(204);
    expect(await count()).toBe(0);
    expect((await get(task.id)).status).toBe(404);
    expect((await api.request('DELETE', `/v1/scheduled-tasks/${task.id}`, { token: member.accessToken })).status).toBe(404);
    expect((await patch(task.id, { enabled: false })).status).toBe(404);
  });
});
