import { UnrecoverableError } from 'bullmq';
import type { Job } from 'bullmq';
import type { Registry } from 'prom-client';
import type { RedisConnection } from '@dealdome/queues';
import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import {
  agentCheckPayload,
  createTaskNotification,
  dailyDigest,
  digestMessage,
  digestPayload,
  findScheduledTask,
  recordTaskRun,
  reminderMessage,
  reminderPayload,
} from '@dealdome/domain';
import type { ScheduledTask } from '@dealdome/domain';
import { createWorker, jobIds } from '@dealdome/queues';
import type { JobPayload, ManagedWorker, Producer } from '@dealdome/queues';
import { runHousekeeping } from './housekeeping';
import type { HousekeepingResult, Retention } from './housekeeping';

export interface ScheduledTasksWorkerDeps {
  db: Database;
  producer: Producer;
  connection: RedisConnection;
  /** QUEUE_PREFIX. */
  prefix: string;
  logger: Logger;
  concurrency: number;
  retention: Retention;
  /** The service's /metrics: the worker's job metrics go there. */
  registry?: Registry;
}

export type RunTaskResult =
  | { outcome: 'skipped'; reason: 'deleted' | 'paused' }
  | { outcome: 'notified'; notificationId: string }
  | { outcome: 'check-queued'; jobId: string };

/** The stored payload, checked again: a row changed by hand must fail plainly, not half-run. */
function payloadOf<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }, task: ScheduledTask): T {
  const parsed = schema.safeParse(task.payload);
  if (!parsed.success) throw new UnrecoverableError(`the stored payload of ${task.kind} task ${task.id} is not valid`);
  return parsed.data;
}

/**
 * The consumer of `scheduled-tasks`, run by the scheduler itself (the service that
 * owns time owns the workers of its queue).
 *
 * `run-task` runs one slot of a task: a reminder or a digest becomes a notification,
 * stored under an id made of task and slot and then queued for telegram-outbound (so
 * a retried run neither stores nor sends it twice); an agent check becomes a
 * `run-check` job for agent-runtime, its id made of task and slot too. A task deleted
 * or paused since the clock queued the run is skipped. The outcome is recorded on the
 * task; a failure counts once its last attempt has failed.
 *
 * `housekeeping` deletes what has outlived its use (housekeeping.ts).
 */
export function createScheduledTasksWorker(deps: ScheduledTasksWorkerDeps): ManagedWorker {
  const { db, producer } = deps;
  const logger = deps.logger.child({ component: 'scheduled-tasks' });

  async function notify(task: ScheduledTask, dueAt: Date, kind: 'reminder' | 'digest', html: string): Promise<RunTaskResult> {
    const notificationId = await createTaskNotification(db, { task, dueAt, kind, html });
    await producer.enqueue(
      'telegram-outbound',
      'deliver-notification',
      { chatId: task.chatId, notificationId },
      { jobId: jobIds.deliverNotification(notificationId) },
    );
    return { outcome: 'notified', notificationId };
  }

  async function perform(task: ScheduledTask, dueAt: Date, payload: JobPayload<'scheduled-tasks', 'run-task'>): Promise<RunTaskResult> {
    switch (task.kind) {
      case 'reminder':
        return notify(task, dueAt, 'reminder', reminderMessage(payloadOf(reminderPayload, task)));
      case 'digest': {
        // "Yesterday" is read when the digest is made, so one sent late (after downtime) reports the day before it arrives.
        const digests = await dailyDigest(db, payloadOf(digestPayload, task), new Date());
        return notify(task, dueAt, 'digest', digestMessage(digests));
      }
      case 'agent_check': {
        payloadOf(agentCheckPayload, task);
        const jobId = jobIds.runCheck(task.id, dueAt);
        await producer.enqueue('agent-turns', 'run-check', { taskId: task.id, dueAt: payload.dueAt }, { jobId });
        return { outcome: 'check-queued', jobId };
      }
    }
  }

  async function runTask(payload: JobPayload<'scheduled-tasks', 'run-task'>, job: Job): Promise<RunTaskResult> {
    const dueAt = new Date(payload.dueAt);
    const log = logger.child({ jobId: job.id, taskId: payload.taskId, dueAt: payload.dueAt });
    const task = await findScheduledTask(db, payload.taskId);
    if (!task) {
      log.info('task was deleted after its run was queued; skipped');
      return { outcome: 'skipped', reason: 'deleted' };
    }
    if (!task.enabled) {
      await recordTaskRun(db, task.id, { status: 'skipped' });
      log.info('task was paused after its run was queued; skipped');
      return { outcome: 'skipped', reason: 'paused' };
    }
    try {
      const result = await perform(task, dueAt, payload);
      // An agent check's outcome is agent-runtime's to record (run-check): recording 'ok'
      // for merely queueing it would reset the failure count of a check that keeps failing.
      if (result.outcome !== 'check-queued') await recordTaskRun(db, task.id, { status: 'ok' });
      log.info({ kind: task.kind, ...result }, 'task ran');
      return result;
    } catch (err) {
      const lastAttempt = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const message = err instanceof Error ? err.message : String(err);
      if (lastAttempt) await recordTaskRun(db, task.id, { status: 'failed', error: message });
      log.warn({ kind: task.kind, err: { message }, attempt: job.attemptsMade + 1, lastAttempt }, 'task run failed');
      throw err;
    }
  }

  return createWorker(
    'scheduled-tasks',
    {
      'run-task': (payload, job) => runTask(payload, job),
      housekeeping: async (_payload, job): Promise<HousekeepingResult> => {
        const deleted = await runHousekeeping(db, deps.retention);
        logger.info({ jobId: job.id, deleted }, 'housekeeping done');
        return deleted;
      },
    },
    { connection: deps.connection, prefix: deps.prefix, logger: deps.logger, concurrency: deps.concurrency, registry: deps.registry },
  );
}
