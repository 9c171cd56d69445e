import { Option } from 'commander';
import type { Command } from 'commander';
import type { DatabaseHandle } from '@dealdome/db';
import { listScheduledTasks, runScheduledTaskNow, scheduledTaskKinds } from '@dealdome/domain';
import type { ScheduledTask, ScheduledTaskFilters, ScheduledTaskKind } from '@dealdome/domain';
import { jobIds } from '@dealdome/queues';
import { columns, isoOrDash } from './options';
import { withProducer } from './queues';

const scheduleOf = (task: ScheduledTask) =>
  task.cronExpression !== null ? `cron "${task.cronExpression}" ${task.timezone}` : `once at ${isoOrDash(task.runAt)}`;

/** `pnpm dealdome tasks:*`: the scheduled tasks (reminders, agent checks, digests), listed and run on demand. */
export function registerTaskCommands(
  program: Command,
  out: (line: string) => void,
  withDatabase: <T>(run: (handle: DatabaseHandle) => Promise<T>) => Promise<T>,
): void {
  program
    .command('tasks:list')
    .description('list scheduled tasks, oldest first: schedule, chat, next run and how the last one went')
    .addOption(new Option('--kind <kind>', 'only tasks of this kind').choices(scheduledTaskKinds))
    .option('--chat <id>', 'only the tasks of this Telegram chat')
    .option('--paused', 'only paused tasks')
    .action(async (options: { kind?: ScheduledTaskKind; chat?: string; paused?: boolean }) => {
      const filters: ScheduledTaskFilters = {
        ...(options.kind !== undefined && { kind: options.kind }),
        ...(options.chat !== undefined && { chatId: options.chat }),
        ...(options.paused && { enabled: false }),
      };
      const tasks = await withDatabase(async ({ db }) => {
        const all: ScheduledTask[] = [];
        let cursor: string | undefined;
        do {
          const page = await listScheduledTasks(db, filters, { limit: 200, ...(cursor !== undefined && { cursor }) });
          all.push(...page.data);
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
        return all;
      });
      if (tasks.length === 0) {
        out('no scheduled tasks');
        return;
      }
      const rows = tasks.map((t) => [
        t.id,
        t.agent ? `${t.kind} (${t.agent})` : t.kind,
        scheduleOf(t),
        t.chatId,
        t.enabled ? isoOrDash(t.nextRunAt) : 'paused',
        t.lastStatus ? `${t.lastStatus} ${isoOrDash(t.lastRunAt)}` : '-',
      ]);
      for (const line of columns([['id', 'kind', 'schedule', 'chat', 'next run', 'last run'], ...rows])) out(line);
    });

  program
    .command('tasks:run')
    .description("run a scheduled task once now, besides its schedule (which stays as it is); the scheduler's worker runs it")
    .argument('<id>', 'the task id, as tasks:list shows it')
    .action(async (id: string) => {
      const { run, jobId } = await withDatabase(({ db }) =>
        withProducer(async (producer) => {
          let jobId = '';
          // Queued as the clock queues a slot — the same job and payload — under an id of its own.
          const run = await runScheduledTaskNow(db, id, async ({ task, dueAt }) => {
            jobId = jobIds.runTaskNow(task.id, dueAt);
            await producer.enqueue('scheduled-tasks', 'run-task', { taskId: task.id, dueAt: dueAt.toISOString() }, { jobId });
          });
          return { run, jobId };
        }),
      );
      out(`queued a run of ${run.task.kind} task ${run.task.id} for ${run.dueAt.toISOString()} (job ${jobId})`);
    });
}
