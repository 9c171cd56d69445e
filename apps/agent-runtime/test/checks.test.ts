import { addDays, todayIn } from '@dealdome/ai';
import { createAdSpend, createScheduledTask, createStore, pauseScheduledTask, profitAndLoss, taskRunId, upsertDailyFinancials } from '@dealdome/domain';
import type { ScheduledTask } from '@dealdome/domain';
import { jobIds } from '@dealdome/queues';
import type { Job } from 'bullmq';
import { lastToolResult, textOf, useTurnHarness } from './harness';

const TEAM_ZONE = 'Europe/Amsterdam';
const PROMPT = "Alert if yesterday's ROAS of Nordic Home was below 1.5";

describe('run-check worker', () => {
  const h = useTurnHarness();
  let storeId: string;
  let yesterday: string;
  let chat = 700_000_000;

  beforeAll(async () => {
    await h.setSetting('team.timezone', TEAM_ZONE);
    storeId = (await createStore(h.db, { name: 'Nordic Home', currency: 'EUR', timezone: TEAM_ZONE })).id;
    yesterday = addDays(todayIn(TEAM_ZONE), -1);
    await upsertDailyFinancials(h.db, storeId, yesterday, {
      revenue: '480.00',
      discounts: '0',
      refunds: '0',
      cogs: '200.00',
      shippingCosts: '0',
      transactionFees: '0',
      orders: 6,
      units: 6,
    });
    await createAdSpend(h.db, { storeId, date: yesterday, platform: 'meta', amount: '400.00', currency: 'EUR' }, null);
  });

  /** A daily ROAS check by Roos, set up by a member in a chat of its own. */
  async function check(): Promise<{ task: ScheduledTask; dueAt: Date; person: { id: string } }> {
    const person = await h.user('member', 'Anna de Vries');
    const task = await createScheduledTask(h.db, {
      kind: 'agent_check',
      chatId: String(++chat),
      agent: 'roos',
      cronExpression: '0 9 * * *',
      timezone: TEAM_ZONE,
      payload: { prompt: PROMPT },
      createdBy: person.id,
    });
    return { task, dueAt: task.nextRunAt!, person };
  }

  const runCheck = (task: ScheduledTask, dueAt: Date, jobId = jobIds.runCheck(task.id, dueAt)): Promise<Job> =>
    h.producer.enqueue('agent-turns', 'run-check', { taskId: task.id, dueAt: dueAt.toISOString() }, { jobId });

  const notifications = (taskId: string) => h.db.selectFrom('notifications').selectAll().where('task_id', '=', taskId).execute();
  const storedTask = (taskId: string) => h.db.selectFrom('scheduled_tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
  async function deliveries(chatId: string) {
    const jobs = await h.producer.queue('telegram-outbound').getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
    return jobs.filter((j) => j.name === 'deliver-notification' && (j.data as { chatId: string }).chatId === chatId);
  }

  /** Roos looks up yesterday's P&L, then answers the way `decide` says from what get_pnl returned. */
  function scriptRoos(decide: (pnl: { totals: { roas: string | null } }) => { alert?: string; priority?: string; answer: string }) {
    h.fake.enqueue({ content: [{ type: 'tool_use', name: 'get_pnl', input: { range: 'yesterday', store: 'Nordic Home' } }] });
    let alerted = false;
    h.fake.respondWith((request) => {
      const result = lastToolResult(request);
      if (result.content.startsWith('{')) {
        const decision = decide(JSON.parse(result.content));
        if (decision.alert !== undefined) {
          alerted = true;
          return { content: [{ type: 'tool_use', name: 'send_alert', input: { text: decision.alert, ...(decision.priority && { priority: decision.priority }) } }] };
        }
        return { content: decision.answer };
      }
      if (!alerted) throw new Error('unexpected request');
      return { content: decide({ totals: { roas: null } }).answer };
    });
  }

  it('when Roos finds ROAS below the threshold and calls send_alert, then one notification and one delivery are queued, and a repeated job sends nothing more', async () => {
    const { task, dueAt, person } = await check();
    const expected = await profitAndLoss(h.db, { from: yesterday, to: yesterday, storeId, groupBy: 'day' });
    scriptRoos((pnl) => ({ alert: `ROAS of Nordic Home yesterday was <b>${pnl.totals.roas}</b>, below 1.5 & under break-even.`, priority: 'high', answer: 'Alert sent.' }));
    h.startWorker();

    const outcome = await h.finished(await runCheck(task, dueAt));

    const runId = taskRunId(task.id, dueAt);
    expect(outcome).toEqual({ outcome: 'alerted', notificationId: runId });
    const [notification, ...more] = await notifications(task.id);
    expect(more).toEqual([]);
    expect(notification).toMatchObject({ id: runId, kind: 'agent_check', priority: 'high', chat_id: task.chatId, status: 'pending' });
    expect(expected.totals.roas).toBe('1.20');
    expect(notification!.text).toBe(`<b>🔔 Roos's check</b>\nROAS of Nordic Home yesterday was <b>1.20</b>, below 1.5 &amp; under break-even.`);
    const [delivery, ...moreDeliveries] = await deliveries(task.chatId);
    expect(moreDeliveries).toEqual([]);
    expect(delivery!.id).toBe(jobIds.deliverNotification(runId));
    expect(delivery!.data).toMatchObject({ chatId: task.chatId, notificationId: runId });

    // Roos ran as a check: its check prompt and tools, the stored prompt as the message.
    const first = h.fake.requests[0]!;
    expect(JSON.stringify(first.system)).toContain('scheduled check the team set up');
    expect(JSON.stringify(first.system)).toContain('set up by Anna de Vries (role: member)');
    const tools = (first.tools as { name: string }[]).map((t) => t.name);
    expect(tools).toContain('send_alert');
    expect(tools).not.toContain('handoff');
    expect(tools).not.toContain('propose_ad_spend');
    expect(JSON.stringify(first.messages)).toContain(PROMPT);

    // The run is kept like a turn: the prompt as the person's message, the reply with its usage, charged to them.
    const stored = await h.messages(runId);
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool', 'assistant']);
    expect(textOf(stored[0]!.content)).toBe(PROMPT);
    const reply = stored.at(-1)!;
    expect(reply).toMatchObject({ user_id: person.id, agent: 'roos', model: 'claude-sonnet-4-6' });
    expect(reply.input_tokens).toBeGreaterThan(0);
    expect(reply.cost_usd).not.toBeNull();
    const record = await h.db.selectFrom('conversations').selectAll().where('id', '=', runId).executeTakeFirstOrThrow();
    expect(record).toMatchObject({ chat_id: task.chatId, user_id: person.id, agent: 'roos' });
    expect(record.closed_at).not.toBeNull();

    expect(await storedTask(task.id)).toMatchObject({ last_status: 'ok', last_error: null, consecutive_failures: 0 });

    const requests = h.fake.requests.length;
    const again = await h.finished(await runCheck(task, dueAt, `${jobIds.runCheck(task.id, dueAt)}-again`));
    expect(again).toEqual({ outcome: 'alerted', notificationId: runId });
    expect(await notifications(task.id)).toHaveLength(1);
    expect(await deliveries(task.chatId)).toHaveLength(1);
    expect(h.fake.requests).toHaveLength(requests);
  });

  it('when Roos answers without an alert, then nothing is queued and the run is recorded ok', async () => {
    const { task, dueAt } = await check();
    scriptRoos((pnl) => ({ answer: `ROAS yesterday was ${pnl.totals.roas}, as planned for the launch week: nothing unusual to report.` }));
    h.startWorker();

    const outcome = await h.finished(await runCheck(task, dueAt));

    expect(outcome).toEqual({ outcome: 'quiet' });
    expect(await notifications(task.id)).toEqual([]);
    expect(await deliveries(task.chatId)).toEqual([]);
    const row = await storedTask(task.id);
    expect(row).toMatchObject({ last_status: 'ok', last_error: null, consecutive_failures: 0 });
    expect(row.last_run_at).not.toBeNull();
    const stored = await h.messages(taskRunId(task.id, dueAt));
    expect(textOf(stored.at(-1)!.content)).toContain('nothing unusual to report');

    const requests = h.fake.requests.length;
    expect(await h.finished(await runCheck(task, dueAt, `${jobIds.runCheck(task.id, dueAt)}-again`))).toEqual({ outcome: 'skipped', reason: 'ran_already' });
    expect(h.fake.requests).toHaveLength(requests);
    expect(await deliveries(task.chatId)).toEqual([]);
  });

  it('when Anthropic answers 529 to every attempt, then the run is recorded failed with the reason, nothing is sent and the job completes', async () => {
    const { task, dueAt } = await check();
    h.fake.injectError({ error: 'overloaded' }, 20);
    h.startWorker();

    const outcome = await h.finished(await runCheck(task, dueAt));

    expect(outcome).toEqual({ outcome: 'failed', reason: expect.stringContaining('overloaded or unreachable') });
    expect(h.fake.requests.length).toBeGreaterThanOrEqual(2);
    expect(h.fake.requests.every((r) => r.status === 529)).toBe(true);
    expect(await notifications(task.id)).toEqual([]);
    expect(await deliveries(task.chatId)).toEqual([]);
    expect(await storedTask(task.id)).toMatchObject({
      last_status: 'failed',
      last_error: "Anthropic's service was overloaded or unreachable and retrying did not help; nothing was sent",
      consecutive_failures: 1,
    });
  });

  it('when no API key is configured, then the run is recorded failed saying so, and no model is asked and nothing is sent', async () => {
    const { task, dueAt } = await check();
    h.startWorker({ offline: true });

    const outcome = await h.finished(await runCheck(task, dueAt));

    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('no ANTHROPIC_API_KEY is configured') });
    expect(h.fake.requests).toHaveLength(0);
    expect(await notifications(task.id)).toEqual([]);
    expect(await deliveries(task.chatId)).toEqual([]);
    expect(await h.messages(taskRunId(task.id, dueAt))).toEqual([]);
    expect(await storedTask(task.id)).toMatchObject({ last_status: 'failed', last_error: expect.stringMatching(/^no ANTHROPIC_API_KEY is configured/), consecutive_failures: 1 });
  });

  it("when the monthly AI budget of the person who set the check up is spent, then it does not run and says why", async () => {
    const { task, dueAt } = await check();
    await h.setSetting('ai.monthly_budget_usd', '0');
    h.startWorker();

    const outcome = await h.finished(await runCheck(task, dueAt));
    await h.setSetting('ai.monthly_budget_usd', null);

    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('the monthly AI budget of the person who set the check up is spent ($0.00 of $0.00)') });
    expect(h.fake.requests).toHaveLength(0);
    expect(await notifications(task.id)).toEqual([]);
  });

  it('when the check was paused or deleted after its run was queued, then nothing runs', async () => {
    const paused = await check();
    await pauseScheduledTask(h.db, paused.task.id);
    const deleted = await check();
    await h.db.deleteFrom('scheduled_tasks').where('id', '=', deleted.task.id).execute();
    h.startWorker();

    expect(await h.finished(await runCheck(paused.task, paused.dueAt))).toEqual({ outcome: 'skipped', reason: 'paused' });
    expect(await h.finished(await runCheck(deleted.task, deleted.dueAt))).toEqual({ outcome: 'skipped', reason: 'deleted' });
    expect((await storedTask(paused.task.id)).last_status).toBe('skipped');
    expect(h.fake.requests).toHaveLength(0);
  });
});
