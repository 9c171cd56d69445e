import type Anthropic from '@anthropic-ai/sdk';
import { agents, buildSystemBlocks, newTurnEffects, todayIn, toModelMessages, toTelegramHtml, turnSystemContext } from '@dealdome/ai';
import type { AgentToolContext, TurnResult } from '@dealdome/ai';
import type { Logger } from '@dealdome/config';
import {
  AppError,
  Decimal,
  agentCheckPayload,
  aiBudgetFor,
  createTaskNotification,
  escapeHtml,
  findOutboundNotification,
  findScheduledTask,
  loadTurnContext,
  openCheckRecord,
  recordTaskRun,
  recordTurn,
  taskRunId,
  TurnAlreadyAnsweredError,
  turnEnvironment,
} from '@dealdome/domain';
import type { ScheduledTask, TurnContext, TurnEnvironment } from '@dealdome/domain';
import { jobIds } from '@dealdome/queues';
import type { JobPayload } from '@dealdome/queues';
import { UnrecoverableError } from 'bullmq';
import type { Job } from 'bullmq';
import { Counter } from 'prom-client';
import { turnMetrics } from './metrics';
import type { TurnMetrics } from './metrics';
import { countModelTurn, modelRecord, runAgentLoop } from './turns';
import type { ModelTurn, TurnWorkerDeps } from './turns';

type RunCheckPayload = JobPayload<'agent-turns', 'run-check'>;
type AgentCheck = Extract<ScheduledTask, { kind: 'agent_check' }>;

/** What a run-check job did, kept as the job's return value. */
export type CheckJobResult =
  | { outcome: 'alerted'; notificationId: string }
  /** The agent found nothing worth sending. */
  | { outcome: 'quiet' }
  | { outcome: 'failed'; reason: string }
  /** Deleted or paused since the run was queued, or this slot has run already (a repeated job). */
  | { outcome: 'skipped'; reason: 'deleted' | 'paused' | 'ran_already' };

const offline = 'no ANTHROPIC_API_KEY is configured: the agents are offline, so the check did not run and nothing was sent';

/**
 * Runs the scheduled agent checks (`run-check {taskId, dueAt}`, queued by the
 * scheduler). The task's agent gets the stored prompt as a turn of its own — its
 * check prompt and check tools: reading tools and `send_alert`, nothing that writes —
 * and the chat hears from it only if it calls `send_alert`. Then:
 *
 * - the alert is stored as the run's notification (kind agent_check, its id made of
 *   task and slot) and a `deliver-notification` job with the notification's id is
 *   queued for telegram-outbound, so a repeated run sends nothing twice;
 * - the run's messages, tokens and cost are stored like any turn's (see
 *   openCheckRecord): /usage counts them, charged to the person who set the check up,
 *   whose monthly budget a check respects;
 * - the outcome is recorded on the task: ok, or failed with the reason (no API key,
 *   Anthropic unavailable, budget spent, the deadline…), and a failed run sends nothing.
 */
export class CheckRunner {
  private readonly metrics: TurnMetrics;
  private readonly checks: Counter<'agent' | 'outcome'>;

  constructor(private readonly deps: TurnWorkerDeps) {
    this.metrics = turnMetrics(deps.registry);
    const name = 'agent_checks_total';
    this.checks =
      (deps.registry?.getSingleMetric(name) as Counter<'agent' | 'outcome'> | undefined) ??
      new Counter({ name, help: 'Scheduled agent checks run, by agent and outcome', labelNames: ['agent', 'outcome'], registers: deps.registry ? [deps.registry] : [] });
  }

  async handle(payload: RunCheckPayload, job: Job, signal?: AbortSignal): Promise<CheckJobResult> {
    const { db } = this.deps;
    const log = this.deps.logger.child({ jobId: job.id, taskId: payload.taskId, dueAt: payload.dueAt });
    const task = await findScheduledTask(db, payload.taskId);
    if (!task) {
      log.info('the check was deleted after its run was queued; skipped');
      return { outcome: 'skipped', reason: 'deleted' };
    }
    if (task.kind !== 'agent_check') throw new UnrecoverableError(`task ${task.id} is a ${task.kind}, not an agent check`);
    if (!agentCheckPayload.safeParse(task.payload).success) throw new UnrecoverableError(`the stored payload of agent check ${task.id} is not valid`);
    if (!task.enabled) {
      await recordTaskRun(db, task.id, { status: 'skipped' });
      log.info('the check was paused after its run was queued; skipped');
      return { outcome: 'skipped', reason: 'paused' };
    }

    let result: CheckJobResult;
    try {
      result = await this.run(task, new Date(payload.dueAt), signal, log);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const lastAttempt = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (lastAttempt && !signal?.aborted) await recordTaskRun(db, task.id, { status: 'failed', error: message });
      log.warn({ err: { message }, attempt: job.attemptsMade + 1, lastAttempt }, 'check failed');
      throw err;
    }
    if (result.outcome === 'failed') await recordTaskRun(db, task.id, { status: 'failed', error: result.reason });
    else if (result.outcome !== 'skipped') await recordTaskRun(db, task.id, { status: 'ok' });
    this.checks.inc({ agent: task.agent, outcome: result.outcome });
    log.info({ agent: task.agent, ...result }, 'check ran');
    return result;
  }

  private async run(task: AgentCheck, dueAt: Date, signal: AbortSignal | undefined, log: Logger): Promise<CheckJobResult> {
    const { db, settings } = this.deps;
    const runId = taskRunId(task.id, dueAt);
    // A run that got as far as its alert: at most the delivery is missing, and queueing it again adds nothing.
    if (await findOutboundNotification(db, runId)) return this.deliver(task, runId);
    if (!settings.client) return { outcome: 'failed', reason: offline };

    const environment = await turnEnvironment(db);
    const budgetSpent = await this.budgetSpent(task, environment);
    if (budgetSpent) return { outcome: 'failed', reason: budgetSpent };

    await openCheckRecord(db, { runId, chatId: task.chatId, agent: task.agent, userId: task.createdBy, prompt: task.payload.prompt });
    const context = await loadTurnContext(db, runId);
    if (context.unanswered.length === 0) return { outcome: 'skipped', reason: 'ran_already' };

    const turn = await this.ask(task, dueAt, context, environment, settings.client, signal, log);
    const last = turn.results.at(-1)!;
    if (last.outcome === 'aborted') throw new Error('the check was stopped at shutdown');

    // Stored before the run's record: a run that stopped in between finds it and only delivers it.
    const alert = turn.effects.alert;
    const notificationId =
      alert && (await createTaskNotification(db, { task, dueAt, kind: 'agent_check', html: alertMessage(task, alert.text), priority: alert.priority }));
    const record = modelRecord(context, turn, settings.deadlineMs);
    try {
      await recordTurn(db, record);
      countModelTurn(this.metrics, turn);
    } catch (err) {
      if (!(err instanceof TurnAlreadyAnsweredError)) throw err;
      log.warn('another run of this check stored its record first; this one is not kept');
    }
    log.info({ agent: task.agent, promptVersion: agents[task.agent].promptVersion, outcome: last.outcome, usage: record.usage }, 'check answered');

    // An alert the agent decided on goes out even if the turn went wrong after it: the finding stands.
    if (notificationId) return this.deliver(task, notificationId);
    const failure = checkFailure(last, settings.deadlineMs);
    return failure ? { outcome: 'failed', reason: failure } : { outcome: 'quiet' };
  }

  /** Why the check may not spend: the monthly AI budget of the person who set it up is spent, or the setting is not an amount. */
  private async budgetSpent(task: AgentCheck, environment: TurnEnvironment): Promise<string | undefined> {
    if (task.createdBy === null || environment.budgetSetting === undefined) return undefined;
    try {
      const budget = await aiBudgetFor(this.deps.db, task.createdBy, environment.timeZone, environment.budgetSetting);
      if (!budget.exhausted) return undefined;
      const usd = (amount: string) => new Decimal(amount).toFixed(2);
      return `the monthly AI budget of the person who set the check up is spent ($${usd(budget.spentUsd)} of $${usd(budget.limitUsd ?? '0')}), so the check did not run`;
    } catch (err) {
      if (err instanceof AppError) return err.message;
      throw err;
    }
  }

  private async ask(
    task: AgentCheck,
    dueAt: Date,
    context: TurnContext,
    { timeZone, stores }: TurnEnvironment,
    client: Anthropic,
    signal: AbortSignal | undefined,
    log: Logger,
  ): Promise<ModelTurn> {
    const { db, settings } = this.deps;
    const agent = agents[task.agent];
    const started = Date.now();
    const now = new Date(started);
    const effects = newTurnEffects();
    const toolContext: AgentToolContext = {
      db,
      agent: task.agent,
      chatId: task.chatId,
      conversationId: context.conversation.id,
      person: context.asker,
      timeZone,
      today: todayIn(timeZone, now),
      sourceMessageId: context.unanswered.at(-1)!.id,
      effects,
      canHandOff: false,
      endForHandoff: () => undefined,
    };
    const schedule = task.cronExpression === null ? 'once' : `cron "${task.cronExpression}" in ${task.timezone}`;
    const result = await runAgentLoop(settings, client, agent, log, this.metrics, {
      system: buildSystemBlocks(agent.checkPrompt, turnSystemContext({ now, timeZone, person: context.asker, stores, check: { schedule, dueAt } })),
      tools: agent.checkTools,
      toolContext,
      messages: toModelMessages([], context.unanswered, settings.historyTokenBudget),
      deadlineMs: settings.deadlineMs,
      ...(signal ? { signal } : {}),
    });
    return { kind: 'model', agent: task.agent, results: [result], effects, withdrawn: [], latencyMs: Date.now() - started };
  }

  /** The notification's delivery: its job id is the notification's, so queueing it again adds nothing. */
  private async deliver(task: AgentCheck, notificationId: string): Promise<CheckJobResult> {
    await this.deps.producer.enqueue(
      'telegram-outbound',
      'deliver-notification',
      { chatId: task.chatId, notificationId },
      { jobId: jobIds.deliverNotification(notificationId) },
    );
    return { outcome: 'alerted', notificationId };
  }
}

/** The alert as the chat reads it: who checked, then what the agent wrote (made valid Telegram HTML). */
function alertMessage(task: AgentCheck, text: string): string {
  return `<b>🔔 ${escapeHtml(agents[task.agent].title)}'s check</b>\n${toTelegramHtml(text)}`;
}

/** Why a run that sent nothing failed, for the task's last_error; undefined when the agent finished its check. */
function checkFailure(result: TurnResult, deadlineMs: number): string | undefined {
  switch (result.outcome) {
    case 'completed':
    case 'aborted':
      return undefined;
    case 'unavailable':
      return "Anthropic's service was overloaded or unreachable and retrying did not help; nothing was sent";
    case 'spend_limit':
      return "the team's Anthropic account has reached its spend limit; nothing was sent";
    case 'failed':
      return `Anthropic refused the request (${[result.error?.status, result.error?.type].filter((p) => p !== undefined).join(' ') || 'no reason given'}); nothing was sent`;
    case 'deadline':
      return `the check took longer than the ${Math.round(deadlineMs / 1000)} s a turn may take; nothing was sent`;
    case 'refused':
      return 'the model refused to run the check; nothing was sent';
    case 'truncated':
      return 'the answer was cut off at its token limit before the check finished; nothing was sent';
    case 'tool_limit':
      return 'the check needed more tool rounds than a turn may take; nothing was sent';
  }
}
