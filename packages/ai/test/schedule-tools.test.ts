import { randomBytes } from 'node:crypto';
import { createScheduledTask, nextRunAt } from '@dealdome/domain';
import type { Role } from '@dealdome/domain';
import { useTestDatabase } from '@dealdome/testkit';
import { agents, newTurnEffects, turnSystemContext } from '../src';
import type { AgentToolContext } from '../src';

const AMSTERDAM = 'Europe/Amsterdam';
const CHAT = '-1009876543210';
const OTHER_CHAT = '555000111';

describe("Alfred's schedule tools", () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;
  const signal = new AbortController().signal;
  let calls = 0;

  async function person(role: Role) {
    return db()
      .insertInto('users')
      .values({ email: `${randomBytes(6).toString('hex')}@example.com`, display_name: `Sam the ${role}`, role })
      .returning(['id', 'display_name as displayName', 'role'])
      .executeTakeFirstOrThrow() as Promise<{ id: string; displayName: string; role: Role }>;
  }

  function context(who: { id: string; displayName: string; role: Role } | null, chatId = CHAT): AgentToolContext {
    return {
      db: db(),
      agent: 'alfred',
      chatId,
      conversationId: '00000000-0000-4000-8000-000000000000',
      person: who,
      timeZone: AMSTERDAM,
      today: '2026-11-25',
      sourceMessageId: null,
      effects: newTurnEffects(),
      canHandOff: true,
      endForHandoff: () => undefined,
    };
  }

  /** Calls a tool the way the loop does when the model asks for it. */
  async function call(name: string, input: Record<string, unknown>, ctx: AgentToolContext, tools = agents.alfred.tools) {
    const { result } = await tools.execute({ id: `toolu_${++calls}`, name, input }, ctx, signal);
    const content = result.content as string;
    return { isError: result.is_error === true, content, json: result.is_error || !content.startsWith('{') ? undefined : JSON.parse(content) };
  }

  const tasks = () => db().selectFrom('scheduled_tasks').selectAll().orderBy('created_at').execute();

  beforeEach(async () => {
    await db().deleteFrom('notifications').execute();
    await db().deleteFrom('scheduled_tasks').execute();
  });

  it('when a member asks for a reminder at a time, then the task is stored for this chat and runs at that instant', async () => {
    const member = await person('member');
    const res = await call('create_reminder', { text: 'Order packaging', at: '2030-03-05T09:00:00+01:00' }, context(member));
    expect(res.isError).toBe(false);
    const [task, ...more] = await tasks();
    expect(more).toEqual([]);
    expect(task).toMatchObject({
      kind: 'reminder',
      chat_id: CHAT,
      created_by: member.id,
      cron_expression: null,
      run_at: new Date('2030-03-05T08:00:00Z'),
      next_run_at: new Date('2030-03-05T08:00:00Z'),
      payload: { text: 'Order packaging' },
      enabled: true,
    });
    expect(res.json.scheduled).toMatchObject({ id: task!.id, kind: 'reminder', schedule: 'once', nextRun: 'Tuesday 5 March 2030, 09:00 (UTC+01:00)' });
  });

  it("when a repeating reminder is asked for, then its cron is read in the team's time zone and the next run is its next slot", async () => {
    const member = await person('admin');
    const before = new Date();
    const res = await call('create_reminder', { text: 'Weekly stock count', cron: '30 8 * * 1' }, context(member));
    expect(res.isError).toBe(false);
    const [task] = await tasks();
    expect(task).toMatchObject({ cron_expression: '30 8 * * 1', timezone: AMSTERDAM, run_at: null });
    expect(task!.next_run_at).toEqual(nextRunAt('30 8 * * 1', AMSTERDAM, before));
    expect(res.json.scheduled.nextRun).toMatch(/^Monday \d{1,2} \w+ \d{4}, 08:30 \(UTC\+0[12]:00\)$/);

    const tokyo = await call('create_reminder', { text: 'Call the Tokyo supplier', cron: '0 9 * * *', timeZone: 'Asia/Tokyo' }, context(member));
    expect(tokyo.json.scheduled.schedule).toBe('cron "0 9 * * *" in Asia/Tokyo');
    expect((await tasks())[1]!.next_run_at).toEqual(nextRunAt('0 9 * * *', 'Asia/Tokyo', before));
  });

  it('when the schedule is missing, doubled, unreadable or past, or a viewer asks, then the model reads why and nothing is stored', async () => {
    const member = await person('member');
    const neither = await call('create_reminder', { text: 'x' }, context(member));
    expect(neither).toMatchObject({ isError: true, content: expect.stringContaining('Give either `at`') });
    const both = await call('create_reminder', { text: 'x', at: '2030-01-01T09:00:00Z', cron: '0 9 * * *' }, context(member));
    expect(both.isError).toBe(true);
    const badCron = await call('create_reminder', { text: 'x', cron: '0 9 * *' }, context(member));
    expect(badCron).toMatchObject({ isError: true, content: expect.stringContaining('"0 9 * *" is not a cron expression DealDome can run: it has 4 fields') });
    const badZone = await call('create_reminder', { text: 'x', cron: '0 9 * * *', timeZone: 'Amsterdam' }, context(member));
    expect(badZone).toMatchObject({ isError: true, content: expect.stringContaining('"Amsterdam" is not a time zone') });
    const past = await call('create_reminder', { text: 'x', at: '2020-01-01T09:00:00+01:00' }, context(member));
    expect(past).toMatchObject({ isError: true, content: expect.stringContaining('is in the past') });
    const noOffset = await call('create_reminder', { text: 'x', at: '2030-01-01T09:00:00' }, context(member));
    expect(noOffset).toMatchObject({ isError: true, content: expect.stringContaining('Invalid input for create_reminder: at') });

    const viewer = await call('create_reminder', { text: 'x', cron: '0 9 * * *' }, context(await person('viewer')));
    expect(viewer).toMatchObject({ isError: true, content: expect.stringContaining('viewers can see the schedule but not change it') });
    const nobody = await call('create_reminder', { text: 'x', cron: '0 9 * * *' }, context(null));
    expect(nobody.isError).toBe(true);
    expect(await tasks()).toEqual([]);
  });

  it("when a reminder is cancelled, then only this chat's tasks can be: another chat's is not found and stays", async () => {
    const member = await person('member');
    const ours = await createScheduledTask(db(), { kind: 'reminder', chatId: CHAT, cronExpression: '0 9 * * *', timezone: AMSTERDAM, payload: { text: 'ours' } });
    const theirs = await createScheduledTask(db(), { kind: 'reminder', chatId: OTHER_CHAT, cronExpression: '0 9 * * *', timezone: AMSTERDAM, payload: { text: 'theirs' } });

    const listed = await call('list_reminders', {}, context(member));
    expect(listed.json.tasks.map((t: { id: string }) => t.id)).toEqual([ours.id]);

    const foreign = await call('cancel_reminder', { id: theirs.id }, context(member));
    expect(foreign).toMatchObject({ isError: true, content: 'cancel_reminder failed: the scheduled task was not found.' });
    expect((await tasks()).map((t) => t.id)).toEqual([ours.id, theirs.id]);

    const byViewer = await call('cancel_reminder', { id: ours.id }, context(await person('viewer')));
    expect(byViewer.isError).toBe(true);
    expect((await tasks()).map((t) => t.id)).toEqual([ours.id, theirs.id]);

    const cancelled = await call('cancel_reminder', { id: ours.id }, context(member));
    expect(cancelled.json.cancelled).toMatchObject({ id: ours.id, text: 'ours' });
    expect((await tasks()).map((t) => t.id)).toEqual([theirs.id]);
    expect((await call('list_reminders', {}, context(member))).json).toEqual({ tasks: [], note: 'Nothing is scheduled for this chat.' });
  });

  it('when a recurring check is set up, then it is stored for its agent, and one that would run more often than hourly is refused', async () => {
    const member = await person('member');
    const prompt = "Alert if yesterday's ROAS of Nordic Home was below 1.5";
    const everyMinute = await call('create_agent_check', { agent: 'roos', prompt, cron: '* * * * *' }, context(member));
    expect(everyMinute).toMatchObject({ isError: true, content: expect.stringContaining('more often than once every 60 minutes') });
    const twiceAnHour = await call('create_agent_check', { agent: 'roos', prompt, cron: '0,30 9 * * *' }, context(member));
    expect(twiceAnHour.isError).toBe(true);
    expect(await tasks()).toEqual([]);

    const before = new Date();
    const daily = await call('create_agent_check', { agent: 'roos', prompt, cron: '0 9 * * *' }, context(member));
    expect(daily.isError).toBe(false);
    const [task] = await tasks();
    expect(task).toMatchObject({ kind: 'agent_check', agent: 'roos', chat_id: CHAT, created_by: member.id, payload: { prompt }, timezone: AMSTERDAM });
    expect(task!.next_run_at).toEqual(nextRunAt('0 9 * * *', AMSTERDAM, before));
    expect(daily.json.scheduled).toMatchObject({ kind: 'agent_check', agent: 'roos', prompt });
  });

  it('when a check calls send_alert, then the alert is kept for the runtime, once', async () => {
    const ctx = context(null);
    const first = await call('send_alert', { text: 'ROAS was <b>1.2</b> yesterday' }, ctx, agents.roos.checkTools);
    expect(first).toMatchObject({ isError: false, content: expect.stringContaining('posted to the chat when this check ends') });
    expect(ctx.effects.alert).toEqual({ text: 'ROAS was <b>1.2</b> yesterday', priority: 'normal' });
    const second = await call('send_alert', { text: 'again' }, ctx, agents.roos.checkTools);
    expect(second.isError).toBe(true);
    expect(ctx.effects.alert).toEqual({ text: 'ROAS was <b>1.2</b> yesterday', priority: 'normal' });
  });

  it('when a check calls send_alert with a priority, then the alert keeps it, and a priority the notifications table does not know is refused', async () => {
    const ctx = context(null);
    const unknown = await call('send_alert', { text: 'ROAS was <b>0.8</b> yesterday', priority: 'urgent' }, ctx, agents.roos.checkTools);
    expect(unknown.isError).toBe(true);
    expect(unknown.content).toMatch(/priority/);
    expect(ctx.effects.alert).toBeUndefined();

    const high = await call('send_alert', { text: 'ROAS was <b>0.8</b> yesterday', priority: 'high' }, ctx, agents.roos.checkTools);
    expect(high.isError).toBe(false);
    expect(ctx.effects.alert).toEqual({ text: 'ROAS was <b>0.8</b> yesterday', priority: 'high' });
    // What the model is offered is what the notifications table accepts.
    const definition = agents.roos.checkTools.definitions().find((d) => d.name === 'send_alert')!;
    expect((definition.input_schema.properties as Record<string, { enum?: string[] }>).priority?.enum).toEqual(['low', 'normal', 'high', 'critical']);
  });

  it('when the agents are read, then Alfred schedules in chat and checks only read and alert', () => {
    const names = (registry: typeof agents.alfred.tools) => registry.tools.map((t) => t.name);
    expect(names(agents.alfred.tools)).toEqual(['remember', 'recall', 'create_reminder', 'list_reminders', 'cancel_reminder', 'create_agent_check', 'handoff']);
    expect(agents.alfred.promptVersion).toBe(2);
    expect(agents.alfred.prompt).toContain('create_reminder');
    expect(agents.alfred.prompt).not.toContain('cannot schedule');
    for (const agent of Object.values(agents)) {
      expect(names(agent.checkTools)).toContain('send_alert');
      expect(names(agent.checkTools)).not.toEqual(expect.arrayContaining(['handoff']));
      for (const writer of ['remember', 'propose_ad_spend', 'create_reminder', 'cancel_reminder', 'create_agent_check', 'handoff']) {
        expect(names(agent.checkTools)).not.toContain(writer);
      }
      expect(names(agent.tools)).not.toContain('send_alert');
      expect(agent.checkPrompt.startsWith(agent.prompt)).toBe(true);
    }
  });

  it('when the volatile context is built, then it gives the local time with its UTC offset, and a check says whose it is', () => {
    const winter = turnSystemContext({ now: new Date('2026-03-02T13:05:00Z'), timeZone: AMSTERDAM, person: null, stores: [] });
    expect(winter).toContain('Now: Monday 2 March 2026, 14:05 (UTC+01:00) in Europe/Amsterdam');
    const summer = turnSystemContext({
      now: new Date('2026-07-06T07:00:00Z'),
      timeZone: AMSTERDAM,
      person: { displayName: 'Anna', role: 'member' },
      stores: [],
      check: { schedule: 'cron "0 9 * * *" in Europe/Amsterdam', dueAt: new Date('2026-07-06T07:00:00Z') },
    });
    expect(summer).toContain('Now: Monday 6 July 2026, 09:00 (UTC+02:00)');
    expect(summer).toContain('Scheduled check (cron "0 9 * * *" in Europe/Amsterdam), set up by Anna (role: member); this run is for Monday 6 July 2026, 09:00 (UTC+02:00).');
    expect(summer).not.toContain('You are talking with');
    expect(turnSystemContext({ now: new Date('2026-01-01T00:00:00Z'), timeZone: 'UTC', person: null, stores: [] })).toContain('(UTC+00:00) in UTC');
  });
});
