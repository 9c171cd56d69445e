import { createHash } from 'node:crypto';
import type { Database } from '@dealdome/db';
import { CronExpressionParser } from 'cron-parser';
import { sql } from 'kysely';
import { z } from 'zod';
import { agentNames } from './conversations';
import type { AgentName } from './conversations';
import { escapeHtml, fmt } from './delivery';
import type { AlertPriority } from './alerts';
import { AppError, conflict, invalid, notFound, unprocessable } from './errors';
import type { FieldErrors } from './errors';
import { decodeCursor, toPage } from './pagination';
import type { Page, PageQuery } from './pagination';
import { formatPnl } from './reports/pnl-message';
import { profitAndLoss } from './reports/pnl';
import type { PnlReport } from './reports/pnl';
import { dateTimeOutput, idOutput } from './schemas/common';
import { timeZone, uuid } from './values';

/**
 * Scheduled tasks: what DealDome does on its own at a set time — remind a chat,
 * give an agent a check to run, send yesterday's P&L. A task is either recurring (a
 * 5-field cron expression read in an IANA time zone) or one-shot (`runAt`).
 *
 * `next_run_at` is the one field the scheduler's clock reads: a task is due when it
 * is enabled and `next_run_at` has passed. The clock claims due tasks, hands each
 * run to the queue and moves `next_run_at` on in one transaction (fireDueTasks), so
 * two clocks never fire a slot twice; the worker that runs it records the outcome
 * (recordTaskRun).
 */

export const scheduledTaskKinds = ['reminder', 'agent_check', 'digest'] as const;
export type ScheduledTaskKind = (typeof scheduledTaskKinds)[number];
export const taskRunStatuses = ['ok', 'failed', 'skipped'] as const;
export type TaskRunStatus = (typeof taskRunStatuses)[number];

export const MAX_REMINDER_LENGTH = 3500;
export const MAX_CHECK_PROMPT_LENGTH = 4000;
/** How far in the past a one-shot `runAt` may be and still be accepted (clock skew, a slow request): it then runs at once. */
export const RUN_AT_GRACE_MS = 60_000;

export const reminderPayload = z.object({
  text: z.string().trim().min(1, 'is empty').max(MAX_REMINDER_LENGTH, `is longer than ${MAX_REMINDER_LENGTH} characters`),
});
export const agentCheckPayload = z.object({
  /** What the agent is to look at and when to speak up, e.g. "alert if yesterday's ROAS of Nordic Home was below 1.5". */
  prompt: z.string().trim().min(1, 'is empty').max(MAX_CHECK_PROMPT_LENGTH, `is longer than ${MAX_CHECK_PROMPT_LENGTH} characters`),
});
export const digestPayload = z.object({
  /** The stores reported on; every store when left out. */
  storeIds: z.array(uuid).min(1).max(100).optional(),
});
export type ReminderPayload = z.infer<typeof reminderPayload>;
export type AgentCheckPayload = z.infer<typeof agentCheckPayload>;
export type DigestPayload = z.infer<typeof digestPayload>;

// Telegram chat ids exceed 2^31 and are negative for groups: decimal strings, as everywhere.
const chatId = z.string().regex(/^-?\d{1,20}$/, 'expected a Telegram chat id as a decimal string');
const instant = z.union([z.date(), z.iso.datetime({ offset: true }).transform((value) => new Date(value))]);

const scheduleFields = {
  chatId,
  /** Recurring: 5 fields (minute hour day-of-month month day-of-week), read in `timezone`. */
  cronExpression: z.string().trim().min(1).max(120).optional(),
  /**
   * The IANA time zone a cron expression is read in; required with it, except for a
   * digest of exactly one store, which is read in that store's time zone when left out.
   */
  timezone: z.string().trim().min(1).max(64).optional(),
  /** One-shot: the instant it runs. */
  runAt: instant.optional(),
  createdBy: z.uuid().nullable().optional(),
};

/**
 * A new task as callers give it. Shape errors (a missing field, an empty text) are
 * 400s; an expression or time zone that cannot be read, a past `runAt` or an unknown
 * store is a 422 that says what was wrong.
 */
export const newScheduledTaskSchema = z
  .discriminatedUnion('kind', [
    z.object({ ...scheduleFields, kind: z.literal('reminder'), payload: reminderPayload }),
    z.object({ ...scheduleFields, kind: z.literal('agent_check'), agent: z.enum(agentNames), payload: agentCheckPayload }),
    z.object({ ...scheduleFields, kind: z.literal('digest'), payload: digestPayload.default({}) }),
  ])
  .superRefine((task, ctx) => {
    if ((task.cronExpression === undefined) === (task.runAt === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['cronExpression'], message: 'give either cronExpression (with timezone) or runAt, not both' });
    }
    if (task.cronExpression !== undefined && task.timezone === undefined && soleStoreId(task) === undefined) {
      ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'is required with cronExpression (an IANA time zone such as "Europe/Amsterdam")' });
    }
  });

/** The one store a digest reports on, if it names exactly one: its time zone is the digest's unless one is given. */
function soleStoreId(task: { kind: ScheduledTaskKind; payload: unknown }): string | undefined {
  if (task.kind !== 'digest') return undefined;
  const storeIds = new Set((task.payload as DigestPayload).storeIds ?? []);
  return storeIds.size === 1 ? [...storeIds][0] : undefined;
}
export type NewScheduledTask = z.input<typeof newScheduledTaskSchema>;

interface ScheduledTaskCommon {
  id: string;
  /** Telegram chat id as a decimal string. */
  chatId: string;
  cronExpression: string | null;
  timezone: string;
  runAt: Date | null;
  createdBy: string | null;
  enabled: boolean;
  /** When it is due next; null for a one-shot task that has run. */
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  lastStatus: TaskRunStatus | null;
  lastError: string | null;
  consecutiveFailures: number;
  createdAt: Date;
  updatedAt: Date;
}

export type ScheduledTask = ScheduledTaskCommon &
  (
    | { kind: 'reminder'; agent: null; payload: ReminderPayload }
    | { kind: 'agent_check'; agent: AgentName; payload: AgentCheckPayload }
    | { kind: 'digest'; agent: null; payload: DigestPayload }
  );

/** The task as the API sends it (the OpenAPI document is generated from this). */
export const scheduledTaskOutput = z
  .object({
    id: idOutput,
    kind: z.enum(scheduledTaskKinds),
    chatId: z.string().meta({ description: 'Telegram chat id as a decimal string', example: '-1001234567890' }),
    cronExpression: z.string().nullable().meta({ description: '5 fields; null for a one-shot task', example: '30 8 * * 1' }),
    timezone: z.string().meta({ description: 'IANA time zone the cron expression is read in', example: 'Europe/Amsterdam' }),
    runAt: dateTimeOutput.nullable().meta({ description: 'When a one-shot task runs; null for a recurring one' }),
    agent: z.enum(agentNames).nullable(),
    payload: z.union([reminderPayload, agentCheckPayload, digestPayload]),
    createdBy: idOutput.nullable(),
    enabled: z.boolean(),
    nextRunAt: dateTimeOutput.nullable().meta({ description: 'When it is due next; null for a one-shot task that has run' }),
    lastRunAt: dateTimeOutput.nullable(),
    lastStatus: z.enum(taskRunStatuses).nullable(),
    lastError: z.string().nullable(),
    consecutiveFailures: z.number().int(),
    createdAt: dateTimeOutput,
    updatedAt: dateTimeOutput,
  })
  .meta({ id: 'ScheduledTask', description: 'A reminder, agent check or digest that runs on a schedule' });

// ---------------------------------------------------------------- cron

const CRON_FIELD_NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const;

const cronRefusal = (expression: string, reason: string) =>
  unprocessable(`"${expression}" is not a cron expression DealDome can run: ${reason}`, { cronExpression: [reason] });

/** The time zone as given when it is an IANA zone; otherwise a 422 that names it. */
export function assertTimeZone(zone: string): string {
  if (!timeZone.safeParse(zone).success) {
    const reason = 'expected an IANA time zone such as "Europe/Amsterdam"';
    throw unprocessable(`"${zone}" is not a time zone: ${reason}`, { timezone: [reason] });
  }
  return zone;
}

function parseCron(expression: string, zone: string, after: Date) {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== CRON_FIELD_NAMES.length) {
    throw cronRefusal(
      expression,
      `it has ${fields.length} field${fields.length === 1 ? '' : 's'}; a cron expression has 5: ${CRON_FIELD_NAMES.join(', ')} (such as "30 8 * * 1")`,
    );
  }
  // The library reads "H" as a random value; a schedule must say when it runs.
  const random = fields.findIndex((field) => field.split(/[,/-]/).some((part) => /^H(\(|$)/i.test(part)));
  if (random >= 0) throw cronRefusal(expression, `the ${CRON_FIELD_NAMES[random]} field uses "H" (a random value); name the time`);
  try {
    return CronExpressionParser.parse(fields.join(' '), { currentDate: after, tz: zone });
  } catch (err) {
    throw cronRefusal(expression, err instanceof Error ? err.message : String(err));
  }
}

/**
 * The first slot of `expression` strictly after `after`, the expression read as
 * wall-clock time in `zone`. Across daylight saving time a daily slot runs once a
 * day: a time that does not exist that day (02:30 when clocks jump from 02:00 to
 * 03:00) runs an hour later, and a time that happens twice (02:30 when clocks go
 * back) runs at its first occurrence only. Throws a 422 for an expression or zone
 * that cannot be read, or one that never comes round.
 */
export function nextRunAt(expression: string, zone: string, after: Date): Date {
  assertTimeZone(zone);
  const parsed = parseCron(expression, zone, after);
  try {
    return parsed.next().toDate();
  } catch (err) {
    throw cronRefusal(expression, err instanceof Error ? err.message : String(err));
  }
}

/**
 * Where a recurring task goes after its run for the slot `dueAt`, claimed at `now`:
 * the first slot after `now`, and how many slots passed in between (not run: the
 * one run covers them). The slots are walked from `dueAt`, not looked up from `now`,
 * so a clock that was down while clocks went back does not take the repeated hour's
 * 02:30 for a new slot. Past `maxMissed` slots the walk stops and jumps to `now`.
 */
export function advanceSchedule(
  expression: string,
  zone: string,
  dueAt: Date,
  now: Date,
  maxMissed = 10_000,
): { nextRunAt: Date; missedSlots: number } {
  assertTimeZone(zone);
  const slots = parseCron(expression, zone, dueAt);
  let missedSlots = 0;
  try {
    for (let slot = slots.next().toDate(); ; slot = slots.next().toDate()) {
      if (slot.getTime() > now.getTime()) return { nextRunAt: slot, missedSlots };
      missedSlots += 1;
      if (missedSlots >= maxMissed) return { nextRunAt: nextRunAt(expression, zone, now), missedSlots };
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw cronRefusal(expression, err instanceof Error ? err.message : String(err));
  }
}

// ---------------------------------------------------------------- rows

const columns = [
  'id',
  'kind',
  'cron_expression',
  'timezone',
  'run_at',
  'chat_id',
  'agent',
  'payload',
  'created_by',
  'enabled',
  'next_run_at',
  'last_run_at',
  'last_status',
  'last_error',
  'consecutive_failures',
  'created_at',
  'updated_at',
] as const;

interface TaskRow {
  id: string;
  kind: string;
  cron_expression: string | null;
  timezone: string;
  run_at: Date | null;
  chat_id: string;
  agent: string | null;
  payload: unknown;
  created_by: string | null;
  enabled: boolean;
  next_run_at: Date | null;
  last_run_at: Date | null;
  last_status: string | null;
  last_error: string | null;
  consecutive_failures: number;
  created_at: Date;
  updated_at: Date;
}

// Rows are written only through createScheduledTask, which validated kind, agent and payload together.
const presentTask = (r: TaskRow): ScheduledTask =>
  ({
    id: r.id,
    kind: r.kind,
    chatId: r.chat_id,
    cronExpression: r.cron_expression,
    timezone: r.timezone,
    runAt: r.run_at,
    agent: r.agent,
    payload: r.payload,
    createdBy: r.created_by,
    enabled: r.enabled,
    nextRunAt: r.next_run_at,
    lastRunAt: r.last_run_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    consecutiveFailures: r.consecutive_failures,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }) as ScheduledTask;

function fieldErrorsOf(error: z.ZodError, under: readonly PropertyKey[] = []): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) (errors[[...under, ...issue.path].join('.') || 'task'] ??= []).push(issue.message);
  return errors;
}

// ---------------------------------------------------------------- create, read, change

/** A one-shot `runAt`, refused when it is further in the past than RUN_AT_GRACE_MS. */
function assertRunAtAhead(runAt: Date, now: Date): Date {
  if (runAt.getTime() < now.getTime() - RUN_AT_GRACE_MS) {
    throw unprocessable(`runAt ${runAt.toISOString()} is in the past`, { runAt: ['is in the past'] });
  }
  return runAt;
}

/** The stores a digest names must exist; a 422 names those that do not. */
async function assertStoresExist(db: Database, storeIds: readonly string[]): Promise<void> {
  const wanted = [...new Set(storeIds)];
  const found = await db.selectFrom('stores').select('id').where('id', 'in', wanted).execute();
  const known = new Set(found.map((s) => s.id));
  const unknown = wanted.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw unprocessable(`no store has the id ${unknown.join(', ')}`, { 'payload.storeIds': unknown.map((id) => `${id} is not a store`) });
  }
}

/**
 * Stores a task and its first `next_run_at`: the first cron slot after `now`, or
 * `runAt`. The cron expression, the time zone, a past `runAt` and the stores of a
 * digest are checked first; nothing is stored when one is refused. A digest of one
 * store given no time zone takes the store's, so "at 8:00" is 8:00 where the store
 * keeps its books — the day the digest reports on is read there too.
 */
export async function createScheduledTask(db: Database, input: NewScheduledTask, now: Date = new Date()): Promise<ScheduledTask> {
  const parsed = newScheduledTaskSchema.safeParse(input);
  if (!parsed.success) throw invalid(fieldErrorsOf(parsed.error), 'The scheduled task is not valid.');
  const task = parsed.data;

  if (task.kind === 'digest' && task.payload.storeIds) await assertStoresExist(db, task.payload.storeIds);
  let zone = task.timezone;
  const soleStore = zone === undefined ? soleStoreId(task) : undefined;
  if (soleStore !== undefined) {
    zone = (await db.selectFrom('stores').select('timezone').where('id', '=', soleStore).executeTakeFirstOrThrow()).timezone;
  }
  zone = assertTimeZone(zone ?? 'UTC');

  const next = task.cronExpression !== undefined ? nextRunAt(task.cronExpression, zone, now) : assertRunAtAhead(task.runAt as Date, now);

  const row = await db
    .insertInto('scheduled_tasks')
    .values({
      kind: task.kind,
      cron_expression: task.cronExpression ?? null,
      timezone: zone,
      run_at: task.runAt ?? null,
      chat_id: task.chatId,
      agent: task.kind === 'agent_check' ? task.agent : null,
      payload: JSON.stringify(task.payload),
      created_by: task.createdBy ?? null,
      next_run_at: next,
    })
    .returning(columns)
    .executeTakeFirstOrThrow();
  return presentTask(row);
}

/** Limits a read or change to one chat's tasks (a chat sees and changes only its own). */
export interface TaskScope {
  chatId?: string;
}

export async function findScheduledTask(db: Database, id: string, scope: TaskScope = {}): Promise<ScheduledTask | undefined> {
  if (!uuid.safeParse(id).success) return undefined;
  let query = db.selectFrom('scheduled_tasks').select(columns).where('id', '=', id);
  if (scope.chatId !== undefined) query = query.where('chat_id', '=', scope.chatId);
  const row = await query.executeTakeFirst();
  return row && presentTask(row);
}

export async function getScheduledTask(db: Database, id: string, scope: TaskScope = {}): Promise<ScheduledTask> {
  const task = await findScheduledTask(db, id, scope);
  if (!task) throw notFound('the scheduled task');
  return task;
}

export interface ScheduledTaskFilters {
  chatId?: string;
  kind?: ScheduledTaskKind;
  enabled?: boolean;
}

/** created_at to the microsecond, the key of the list's cursor (a Date would drop the microseconds and skip rows). */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Tasks of one chat or of all, oldest first (created_at, then id). */
export async function listScheduledTasks(db: Database, filters: ScheduledTaskFilters, page: PageQuery): Promise<Page<ScheduledTask>> {
  const after = decodeCursor(page.cursor);
  if (after && !CURSOR_TIME.test(after.key)) throw invalid({ cursor: ['is not a cursor this API issued'] });
  let query = db
    .selectFrom('scheduled_tasks')
    .select([...columns, sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('position')])
    .orderBy('created_at')
    .orderBy('id')
    .limit(page.limit + 1);
  if (filters.chatId !== undefined) query = query.where('chat_id', '=', filters.chatId);
  if (filters.kind !== undefined) query = query.where('kind', '=', filters.kind);
  if (filters.enabled !== undefined) query = query.where('enabled', '=', filters.enabled);
  if (after) query = query.where(sql<boolean>`(created_at, id) > (${after.key}::timestamptz, ${after.id}::uuid)`);
  return toPage(await query.execute(), page.limit, presentTask, (r) => [r.position, r.id]);
}

/** Stops a task from running until it is resumed; its schedule is kept. */
export async function pauseScheduledTask(db: Database, id: string, scope: TaskScope = {}): Promise<ScheduledTask> {
  const task = await getScheduledTask(db, id, scope);
  const row = await db
    .updateTable('scheduled_tasks')
    .set({ enabled: false, updated_at: sql<Date>`now()` })
    .where('id', '=', task.id)
    .returning(columns)
    .executeTakeFirst();
  if (!row) throw notFound('the scheduled task');
  return presentTask(row);
}

/**
 * Lets a paused task run again. A recurring task continues from its next slot after
 * `now` (the slots it was paused over are not made up); a one-shot task whose time
 * passed while it was paused runs at once. A one-shot task that has run cannot be
 * resumed.
 */
export async function resumeScheduledTask(db: Database, id: string, scope: TaskScope = {}, now: Date = new Date()): Promise<ScheduledTask> {
  const task = await getScheduledTask(db, id, scope);
  let next: Date;
  if (task.cronExpression !== null) next = nextRunAt(task.cronExpression, task.timezone, now);
  else if (task.nextRunAt !== null) next = task.nextRunAt;
  else throw conflict('the one-shot task has run already; create a new one');
  const row = await db
    .updateTable('scheduled_tasks')
    .set({ enabled: true, next_run_at: next, updated_at: sql<Date>`now()` })
    .where('id', '=', task.id)
    .returning(columns)
    .executeTakeFirst();
  if (!row) throw notFound('the scheduled task');
  return presentTask(row);
}

/**
 * A change to a task as callers give it; what is left out stays. Kind, chat and agent
 * do not change. A task given a cron expression becomes recurring, one given `runAt`
 * one-shot; the payload is checked against the task's kind.
 */
export const scheduledTaskPatchSchema = z
  .object({
    enabled: z.boolean().optional(),
    cronExpression: scheduleFields.cronExpression,
    timezone: scheduleFields.timezone,
    runAt: scheduleFields.runAt,
    payload: z.unknown().optional(),
  })
  .superRefine((patch, ctx) => {
    if (patch.cronExpression !== undefined && patch.runAt !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['cronExpression'], message: 'give either cronExpression or runAt, not both' });
    }
  });
export type ScheduledTaskPatch = z.input<typeof scheduledTaskPatchSchema>;

const payloadSchemas = { reminder: reminderPayload, agent_check: agentCheckPayload, digest: digestPayload } as const;

/**
 * Changes a task. Its next run is worked out again when the schedule changes (a
 * recurring task: its first slot after `now`; a one-shot task: the new `runAt`) and
 * when a paused task is enabled, as resumeScheduledTask does; disabling keeps the
 * schedule. An expression, time zone or `runAt` that is refused changes nothing.
 */
export async function updateScheduledTask(
  db: Database,
  id: string,
  patch: ScheduledTaskPatch,
  scope: TaskScope = {},
  now: Date = new Date(),
): Promise<ScheduledTask> {
  const parsed = scheduledTaskPatchSchema.safeParse(patch);
  if (!parsed.success) throw invalid(fieldErrorsOf(parsed.error), 'The change to the scheduled task is not valid.');
  const change = parsed.data;
  if (!uuid.safeParse(id).success) throw notFound('the scheduled task');

  return db.transaction().execute(async (trx) => {
    // Held until the change commits: the clock skips a held task (SKIP LOCKED) and fires it by the new schedule.
    let query = trx.selectFrom('scheduled_tasks').select(columns).where('id', '=', id).forUpdate();
    if (scope.chatId !== undefined) query = query.where('chat_id', '=', scope.chatId);
    const row = await query.executeTakeFirst();
    if (!row) throw notFound('the scheduled task');
    const task = presentTask(row);

    let payload: ScheduledTask['payload'] | undefined;
    if (change.payload !== undefined) {
      const checked = payloadSchemas[task.kind].safeParse(change.payload);
      if (!checked.success) throw invalid(fieldErrorsOf(checked.error, ['payload']), `The payload is not valid for a ${task.kind} task.`);
      payload = checked.data;
      const storeIds = task.kind === 'digest' ? (payload as DigestPayload).storeIds : undefined;
      if (storeIds) await assertStoresExist(trx, storeIds);
    }

    let cron = task.cronExpression;
    let runAt = task.runAt;
    const zone = change.timezone === undefined ? task.timezone : assertTimeZone(change.timezone);
    if (change.cronExpression !== undefined) [cron, runAt] = [change.cronExpression, null];
    if (change.runAt !== undefined) [cron, runAt] = [null, assertRunAtAhead(change.runAt, now)];
    const rescheduled = change.cronExpression !== undefined || change.runAt !== undefined || (change.timezone !== undefined && cron !== null);
    const enabled = change.enabled ?? task.enabled;

    let next = task.nextRunAt;
    if (rescheduled || (enabled && !task.enabled)) {
      if (cron !== null) next = nextRunAt(cron, zone, now);
      else if (runAt !== null && change.runAt !== undefined) next = runAt;
      else if (next === null) throw conflict('the one-shot task has run already; give it a new runAt or create a new task');
    }

    const updated = await trx
      .updateTable('scheduled_tasks')
      .set({
        enabled,
        cron_expression: cron,
        run_at: runAt,
        timezone: zone,
        next_run_at: next,
        ...(payload !== undefined && { payload: JSON.stringify(payload) }),
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', task.id)
      .returning(columns)
      .executeTakeFirstOrThrow();
    return presentTask(updated);
  });
}

/** Deletes a task; a run already handed to the queue finds it gone and does nothing. Returns the task as it was. */
export async function deleteScheduledTask(db: Database, id: string, scope: TaskScope = {}): Promise<ScheduledTask> {
  if (!uuid.safeParse(id).success) throw notFound('the scheduled task');
  let query = db.deleteFrom('scheduled_tasks').where('id', '=', id);
  if (scope.chatId !== undefined) query = query.where('chat_id', '=', scope.chatId);
  const row = await query.returning(columns).executeTakeFirst();
  if (!row) throw notFound('the scheduled task');
  return presentTask(row);
}

// ---------------------------------------------------------------- the clock

/** One run the clock hands to the queue. */
export interface DueRun {
  taskId: string;
  kind: ScheduledTaskKind;
  /** The slot this run is for (the task's next_run_at when it was claimed). */
  dueAt: Date;
  /** Where next_run_at moved to; null for a one-shot task. */
  nextRunAt: Date | null;
  /** Slots of a recurring task that passed after `dueAt` while nothing claimed it (downtime): they are not run, this one run covers them. */
  missedSlots: number;
  /** How long after `dueAt` the run was claimed: a tick's worth normally, much more after downtime (the clock logs that as a catch-up). */
  lateMs: number;
}

/** A task whose schedule no longer reads (changed by hand in the database): it is paused, not retried every tick. */
export interface BrokenSchedule {
  taskId: string;
  error: string;
}

export interface FireOptions {
  /** Tasks claimed per transaction at most. */
  limit: number;
  /**
   * Hands the runs to the queue. It is called inside the transaction: if it throws,
   * nothing is claimed and next_run_at stays, so the next tick tries again (with the
   * same due times, so a run it had already queued is not queued twice).
   */
  dispatch(runs: DueRun[]): Promise<void>;
  /** The time to fire at; the database's clock when left out (tests move it). */
  at?: Date;
}

/**
 * Claims the due tasks (enabled, next_run_at passed) that no other transaction holds
 * (`FOR UPDATE SKIP LOCKED`), moves each one's next_run_at on — a recurring task to
 * its first slot after now, so after downtime it runs once and not once per missed
 * slot; a one-shot task to NULL — and dispatches the runs, all in one transaction.
 */
export async function fireDueTasks(db: Database, options: FireOptions): Promise<{ runs: DueRun[]; broken: BrokenSchedule[] }> {
  return db.transaction().execute(async (trx) => {
    const at = options.at ?? null;
    const { rows } = await sql<{ id: string; kind: string; cron_expression: string | null; timezone: string; next_run_at: Date; now: Date }>`
      SELECT id, kind, cron_expression, timezone, next_run_at, coalesce(${at}::timestamptz, now()) AS now
      FROM scheduled_tasks
      WHERE enabled AND next_run_at <= coalesce(${at}::timestamptz, now())
      ORDER BY next_run_at
      LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED`.execute(trx);

    const runs: DueRun[] = [];
    const broken: BrokenSchedule[] = [];
    for (const row of rows) {
      const lateMs = Math.max(0, row.now.getTime() - row.next_run_at.getTime());
      const base = { taskId: row.id, kind: row.kind as ScheduledTaskKind, dueAt: row.next_run_at, lateMs };
      if (row.cron_expression === null) {
        runs.push({ ...base, nextRunAt: null, missedSlots: 0 });
        continue;
      }
      try {
        runs.push({ ...base, ...advanceSchedule(row.cron_expression, row.timezone, row.next_run_at, row.now) });
      } catch (err) {
        broken.push({ taskId: row.id, error: err instanceof Error ? err.message : String(err) });
      }
    }

    if (runs.length > 0) {
      const values = runs.map((r) => sql`(${r.taskId}::uuid, ${r.nextRunAt}::timestamptz)`);
      await sql`
        UPDATE scheduled_tasks AS t SET next_run_at = v.next_run_at, updated_at = now()
        FROM (VALUES ${sql.join(values)}) AS v (id, next_run_at)
        WHERE t.id = v.id`.execute(trx);
    }
    for (const b of broken) {
      await trx
        .updateTable('scheduled_tasks')
        .set((eb) => ({
          enabled: false,
          last_status: 'failed',
          last_error: `paused: the schedule cannot be read (${b.error})`.slice(0, 1000),
          consecutive_failures: eb('consecutive_failures', '+', 1),
          updated_at: sql<Date>`now()`,
        }))
        .where('id', '=', b.taskId)
        .execute();
    }
    if (runs.length > 0) await options.dispatch(runs);
    return { runs, broken };
  });
}

// ---------------------------------------------------------------- runs

/**
 * The id of what one run of a task produces (its notification): the same task and
 * slot always give the same id, so a retried run finds its notification instead of
 * writing a second one. A name-based UUID (version 5) of the task id and the slot.
 */
const RUN_NAMESPACE = Buffer.from('5c6a0f3e9d2b4e7a8f1c2d3b4a5e6f70', 'hex');
export function taskRunId(taskId: string, dueAt: Date): string {
  const hash = createHash('sha1').update(RUN_NAMESPACE).update(`${taskId}|${dueAt.toISOString()}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const taskNotificationKinds = ['reminder', 'digest', 'agent_check'] as const;

/**
 * Stores the notification a run of `task` for the slot `dueAt` sends (Telegram HTML),
 * pending until telegram-outbound delivers it, with its priority (the table's default,
 * normal, when none is given). Once per task and slot: a repeated call stores nothing
 * and returns the same id.
 */
export async function createTaskNotification(
  db: Database,
  input: {
    task: Pick<ScheduledTask, 'id' | 'chatId'>;
    dueAt: Date;
    kind: (typeof taskNotificationKinds)[number];
    html: string;
    storeId?: string | null;
    priority?: AlertPriority;
  },
): Promise<string> {
  const id = taskRunId(input.task.id, input.dueAt);
  await db
    .insertInto('notifications')
    .values({
      id,
      kind: input.kind,
      chat_id: input.task.chatId,
      text: input.html,
      task_id: input.task.id,
      store_id: input.storeId ?? null,
      ...(input.priority && { priority: input.priority }),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  return id;
}

export type TaskRunOutcome = { status: 'ok' } | { status: 'failed'; error: string } | { status: 'skipped' };

/**
 * Records how a run ended: ok clears the failure count, failed adds one (with the
 * error), skipped (the task was paused after its run was queued) leaves it as it was.
 */
export async function recordTaskRun(db: Database, taskId: string, outcome: TaskRunOutcome): Promise<void> {
  await db
    .updateTable('scheduled_tasks')
    .set((eb) => ({
      last_status: outcome.status,
      updated_at: sql<Date>`now()`,
      ...(outcome.status === 'ok' && { last_run_at: sql<Date>`now()`, last_error: null, consecutive_failures: 0 }),
      ...(outcome.status === 'failed' && {
        last_run_at: sql<Date>`now()`,
        last_error: outcome.error.slice(0, 1000),
        consecutive_failures: eb('consecutive_failures', '+', 1),
      }),
    }))
    .where('id', '=', taskId)
    .execute();
}

// ---------------------------------------------------------------- what runs say

/** A reminder as its notification (Telegram HTML; the text is escaped). */
export function reminderMessage(payload: ReminderPayload): string {
  return fmt.lines(fmt.bold('⏰ Reminder'), payload.text).html;
}

/** One store's part of a digest: its P&L for `day`, or why there is none. */
export interface StoreDigest {
  store: { id: string; name: string; timezone: string };
  /** Yesterday in the store's time zone, as YYYY-MM-DD. */
  day: string;
  report: PnlReport | null;
  /** Why the report could not be made (a 422 of the P&L, such as a missing exchange rate). */
  problem: string | null;
}

/**
 * Yesterday's P&L of each store of the digest (every store when it names none), in
 * the store's currency, "yesterday" read in the store's own time zone at `at`. A
 * store named by the task that no longer exists is left out.
 */
export async function dailyDigest(db: Database, payload: DigestPayload, at: Date): Promise<StoreDigest[]> {
  let query = db
    .selectFrom('stores')
    // The database's calendar does the time-zone and day arithmetic (DST included).
    .select(['id', 'name', 'timezone', sql<string>`to_char((${at}::timestamptz AT TIME ZONE timezone)::date - 1, 'YYYY-MM-DD')`.as('day')])
    .orderBy('name')
    .orderBy('id');
  if (payload.storeIds) query = query.where('id', 'in', payload.storeIds);
  const stores = await query.execute();
  const digests: StoreDigest[] = [];
  for (const s of stores) {
    const store = { id: s.id, name: s.name, timezone: s.timezone };
    try {
      const report = await profitAndLoss(db, { storeId: s.id, from: s.day, to: s.day, groupBy: 'day' });
      digests.push({ store, day: s.day, report, problem: null });
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 422) throw err;
      digests.push({ store, day: s.day, report: null, problem: err.message });
    }
  }
  return digests;
}

/** The digest as one notification: a P&L message per store (the one /pnl sends), separated by an empty line. */
export function digestMessage(digests: StoreDigest[]): string {
  const title = fmt.bold('📊 Daily digest');
  if (digests.length === 0) return fmt.lines(title, 'There are no stores to report on.').html;
  const parts = digests.map(({ store, day, report, problem }) =>
    report
      ? formatPnl('yesterday', { from: day, to: day }, report.currency, report.totals, store.name)
      : `<b>P&amp;L yesterday</b> (${day}, ${escapeHtml(store.name)}): cannot be made: ${escapeHtml(problem ?? 'unknown reason')}`,
  );
  return [title.html, ...parts].join('\n\n');
}
