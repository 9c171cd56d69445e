import {
  AppError,
  createScheduledTask,
  deleteScheduledTask,
  describeCron,
  findScheduledTask,
  formatLocalTime,
  listScheduledTasks,
  parseReminder,
  pauseScheduledTask,
  reminderExamples,
  resumeScheduledTask,
  teamTimeZone,
} from '@dealdome/domain';
import type { ParsedReminder, ScheduledTask } from '@dealdome/domain';
import { TelegramApiError } from 'node-telegram-bot-api';
import type { InlineKeyboard, MemberContext } from '../context';
import { clip, esc } from '../html';
import type { Command } from './registry';

/**
 * /remind creates a chat's reminders from a phrase ("tomorrow 9:00 …", "every monday
 * 8:30 …"); /tasks lists the chat's scheduled tasks with buttons to pause, resume or
 * delete each. A press edits the list in place to show the new state. Every press
 * is checked against the chat it came from: a button naming another chat's task
 * (a forged callback_data) changes nothing.
 */

/** Tasks /tasks shows: with two buttons each, the keyboard stays usable and the message short. */
const LISTED_TASKS = 10;

interface View {
  html: string;
  keyboard?: InlineKeyboard;
}

const agentName = (agent: string) => agent.charAt(0).toUpperCase() + agent.slice(1);

function usage(zone: string): string {
  return [
    'Tell me when, then what. For example:',
    ...reminderExamples.map((example) => `/remind ${esc(example)}`),
    '',
    `Times are read in the team’s time zone, ${esc(zone)}. /tasks lists this chat’s reminders, with buttons to pause or delete them.`,
  ].join('\n');
}

/** What a task does, in a few words (Telegram HTML). */
function taskSummary(task: ScheduledTask, max = 120): string {
  switch (task.kind) {
    case 'reminder':
      return `⏰ ${esc(clip(task.payload.text, max))}`;
    case 'agent_check':
      return `🔎 ${agentName(task.agent)} checks: ${esc(clip(task.payload.prompt, max))}`;
    case 'digest': {
      const stores = task.payload.storeIds?.length;
      return `📊 Daily P&amp;L digest${stores ? ` of ${stores} store${stores === 1 ? '' : 's'}` : ''}`;
    }
  }
}

/** When a task runs and whether it will (Telegram HTML), next runs in the team's zone. */
function taskSchedule(task: ScheduledTask, zone: string): string {
  const schedule =
    task.cronExpression === null
      ? 'once'
      : `${esc(describeCron(task.cronExpression) ?? `cron ${task.cronExpression}`)}${task.timezone === zone ? '' : ` (${esc(task.timezone)})`}`;
  const state = !task.enabled ? '⏸ paused' : task.nextRunAt ? `next ${formatLocalTime(task.nextRunAt, zone)}` : 'done';
  const failing = task.lastStatus === 'failed' ? ' · last run failed' : '';
  return `${schedule} · ${state}${failing}`;
}

/** A one-shot task that has run can be deleted but not paused or resumed. */
const hasRun = (task: ScheduledTask) => task.cronExpression === null && task.nextRunAt === null;

async function listView(ctx: MemberContext, notice?: string): Promise<View> {
  const zone = await teamTimeZone(ctx.db);
  const page = await listScheduledTasks(ctx.db, { chatId: ctx.chatId }, { limit: LISTED_TASKS });
  const head = notice ? [notice, ''] : [];
  if (page.data.length === 0) {
    return {
      html: [...head, 'This chat has no scheduled tasks. Create a reminder with /remind, such as /remind tomorrow 9:00 send the invoices.'].join('\n'),
    };
  }
  const lines = page.data.map((task, i) => `${i + 1}. ${taskSummary(task)}\n    <i>${taskSchedule(task, zone)}</i>`);
  const more = page.nextCursor ? ['', `Only the first ${LISTED_TASKS} (oldest first) are shown; delete some to see the rest.`] : [];
  const rows = page.data.map((task, i) => {
    const n = i + 1;
    const toggle = task.enabled
      ? { text: `⏸ Pause ${n}`, callback_data: `tasks:pause:${task.id}` }
      : { text: `▶️ Resume ${n}`, callback_data: `tasks:resume:${task.id}` };
    return [...(hasRun(task) ? [] : [toggle]), { text: `🗑 Delete ${n}`, callback_data: `tasks:delete:${task.id}` }];
  });
  return {
    html: [...head, `<b>Scheduled tasks in this chat</b> (times in ${esc(zone)})`, ...lines, ...more].join('\n'),
    keyboard: { inline_keyboard: rows },
  };
}

/**
 * Shows the view in place of the message whose button was pressed. Should Telegram
 * refuse the edit (the message is too old or gone), it is sent as a new reply.
 */
async function show(ctx: MemberContext, view: View): Promise<void> {
  const pressed = ctx.update.callback_query?.message;
  if (pressed) {
    try {
      await ctx.deps.telegram.api.editMessageText({
        chat_id: pressed.chat.id,
        message_id: pressed.message_id,
        text: view.html,
        parse_mode: 'HTML',
        ...(view.keyboard && { reply_markup: view.keyboard }),
      });
      return;
    } catch (err) {
      // A press handled again (a redelivered update) finds the message as it would make it.
      if (err instanceof TelegramApiError && /message is not modified/i.test(err.description)) return;
      ctx.log.warn({ err: { message: (err as Error).message } }, 'editing the task list failed; sending it as a new message');
    }
  }
  await ctx.reply(view.html, view.keyboard ? { replyMarkup: view.keyboard } : {});
}

/** The task if it belongs to this chat. A button naming another chat's task is logged: Telegram's own buttons never do. */
async function taskOfChat(ctx: MemberContext, taskId: string): Promise<ScheduledTask | undefined> {
  const task = await findScheduledTask(ctx.db, taskId, { chatId: ctx.chatId });
  if (!task && (await findScheduledTask(ctx.db, taskId))) {
    ctx.log.warn({ taskId, chatId: ctx.chatId, telegramUserId: ctx.from.id }, 'a button named a task of another chat; refused');
  }
  return task;
}

const GONE = 'That task is no longer in this chat’s list.';

/** Runs a change to a task; a 404 or 409 (gone, or a one-shot that has run) becomes the notice above the list. */
async function change(work: () => Promise<string>): Promise<string> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AppError && (err.status === 404 || err.status === 409)) return esc(err.message);
    throw err;
  }
}

async function onTaskButton(ctx: MemberContext, action: string, taskId: string): Promise<void> {
  const scope = { chatId: ctx.chatId };
  if (action === 'list') {
    await show(ctx, await listView(ctx, 'Nothing was deleted.'));
    return;
  }
  if (!['pause', 'resume', 'delete', 'yes'].includes(action)) {
    ctx.log.warn({ action }, 'a /tasks button with an unknown action');
    return;
  }
  const task = await taskOfChat(ctx, taskId);
  if (!task) {
    await show(ctx, await listView(ctx, GONE));
    return;
  }
  const zone = await teamTimeZone(ctx.db);
  switch (action) {
    case 'pause': {
      const notice = await change(async () => `Paused: ${taskSummary(await pauseScheduledTask(ctx.db, task.id, scope), 60)}`);
      await show(ctx, await listView(ctx, notice));
      return;
    }
    case 'resume': {
      const notice = await change(async () => {
        const resumed = await resumeScheduledTask(ctx.db, task.id, scope);
        const next = resumed.nextRunAt ? `; next ${formatLocalTime(resumed.nextRunAt, zone)}` : '';
        return `Resumed: ${taskSummary(resumed, 60)}${next}`;
      });
      await show(ctx, await listView(ctx, notice));
      return;
    }
    case 'delete':
      await show(ctx, {
        html: ['Delete this task? This cannot be undone.', taskSummary(task, 300), `<i>${taskSchedule(task, zone)}</i>`].join('\n'),
        keyboard: {
          inline_keyboard: [
            [
              { text: 'Yes, delete it', callback_data: `tasks:yes:${task.id}` },
              { text: 'No, keep it', callback_data: 'tasks:list' },
            ],
          ],
        },
      });
      return;
    case 'yes': {
      const notice = await change(async () => `Deleted: ${taskSummary(await deleteScheduledTask(ctx.db, task.id, scope), 60)}`);
      await show(ctx, await listView(ctx, notice));
      return;
    }
  }
}

function confirmation(task: ScheduledTask, parsed: ParsedReminder, zone: string): string {
  const next = task.nextRunAt ? formatLocalTime(task.nextRunAt, zone) : 'now';
  const what = esc(clip(parsed.text, 500));
  const lines =
    parsed.kind === 'once'
      ? [`⏰ I will remind this chat on <b>${next}</b> (${esc(zone)}):`, what]
      : [
          `⏰ I will remind this chat <b>${esc(parsed.description)}</b> (${esc(parsed.timeZone)}):`,
          what,
          `First time: ${next}. Schedule: <code>${esc(parsed.cron)}</code>`,
        ];
  return [...lines, '', '/tasks lists this chat’s reminders, to pause or delete them.'].join('\n');
}

export const taskCommands: Command[] = [
  {
    name: 'remind',
    usage: 'when what',
    description: 'set a reminder for this chat: “in 2h …”, “tomorrow 9:00 …”, “every monday 8:30 …”',
    handle: async (ctx, args) => {
      const zone = await teamTimeZone(ctx.db);
      if (args.trim() === '') {
        await ctx.reply(usage(zone));
        return;
      }
      const now = new Date();
      let parsed: ParsedReminder;
      try {
        parsed = parseReminder(args, { now, timeZone: zone });
      } catch (err) {
        if (!(err instanceof AppError) || err.status !== 422) throw err;
        // The reason alone, then the examples as commands to copy.
        const reason = Object.values(err.fieldErrors ?? {})[0]?.[0] ?? err.message;
        await ctx.reply(`${esc(reason)}\n\n${usage(zone)}`);
        return;
      }
      const schedule =
        parsed.kind === 'once' ? { runAt: parsed.runAt, timezone: zone } : { cronExpression: parsed.cron, timezone: parsed.timeZone };
      // The task and the reply that confirms it are stored together: a retried update finds both or neither.
      await ctx.transaction(async (trx) => {
        const task = await createScheduledTask(
          trx,
          { kind: 'reminder', chatId: ctx.chatId, createdBy: ctx.member.id, payload: { text: parsed.text }, ...schedule },
          now,
        );
        await ctx.reply(confirmation(task, parsed, zone), { db: trx });
      });
    },
  },
  {
    name: 'tasks',
    description: 'this chat’s reminders and scheduled tasks, with buttons to pause, resume or delete them',
    handle: async (ctx) => {
      const view = await listView(ctx);
      await ctx.reply(view.html, view.keyboard ? { replyMarkup: view.keyboard } : {});
    },
    onCallback: onTaskButton,
  },
];
