import type Anthropic from '@anthropic-ai/sdk';
import {
  agents,
  buildSystemBlocks,
  newTurnEffects,
  runTurn,
  sumCosts,
  todayIn,
  toModelMessages,
  toTelegramHtml,
  turnSystemContext,
} from '@dealdome/ai';
import type { AgentDefinition, AgentToolContext, CallRecord, EmbeddingProvider, RetryPolicy, RunTurnOptions, TurnEvent, TurnResult } from '@dealdome/ai';
import type { Logger } from '@dealdome/config';
import { isDatabaseUnavailable } from '@dealdome/db';
import type { Database } from '@dealdome/db';
import {
  AppError,
  aiBudgetFor,
  loadTurnContext,
  personalMemoriesShownIn,
  QUERY_EMBED_TIMEOUT_MS,
  recallRelevantMemories,
  pendingActionKeyboard,
  recordTurn,
  TurnAlreadyAnsweredError,
  turnEnvironment,
  turnJobState,
} from '@dealdome/domain';
import type { AgentName, AiBudget, TurnContext, TurnEnvironment, TurnRecord, TurnUsage } from '@dealdome/domain';
import { createWorker, jobIds } from '@dealdome/queues';
import type { JobPayload, ManagedWorker, Producer } from '@dealdome/queues';
import { DelayedError } from 'bullmq';
import type { Job } from 'bullmq';
import type { RedisConnection } from '@dealdome/queues';
import type { Registry } from 'prom-client';
import { ChatLocks } from './chat-lock';
import type { ChatLock } from './chat-lock';
import { CheckRunner } from './checks';
import { turnMetrics } from './metrics';
import type { TurnMetrics } from './metrics';
import { budgetReply, cannotStartReply, internalFailureReply, offlineReply, outcomeReply } from './replies';

export interface TurnSettings {
  /** null: no API key, the agents are offline and every turn says so. */
  client: Anthropic | null;
  /** One model for every agent instead of each agent's own. */
  model?: string;
  deadlineMs: number;
  maxToolRounds: number;
  historyTokenBudget: number;
  concurrency: number;
  /** How long a chat's turn lock lives without being extended (default 30 s). */
  lockTtlMs?: number;
  /** How long a job waits before trying a chat whose turn is running again (default 1.5 s, ±25 %). */
  lockRetryMs?: number;
  /** How often "typing…" is shown while a turn runs (default 4 s; Telegram shows it for 5). */
  typingIntervalMs?: number;
  /** A turn answered sooner than this shows no "typing…" at all: the reply is there first (default 500 ms). */
  typingDelayMs?: number;
  /** Overrides runTurn's retry policy (tests make it quick). */
  retry?: Partial<RetryPolicy>;
  /** Embeds a turn's messages to find relevant memories; without one no memories are offered. */
  embeddings?: EmbeddingProvider;
  /** Memories offered per turn (default 5). */
  memoriesPerTurn?: number;
  /** How long embedding the turn's messages for memory recall may take before the turn goes on without memories (default QUERY_EMBED_TIMEOUT_MS). */
  recallEmbedTimeoutMs?: number;
}

export interface TurnWorkerDeps {
  db: Database;
  redis: RedisConnection;
  /** QUEUE_PREFIX. */
  prefix: string;
  producer: Producer;
  logger: Logger;
  settings: TurnSettings;
  /** Where the turn metrics go (the service's /metrics). */
  registry?: Registry;
}

type RunTurnPayload = JobPayload<'agent-turns', 'run-turn'>;

/** What a run-turn job did, kept as the job's return value. */
export type TurnJobResult =
  | { answered: string; outcome: TurnResult['outcome'] | 'offline' | 'budget' | 'cannot_start' | 'internal_failure'; agent: AgentName }
  | { redelivered: string[] };

/**
 * The consumer of `agent-turns`. See the README's agent-runtime section for the
 * design; in short, per job:
 *
 * 1. Messages already answered → queue the delivery of the stored reply again
 *    (its job id is the reply's id, so it is a no-op while that job exists) and stop.
 * 2. Take the chat's turn lock; held by another turn → the job is delayed, not failed.
 * 3. Read every unanswered user message of the conversation (the ones that arrived
 *    while the last turn ran included) and answer them in one turn.
 * 4. Store the turn in one transaction that also marks exactly those messages
 *    answered, and only if none was answered meanwhile; then queue the delivery.
 *
 * A runtime killed mid-turn has stored nothing: BullMQ hands the job to the next
 * runtime, which answers. Killed after storing, the job finds its messages answered
 * and queues the delivery again. Either way the chat gets one reply.
 */
export class TurnRunner {
  private readonly locks: ChatLocks;
  private readonly lockRetryMs: number;
  private readonly typingIntervalMs: number;
  private readonly typingDelayMs: number;
  private readonly metrics: TurnMetrics;

  constructor(private readonly deps: TurnWorkerDeps) {
    this.metrics = turnMetrics(deps.registry);
    this.locks = new ChatLocks(deps.redis, deps.prefix, deps.settings.lockTtlMs);
    this.lockRetryMs = deps.settings.lockRetryMs ?? 1500;
    this.typingIntervalMs = deps.settings.typingIntervalMs ?? 4000;
    this.typingDelayMs = deps.settings.typingDelayMs ?? 500;
  }

  async handle(payload: RunTurnPayload, job: Job, signal?: AbortSignal): Promise<TurnJobResult> {
    const log = this.deps.logger.child({ jobId: job.id, chatId: payload.chatId, conversationId: payload.conversationId });
    // A job started before (put off while the chat was busy, or retried) has often been
    // answered meanwhile: then it needs no lock. A fresh one learns it from its context.
    if (job.attemptsStarted > 1) {
      const before = await this.jobState(payload);
      if (before.state === 'answered') return this.redeliver(payload.chatId, before.replyIds, log);
    }

    const lock = await this.locks.acquire(payload.chatId);
    if (!lock) {
      const delay = Math.round(this.lockRetryMs * (0.75 + Math.random() * 0.5));
      log.debug({ delayMs: delay }, 'another turn of this chat is running; the job waits for it');
      this.metrics.lockWaits.inc();
      await job.moveToDelayed(Date.now() + delay, job.token);
      throw new DelayedError();
    }
    try {
      return await this.answer(payload, lock, signal, log);
    } catch (err) {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // A database outage is waited out (createWorker puts the job off), not apologised for.
      if (!lastAttempt || signal?.aborted || lock.lost.aborted || isDatabaseUnavailable(err)) throw err;
      // Silence is the one answer a person must never get.
      log.error({ err: describe(err) }, 'the turn failed on its last attempt; answering with an apology');
      return await this.answerPlainly(payload.conversationId, 'internal_failure', internalFailureReply(), log);
    } finally {
      await lock.release().catch((err: unknown) => log.warn({ err: describe(err) }, 'could not release the turn lock; it lapses by itself'));
    }
  }

  private async jobState(payload: RunTurnPayload) {
    const state = await turnJobState(this.deps.db, payload.conversationId, payload.messageIds);
    // Jobs are queued after the intake commits, so this is a lagging replica or a deleted message: retried with backoff.
    if (state.state === 'missing') throw new Error(`the job's messages are not stored: ${state.missing.join(', ')}`);
    return state;
  }

  private async answer(payload: RunTurnPayload, lock: ChatLock, signal: AbortSignal | undefined, log: Logger): Promise<TurnJobResult> {
    const { db, settings } = this.deps;
    // Read side by side: the environment does not depend on the context but the budget does.
    const [context, environment] = await Promise.all([loadTurnContext(db, payload.conversationId), turnEnvironment(db)]);
    const waiting = new Set(context.unanswered.map((m) => m.id));
    if (!payload.messageIds.some((id) => waiting.has(id))) {
      // The turn that held the lock (or /cancel) answered this job's messages meanwhile.
      const now = await this.jobState(payload);
      if (now.state === 'answered') return this.redeliver(payload.chatId, now.replyIds, log);
    }
    // /cancel may have dropped them since the check: nothing is left to answer.
    if (context.unanswered.length === 0) return this.redeliver(context.conversation.chatId, [], log);
    if (!settings.client) return this.store(context, { kind: 'offline', text: offlineReply() }, log);

    if (context.asker && environment.budgetSetting !== undefined) {
      let budget: AiBudget;
      try {
        budget = await aiBudgetFor(db, context.asker.id, environment.timeZone, environment.budgetSetting);
      } catch (err) {
        // A budget setting an admin got wrong: said in the reply, not silently read as "no limit".
        if (!(err instanceof AppError)) throw err;
        return this.store(context, { kind: 'cannot_start', text: cannotStartReply(err.message) }, log);
      }
      if (budget.exhausted) return this.store(context, { kind: 'budget', text: budgetReply(budget) }, log);
    }

    const memories = await this.relevantMemories(context, log);
    const typing = this.showTyping(context.conversation.chatId, log);
    try {
      const turn = await this.runAgents(context, settings.client, environment, memories, lock, signal, log);
      return await this.store(context, turn, log);
    } finally {
      typing.stop();
    }
  }

  /** The conversation's agent answers; if it hands over, the colleague answers the same messages, once. */
  private async runAgents(
    context: TurnContext,
    client: Anthropic,
    { timeZone, stores }: TurnEnvironment,
    memories: Awaited<ReturnType<typeof recallRelevantMemories>>,
    lock: ChatLock,
    signal: AbortSignal | undefined,
    log: Logger,
  ): Promise<ModelTurn> {
    const { db, settings } = this.deps;
    const started = Date.now();
    const now = new Date(started);
    const today = todayIn(timeZone, now);
    const messages = toModelMessages(context.history, context.unanswered, settings.historyTokenBudget);
    const effects = newTurnEffects();
    const withdrawn: string[] = [];
    const results: TurnResult[] = [];
    let agentName = context.conversation.agent;
    let handedOverBy: { agent: AgentName; reason: string } | undefined;

    for (;;) {
      const agent = agents[agentName];
      const handoff = new AbortController();
      const toolContext: AgentToolContext = {
        db,
        agent: agentName,
        chatId: context.conversation.chatId,
        conversationId: context.conversation.id,
        person: context.asker,
        timeZone,
        today,
        sourceMessageId: context.unanswered.at(-1)?.id ?? null,
        effects,
        canHandOff: handedOverBy === undefined,
        endForHandoff: () => handoff.abort(),
        ...(settings.embeddings ? { embeddings: settings.embeddings } : {}),
      };
      const result = await runAgentLoop(settings, client, agent, log, this.metrics, {
        system: buildSystemBlocks(
          agent.prompt,
          turnSystemContext({ now, timeZone, person: context.asker, stores, memories, ...(handedOverBy ? { handedOverBy } : {}) }),
        ),
        tools: agent.tools,
        toolContext,
        messages,
        deadlineMs: Math.max(1, settings.deadlineMs - (Date.now() - started)),
        signal: AbortSignal.any([handoff.signal, lock.lost, ...(signal ? [signal] : [])]),
      });
      results.push(result);
      const handedOver = result.outcome === 'aborted' && handoff.signal.aborted && !lock.lost.aborted && !signal?.aborted;
      if (handedOver && effects.handoff) {
        log.info({ from: agentName, to: effects.handoff.to, reason: effects.handoff.reason }, 'handed over');
        // What the first agent proposed was never explained to the person: it is not offered.
        withdrawn.push(...effects.proposals.splice(0).map((p) => p.id));
        handedOverBy = { agent: agentName, reason: effects.handoff.reason };
        agentName = effects.handoff.to;
        continue;
      }
      if (result.outcome === 'aborted') {
        // Shutdown (the job is handed back) or a lost lock (another runtime holds the chat): store nothing.
        throw new Error(lock.lost.aborted ? 'the chat lock was lost during the turn' : 'the turn was stopped at shutdown');
      }
      return { kind: 'model', agent: agentName, results, effects, withdrawn, latencyMs: Date.now() - started };
    }
  }

  /** Stores the turn's reply (one transaction), then queues its delivery and the embeddings of new memories. */
  private async store(context: TurnContext, turn: ModelTurn | PlainTurn, log: Logger): Promise<TurnJobResult> {
    const { db, settings } = this.deps;
    const record = turn.kind === 'model' ? modelRecord(context, turn, settings.deadlineMs) : plainRecord(context, turn.text);
    let replyId: string;
    try {
      ({ replyId } = await recordTurn(db, record));
    } catch (err) {
      if (!(err instanceof TurnAlreadyAnsweredError)) throw err;
      // Another turn (or /cancel) got there first: this reply is dropped, theirs stands.
      log.warn('the messages were answered while this turn ran; its reply is discarded');
      const state = await turnJobState(db, context.conversation.id, record.answers);
      // Only some were: the job runs again and answers the rest.
      if (state.state !== 'answered') throw err;
      return this.redeliver(context.conversation.chatId, state.replyIds, log);
    }
    await this.deliver(context.conversation.chatId, replyId);
    if (turn.kind === 'model') {
      for (const memoryId of turn.effects.memories) {
        await this.deps.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: [memoryId] }, { jobId: jobIds.embedMemory(memoryId) });
      }
      const last = turn.results.at(-1)!;
      countModelTurn(this.metrics, turn);
      log.info(
        {
          replyId,
          agent: turn.agent,
          outcome: last.outcome,
          answered: record.answers.length,
          usage: record.usage,
          tools: turn.results.flatMap((r) => r.toolCalls.map((c) => (c.isError ? `${c.name}!` : c.name))),
          ...(last.error ? { error: last.error } : {}),
        },
        'turn answered',
      );
      return { answered: replyId, outcome: last.outcome, agent: turn.agent };
    }
    this.metrics.turns.inc({ agent: record.agent, outcome: turn.kind });
    log.info({ replyId, reason: turn.kind, answered: record.answers.length }, 'turn answered without the model');
    return { answered: replyId, outcome: turn.kind, agent: record.agent };
  }

  private async answerPlainly(conversationId: string, kind: PlainTurn['kind'], text: string, log: Logger): Promise<TurnJobResult> {
    const context = await loadTurnContext(this.deps.db, conversationId);
    if (context.unanswered.length === 0) return { redelivered: [] };
    return this.store(context, { kind, text }, log);
  }

  private async redeliver(chatId: string, replyIds: string[], log: Logger): Promise<TurnJobResult> {
    for (const replyId of replyIds) await this.deliver(chatId, replyId);
    this.metrics.redelivered.inc();
    log.info({ replyIds }, 'already answered; delivery queued again');
    return { redelivered: replyIds };
  }

  /** The job id is the reply's id: queueing it again while the first job is kept adds nothing. */
  private async deliver(chatId: string, replyId: string): Promise<void> {
    await this.deps.producer.enqueue('telegram-outbound', 'deliver-message', { chatId, messageId: replyId }, { jobId: jobIds.deliverMessage(replyId) });
  }

  /**
   * The memories most relevant to the messages being answered, for the person asking
   * (the team's and their own). A failure to embed or search is logged and the turn
   * goes on without them: memories help an answer, they never block one.
   */
  private async relevantMemories(context: TurnContext, log: Logger): Promise<Awaited<ReturnType<typeof recallRelevantMemories>>> {
    const { embeddings, memoriesPerTurn = 5, recallEmbedTimeoutMs = QUERY_EMBED_TIMEOUT_MS } = this.deps.settings;
    const text = context.unanswered
      .flatMap((m) => m.content.flatMap((b) => (typeof b === 'object' && b !== null && 'text' in b && typeof b.text === 'string' ? [b.text] : [])))
      .join('\n')
      .trim();
    if (!embeddings || memoriesPerTurn === 0 || text === '') return [];
    try {
      const [vector] = await embeddings.embed([text], { signal: AbortSignal.timeout(recallEmbedTimeoutMs) });
      // In a group the reply is everyone's: the team's memories only, never the asker's own.
      const userId = personalMemoriesShownIn(context.conversation.chatId, context.asker?.id);
      return await recallRelevantMemories(this.deps.db, { userId, queryVector: vector!, model: embeddings.model, k: memoriesPerTurn });
    } catch (err) {
      log.warn({ err: describe(err) }, 'could not look up memories for the turn; answering without them');
      return [];
    }
  }

  private showTyping(chatId: string, log: Logger): { stop(): void } {
    const send = () =>
      this.deps.producer
        .enqueue('telegram-outbound', 'chat-action', { chatId, action: 'typing' })
        .catch((err: unknown) => log.warn({ err: describe(err) }, 'could not queue the typing action'));
    let timer: NodeJS.Timeout | undefined;
    const first = setTimeout(() => {
      void send();
      timer = setInterval(() => void send(), this.typingIntervalMs);
    }, this.typingDelayMs);
    return {
      stop: () => {
        clearTimeout(first);
        clearInterval(timer);
      },
    };
  }
}

/** A turn that called the model: the agent that ended it, each agent's loop, and what the tools did. */
export interface ModelTurn {
  kind: 'model';
  agent: AgentName;
  results: TurnResult[];
  effects: ReturnType<typeof newTurnEffects>;
  /** Proposals of a run that was handed over. */
  withdrawn: string[];
  latencyMs: number;
}

interface PlainTurn {
  kind: 'offline' | 'budget' | 'cannot_start' | 'internal_failure';
  text: string;
}

function plainRecord(context: TurnContext, text: string): TurnRecord {
  return {
    conversationId: context.conversation.id,
    answers: context.unanswered.map((m) => m.id),
    agent: context.conversation.agent,
    chargedTo: context.asker?.id ?? null,
    messages: [{ role: 'assistant', content: [{ type: 'text', text }] }],
    usage: null,
  };
}

/**
 * A completed (or truncated) turn keeps every message it added — tool calls and
 * results included — so later turns see what was looked up; the reply is its last
 * message, made valid Telegram HTML. Any other outcome stores only a plain reply.
 * Usage is the whole turn's, both agents' when it was handed over.
 */
export function modelRecord(context: TurnContext, turn: ModelTurn, deadlineMs: number): TurnRecord {
  const last = turn.results.at(-1)!;
  const kept = (last.outcome === 'completed' || last.outcome === 'truncated') && last.messages.length > 0;
  const text = outcomeReply(last, toTelegramHtml(last.text), deadlineMs);
  const reply = { role: 'assistant' as const, content: [{ type: 'text', text }] };
  const messages: TurnRecord['messages'] = kept
    ? [...last.messages.slice(0, -1).map((m) => ({ role: m.role === 'assistant' ? ('assistant' as const) : ('tool' as const), content: blocks(m) })), reply]
    : [reply];
  const offered = kept ? turn.effects.proposals : [];
  const withdrawn = [...turn.withdrawn, ...(kept ? [] : turn.effects.proposals.map((p) => p.id))];
  return {
    conversationId: context.conversation.id,
    answers: context.unanswered.map((m) => m.id),
    agent: turn.agent,
    chargedTo: context.asker?.id ?? null,
    messages,
    replyMarkup: offered.length ? pendingActionKeyboard(offered) : null,
    usage: usageOf(turn),
    withdrawnActionIds: withdrawn,
  };
}

function blocks(message: Anthropic.MessageParam): unknown[] {
  return typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
}

function usageOf(turn: ModelTurn): TurnUsage {
  const calls = turn.results.flatMap((r) => r.calls);
  const last = turn.results.at(-1)!;
  const sum = (pick: (c: (typeof calls)[number]) => number) => calls.reduce((total, c) => total + pick(c), 0);
  return {
    // The model that answered, as the API named it; the one asked for when no call succeeded.
    model: calls.at(-1)?.model ?? last.model,
    inputTokens: sum((c) => c.inputTokens),
    outputTokens: sum((c) => c.outputTokens),
    cacheReadTokens: sum((c) => c.cacheReadTokens),
    cacheWriteTokens: sum((c) => c.cacheWriteTokens),
    costUsd: sumCosts(turn.results.map((r) => r.costUsd)),
    latencyMs: turn.latencyMs,
  };
}

/** In the metrics: the turn by its outcome and its wall time (its model calls are counted as they happen, countModelCall). */
export function countModelTurn(metrics: TurnMetrics, turn: ModelTurn): void {
  metrics.turns.inc({ agent: turn.agent, outcome: turn.results.at(-1)!.outcome });
  metrics.duration.observe({ agent: turn.agent }, turn.latencyMs / 1000);
}

/**
 * In the metrics: one Messages API call by the agent that made it and the model that
 * answered — its latency, the tokens billed and their cost. Counted per call, so a
 * handed-over turn charges each agent its own calls, and a turn whose record was not
 * kept still shows what it cost. (A metric is a float; the exact amount is in the turn's record.)
 */
export function countModelCall(metrics: TurnMetrics, agent: AgentName, call: CallRecord): void {
  const labels = { agent, model: call.model };
  metrics.callDuration.observe(labels, call.latencyMs / 1000);
  for (const [kind, count] of [
    ['input', call.inputTokens],
    ['output', call.outputTokens],
    ['cache_read', call.cacheReadTokens],
    ['cache_write', call.cacheWriteTokens],
  ] as const) {
    metrics.tokens.inc({ ...labels, kind }, count);
  }
  if (call.costUsd !== null) metrics.costUsd.inc(labels, Number(call.costUsd));
}

/** One agent's tool-use loop with what every run of it shares: the model, the limits, the retry policy and the logging. */
export function runAgentLoop(
  settings: TurnSettings,
  client: Anthropic,
  agent: AgentDefinition,
  log: Logger,
  metrics: TurnMetrics,
  run: Pick<RunTurnOptions<AgentToolContext>, 'system' | 'tools' | 'toolContext' | 'messages' | 'deadlineMs' | 'signal'>,
): Promise<TurnResult> {
  return runTurn<AgentToolContext>({
    client,
    model: settings.model ?? agent.model,
    maxTokens: agent.maxTokens,
    maxToolRounds: settings.maxToolRounds,
    onEvent: (event) => {
      logEvent(log, agent.name, event);
      if (event.type === 'call') countModelCall(metrics, agent.name, event.call);
    },
    ...(settings.retry ? { retry: settings.retry } : {}),
    ...run,
  });
}

function logEvent(log: Logger, agent: AgentName, event: TurnEvent): void {
  if (event.type === 'retry') log.warn({ agent, attempt: event.attempt, delayMs: event.delayMs, error: event.error }, 'model call failed; retrying');
  else if (event.type === 'tool') log.debug({ agent, tool: event.name, isError: event.isError, durationMs: event.durationMs, ...(event.error ? { err: describe(event.error) } : {}) }, 'tool ran');
  else log.debug({ agent, round: event.round, model: event.call.model, requestId: event.call.requestId, latencyMs: event.call.latencyMs }, 'model answered');
}

const describe = (err: unknown) => ({ message: err instanceof Error ? err.message : String(err) });

export function createTurnWorker(deps: TurnWorkerDeps): ManagedWorker {
  const runner = new TurnRunner(deps);
  const checks = new CheckRunner(deps);
  return createWorker(
    'agent-turns',
    {
      'run-turn': (payload, job, signal) => runner.handle(payload, job, signal),
      'run-check': (payload, job, signal) => checks.handle(payload, job, signal),
    },
    { connection: deps.redis, prefix: deps.prefix, logger: deps.logger, concurrency: deps.settings.concurrency, registry: deps.registry },
  );
}
