import {
  agentCheckPayload,
  agentNames,
  createScheduledTask,
  deleteScheduledTask,
  digestPayload,
  getScheduledTask,
  listScheduledTasks,
  pageOutput,
  pageQuery,
  reminderPayload,
  scheduledTaskKinds,
  scheduledTaskOutput,
  updateScheduledTask,
  uuid,
} from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import type { Api } from '../http/api';
import { actorId } from '../http/auth';

const idParam = z.object({ id: uuid });

// Stored as bigint: a longer number is no chat id and must be refused before it reaches the database.
const CHAT_ID = /^-?\d{1,19}$/;
const INT8_MAX = 2n ** 63n - 1n;
const chatId = z
  .string()
  .regex(CHAT_ID, { message: 'expected a Telegram chat id as a decimal string', abort: true })
  .refine((v) => BigInt(v) <= INT8_MAX && BigInt(v) >= -INT8_MAX, 'is out of the range of Telegram chat ids')
  .meta({ description: 'Telegram chat id as a decimal string (negative for groups)', example: '-1001234567890' });

/** The schedule, as the body gives it: either a cron expression read in a time zone, or one instant. */
const schedule = {
  cronExpression: z
    .string()
    .trim()
    .min(1)
    .max(120)
    .optional()
    .meta({ description: 'Recurring: 5 fields (minute hour day-of-month month day-of-week), read in `timezone`', example: '30 8 * * 1' }),
  timezone: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .optional()
    .meta({ description: 'IANA time zone the cron expression is read in; required with `cronExpression`, except for a digest of one store, which defaults to the store\'s time zone', example: 'Europe/Amsterdam' }),
  runAt: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: 'One-shot: the instant it runs, ISO 8601 with an offset', example: '2026-11-05T09:30:00+01:00' }),
};

const newTaskBody = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('reminder'), chatId, ...schedule, payload: reminderPayload }),
    z.object({ kind: z.literal('agent_check'), chatId, ...schedule, agent: z.enum(agentNames), payload: agentCheckPayload }),
    z.object({ kind: z.literal('digest'), chatId, ...schedule, payload: digestPayload.optional() }),
  ])
  .meta({
    id: 'NewScheduledTask',
    description: 'A reminder (`payload.text`), an agent check (`agent`, `payload.prompt`) or a digest (`payload.storeIds`, every store when left out)',
  });

const taskPatchBody = z
  .object({
    enabled: z.boolean().optional().meta({ description: 'false pauses the task (its schedule is kept); true resumes it from its next slot' }),
    ...schedule,
    payload: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: "Replaces the payload; checked against the task's kind: `{text}`, `{prompt}` or `{storeIds}`" }),
  })
  .meta({ id: 'ScheduledTaskPatch', description: 'What changes; the rest stays. Kind, chat and agent cannot change.' });

const taskFilters = z.object({
  kind: z.enum(scheduledTaskKinds).optional(),
  chatId: chatId.optional(),
  enabled: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true'))
    .meta({ description: 'Only enabled (true) or paused (false) tasks' }),
});

const scheduledTaskPageOutput = pageOutput(scheduledTaskOutput, 'ScheduledTaskPage');

/**
 * What the scheduler runs: reminders, agent checks and digests of every chat. Everyone
 * reads them; members and admins (and tokens holding finance:write) change them. A
 * cron expression or time zone that cannot be read is a 422 naming what is wrong.
 */
export function scheduledTaskRoutes(api: Api, db: Database): void {
  api.route({
    operationId: 'listScheduledTasks',
    method: 'get',
    path: '/v1/scheduled-tasks',
    summary: 'List scheduled tasks, oldest first',
    tag: 'Scheduled tasks',
    guard: 'read',
    query: [taskFilters, pageQuery],
    status: 200,
    response: scheduledTaskPageOutput,
    handle: ({ query }) => listScheduledTasks(db, query, query),
  });
  api.route({
    operationId: 'createScheduledTask',
    method: 'post',
    path: '/v1/scheduled-tasks',
    summary: 'Schedule a reminder, agent check or digest',
    description:
      'Give `cronExpression` with `timezone` for a recurring task, or `runAt` for a one-shot one. The first run is worked out at once: ' +
      'an expression or time zone that cannot be read, or a `runAt` in the past, is a 422 and nothing is stored.',
    tag: 'Scheduled tasks',
    guard: 'write',
    body: newTaskBody,
    status: 201,
    response: scheduledTaskOutput,
    problems: [422],
    handle: ({ body }, { res }) => createScheduledTask(db, { ...body, createdBy: actorId(res) }),
  });
  api.route({
    operationId: 'getScheduledTask',
    method: 'get',
    path: '/v1/scheduled-tasks/:id',
    summary: 'Get a scheduled task',
    tag: 'Scheduled tasks',
    guard: 'read',
    params: idParam,
    status: 200,
    response: scheduledTaskOutput,
    handle: ({ params }) => getScheduledTask(db, params.id),
  });
  api.route({
    operationId: 'updateScheduledTask',
    method: 'patch',
    path: '/v1/scheduled-tasks/:id',
    summary: 'Pause, resume, reschedule or change a scheduled task',
    description:
      'A new schedule, or resuming, works out the next run again (a recurring task continues from its next slot after now; slots ' +
      'it was paused over are not made up). Resuming a one-shot task that has run is a 409.',
    tag: 'Scheduled tasks',
    guard: 'write',
    params: idParam,
    body: taskPatchBody,
    status: 200,
    response: scheduledTaskOutput,
    problems: [409, 422],
    handle: ({ params, body }) => updateScheduledTask(db, params.id, body),
  });
  api.route({
    operationId: 'deleteScheduledTask',
    method: 'delete',
    path: '/v1/scheduled-tasks/:id',
    summary: 'Delete a scheduled task',
    description: 'A run already queued finds the task gone and does nothing.',
    tag: 'Scheduled tasks',
    guard: 'write',
    params: idParam,
    status: 204,
    handle: async ({ params }) => {
      await deleteScheduledTask(db, params.id);
    },
  });
}
