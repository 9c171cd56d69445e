import type Anthropic from '@anthropic-ai/sdk';
import { APIConnectionError, APIError, AnthropicError } from '@anthropic-ai/sdk';
import { costUsd, sumCosts, usageFromApi } from './pricing';
import type { ModelPrice, TokenUsage } from './pricing';
import { DEFAULT_RETRY_POLICY, retryAfterMs, retryDelayMs, sleep } from './retry';
import type { RetryPolicy } from './retry';
import { systemBlocks } from './system';
import type { ToolRegistry } from './tools';

/**
 * How a turn ended.
 * - `completed`: end_turn or stop_sequence; `text` is the answer.
 * - `truncated`: max_tokens or model_context_window_exceeded; `text` is what was written.
 * - `refused`: stop_reason refusal; the refused content is not kept in `messages`.
 * - `tool_limit`: still asking for tools after the final call that forbade them.
 * - `deadline`: the turn's time budget ran out during a call or a tool.
 * - `unavailable`: 429/529/5xx/connection failures outlasted the attempts, or the
 *   next wait would not fit in the deadline (`retryAfterMs` says what the API asked).
 * - `spend_limit`: 429 with `enforced_spend_limit_reached`; never retried.
 * - `failed`: an error retrying cannot fix (400, 401, 403, 404, 413, …).
 * - `aborted`: the caller's signal.
 */
export type TurnOutcome =
  | 'completed'
  | 'truncated'
  | 'refused'
  | 'tool_limit'
  | 'deadline'
  | 'unavailable'
  | 'spend_limit'
  | 'failed'
  | 'aborted';

/** One successful Messages API call. */
export interface CallRecord extends TokenUsage {
  /** The model that answered (the response's `model`). */
  model: string;
  requestId: string | null;
  stopReason: Anthropic.StopReason | null;
  /** From the first attempt to the answer, retry waits included. */
  latencyMs: number;
  attempts: number;
  /** Exact decimal string; null when the model is not in the price table. */
  costUsd: string | null;
}

export interface ToolCallRecord {
  toolUseId: string;
  name: string;
  input: unknown;
  isError: boolean;
  durationMs: number;
  /** What the tool threw (for the logs; the model saw a safe summary). */
  error?: unknown;
}

/** The API error that ended the turn; safe to log (no key, no request body). */
export interface TurnError {
  status?: number;
  type?: string;
  /** `error.details.error_code`, e.g. enforced_spend_limit_reached. */
  code?: string;
  requestId?: string;
  message: string;
}

export interface TurnResult {
  outcome: TurnOutcome;
  /**
   * The final assistant message's text for completed, truncated, refused and
   * tool_limit; empty otherwise. Can be empty even when completed (the model may
   * end a turn without text).
   */
  text: string;
  /** Stop reason of the last response received. */
  stopReason: Anthropic.StopReason | null;
  /**
   * The messages this turn added, to be stored and sent with later turns: the
   * assistant messages and the user messages carrying tool_results, content blocks
   * as sent. Always a valid continuation of the input: it is either empty or ends
   * with an assistant message without tool_use, and every tool_use in it is
   * answered. When the turn ends any other way (deadline, unavailable, refusal…)
   * it is empty and `toolCalls` tells what ran.
   */
  messages: Anthropic.MessageParam[];
  /** Every successful API call, in order, with its usage and cost. */
  calls: CallRecord[];
  /** Sum over `calls`. */
  usage: TokenUsage;
  /** Sum over `calls`; null if any call's cost is unknown. */
  costUsd: string | null;
  /** The model requested. */
  model: string;
  latencyMs: number;
  /** Rounds of tool execution done. */
  toolRounds: number;
  /** True when the tool-round cap was hit and a final call without tools was made. */
  toolLimitReached: boolean;
  toolCalls: ToolCallRecord[];
  error?: TurnError;
  /** For unavailable: the wait the API last asked for, if it said. */
  retryAfterMs?: number;
}

export type TurnEvent =
  | { type: 'call'; round: number; call: CallRecord }
  | { type: 'retry'; attempt: number; delayMs: number; error: TurnError }
  | ({ type: 'tool' } & ToolCallRecord);

interface RunTurnBase<C> {
  client: Anthropic;
  model: string;
  /** A string is sent as one cached block; use buildSystemBlocks for [stable, volatile]. */
  system: string | readonly Anthropic.TextBlockParam[];
  tools: ToolRegistry<C>;
  /** The conversation so far, ending with the new user message. */
  messages: readonly Anthropic.MessageParam[];
  maxTokens: number;
  /** Rounds of tool execution allowed; then one final call with tool_choice none. */
  maxToolRounds: number;
  /** The turn's time budget in milliseconds, counted from the call to runTurn. */
  deadlineMs: number;
  signal?: AbortSignal;
  /** Called synchronously for calls, retries and tool runs; a throwing listener is ignored. */
  onEvent?: (event: TurnEvent) => void;
  retry?: Partial<RetryPolicy>;
  stopSequences?: string[];
  /** Pause_turn continuations allowed in one turn (default 5). */
  maxPauseContinuations?: number;
  /** Overrides the built-in price table. */
  prices?: Readonly<Record<string, ModelPrice>>;
}

/**
 * `toolContext` is passed to every tool run, spread into one object with its
 * toolUseId and signal, so make it a plain object (class instances lose their
 * methods). Optional when C admits `{}`.
 */
export type RunTurnOptions<C> = RunTurnBase<C> & (object extends C ? { toolContext?: C } : { toolContext: C });

const SPEND_LIMIT_CODE = 'enforced_spend_limit_reached';
const NOT_RUN =
  'Not run: the limit of tool calls for this turn is reached. Answer the user now with what you have, and say what is left undone.';

type Stop = { outcome: 'deadline' | 'aborted' } | { outcome: 'unavailable' | 'spend_limit' | 'failed'; error: TurnError; retryAfterMs?: number };

/**
 * One user turn through Claude's tool-use loop: call, run every tool_use of the
 * answer in order, send all tool_results back in one user message, repeat until
 * the model stops. Never throws for API or tool failures: they become the outcome.
 * Throws only for invalid options and for errors that are not the SDK's (bugs).
 */
export async function runTurn<C>(options: RunTurnOptions<C>): Promise<TurnResult> {
  validate(options);
  const started = Date.now();
  const deadlineAt = started + options.deadlineMs;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const maxPauses = options.maxPauseContinuations ?? 5;

  const controller = new AbortController();
  let deadlinePassed = false;
  const timer = setTimeout(() => {
    deadlinePassed = true;
    controller.abort();
  }, options.deadlineMs);
  const onCallerAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (options.signal?.aborted) controller.abort();
  const signal = controller.signal;
  const stopReasonForAbort = (): Stop => ({ outcome: deadlinePassed ? 'deadline' : 'aborted' });

  const emit = (event: TurnEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A broken listener must not break the turn.
    }
  };

  const added: Anthropic.MessageParam[] = [];
  const calls: CallRecord[] = [];
  const toolCalls: ToolCallRecord[] = [];
  const definitions = options.tools.definitions();
  let toolRounds = 0;
  let pauses = 0;
  let toolLimitReached = false;
  let continuingPause = false;
  let lastStop: Anthropic.StopReason | null = null;

  const finish = (outcome: TurnOutcome, extra: { text?: string; keepMessages?: boolean; stop?: Stop } = {}): TurnResult => {
    const usage = totalUsage(calls);
    const stop = extra.stop;
    return {
      outcome,
      text: extra.text ?? '',
      stopReason: lastStop,
      messages: extra.keepMessages && endsCleanly(added) ? added : [],
      calls,
      usage,
      costUsd: calls.length ? sumCosts(calls.map((c) => c.costUsd)) : '0',
      model: options.model,
      latencyMs: Date.now() - started,
      toolRounds,
      toolLimitReached,
      toolCalls,
      ...(stop && 'error' in stop ? { error: stop.error } : {}),
      ...(stop && 'retryAfterMs' in stop && stop.retryAfterMs !== undefined ? { retryAfterMs: stop.retryAfterMs } : {}),
    };
  };

  try {
    for (;;) {
      const params: Anthropic.MessageCreateParamsNonStreaming = {
        model: options.model,
        max_tokens: options.maxTokens,
        system: systemBlocks(options.system),
        messages: [...options.messages, ...added],
        ...(definitions.length ? { tools: definitions } : {}),
        // Tools stay declared after the cap: the history holds tool_use blocks, and the cached prefix stays intact.
        ...(toolLimitReached ? { tool_choice: { type: 'none' as const } } : {}),
        ...(options.stopSequences?.length ? { stop_sequences: options.stopSequences } : {}),
      };
      const answer = await callWithRetries(options.client, params, policy, signal, deadlineAt, emit, stopReasonForAbort);
      if ('outcome' in answer) return finish(answer.outcome, { stop: answer });

      const { message } = answer;
      const call: CallRecord = {
        ...usageFromApi(message.usage),
        model: message.model,
        requestId: answer.requestId,
        stopReason: message.stop_reason,
        latencyMs: answer.latencyMs,
        attempts: answer.attempts,
        costUsd: null,
      };
      call.costUsd = costUsd(call.model, call, options.prices);
      calls.push(call);
      lastStop = message.stop_reason;
      emit({ type: 'call', round: toolRounds, call });

      const content = message.content.map(toParam);
      const uses = message.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
      // A tool_use stop without tool_use blocks has nothing to run: read it as the end of the turn.
      const stopReason = message.stop_reason === 'tool_use' && uses.length === 0 ? 'end_turn' : message.stop_reason;
      switch (stopReason) {
        case 'pause_turn': {
          appendAssistant(added, content, continuingPause);
          continuingPause = true;
          pauses += 1;
          if (pauses > maxPauses) return finish('tool_limit');
          continue;
        }
        case 'tool_use': {
          if (toolLimitReached) return finish('tool_limit', { text: textOf(content) });
          appendAssistant(added, content, continuingPause);
          continuingPause = false;
          if (toolRounds >= options.maxToolRounds) {
            toolLimitReached = true;
            added.push({
              role: 'user',
              content: uses.map((use) => ({ type: 'tool_result' as const, tool_use_id: use.id, content: NOT_RUN, is_error: true })),
            });
            continue;
          }
          toolRounds += 1;
          const results: Anthropic.ToolResultBlockParam[] = [];
          for (const use of uses) {
            const execution = await untilAborted(
              options.tools.execute(use, (options.toolContext ?? {}) as C, signal),
              signal,
            );
            if (execution === undefined) return finish(stopReasonForAbort().outcome);
            const record: ToolCallRecord = {
              toolUseId: use.id,
              name: execution.name,
              input: use.input,
              isError: execution.isError,
              durationMs: execution.durationMs,
              ...(execution.error !== undefined ? { error: execution.error } : {}),
            };
            toolCalls.push(record);
            emit({ type: 'tool', ...record });
            results.push(execution.result);
          }
          // Only tool_results in this message: text after them makes the model end its turn empty-handed.
          added.push({ role: 'user', content: results });
          continue;
        }
        case 'refusal':
          return finish('refused', { text: textOf(content) });
        case 'max_tokens':
        case 'model_context_window_exceeded': {
          // A tool_use cut off mid-input cannot be run, and an unanswered one cannot be stored.
          const kept = content.filter((b) => b.type !== 'tool_use');
          if (kept.length) appendAssistant(added, kept, continuingPause);
          return finish('truncated', { text: finalText(added), keepMessages: true });
        }
        case 'end_turn':
        case 'stop_sequence':
        case null:
        default: {
          if (content.length) appendAssistant(added, content, continuingPause);
          return finish('completed', { text: finalText(added), keepMessages: true });
        }
      }
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}

type CallAnswer = { message: Anthropic.Message; requestId: string | null; latencyMs: number; attempts: number } | Stop;

async function callWithRetries(
  client: Anthropic,
  params: Anthropic.MessageCreateParamsNonStreaming,
  policy: RetryPolicy,
  signal: AbortSignal,
  deadlineAt: number,
  emit: (event: TurnEvent) => void,
  abortStop: () => Stop,
): Promise<CallAnswer> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) return abortStop();
    try {
      const { data, request_id: requestId } = await client.messages
        .create(params, {
          signal,
          maxRetries: 0,
          // Our deadline timer aborts first, so running out of time reads as a deadline, not a timeout.
          timeout: Math.max(1, deadlineAt - Date.now()) + 1000,
        })
        .withResponse();
      return { message: data, requestId: requestId ?? null, latencyMs: Date.now() - started, attempts: attempt };
    } catch (error) {
      if (signal.aborted) return abortStop();
      if (!(error instanceof AnthropicError)) throw error;
      const turnError = describe(error);
      if (turnError.code === SPEND_LIMIT_CODE) return { outcome: 'spend_limit', error: turnError };
      if (!retryable(error)) return { outcome: 'failed', error: turnError };
      const serverWait = retryAfterMs(httpError(error)?.headers);
      const unavailable: Stop = {
        outcome: 'unavailable',
        error: turnError,
        ...(serverWait !== undefined ? { retryAfterMs: serverWait } : {}),
      };
      if (attempt >= policy.maxAttempts) return unavailable;
      const delayMs = retryDelayMs(policy, attempt, serverWait);
      if (Date.now() + delayMs >= deadlineAt) return unavailable;
      emit({ type: 'retry', attempt, delayMs, error: turnError });
      await sleep(delayMs, signal);
    }
  }
}

/** The SDK's HTTP error with its type arguments spelled out (instanceof alone yields `any` fields). */
function httpError(error: AnthropicError): APIError<number | undefined, Headers | undefined> | undefined {
  return error instanceof APIError ? (error as APIError<number | undefined, Headers | undefined>) : undefined;
}

/** Connection failures, 408, 409, 429 and 5xx (529 included), unless the server says otherwise. */
function retryable(error: AnthropicError): boolean {
  if (error instanceof APIConnectionError) return true;
  const status = httpError(error)?.status;
  if (status === undefined) return false;
  const hint = httpError(error)?.headers?.get('x-should-retry');
  if (hint === 'true') return true;
  if (hint === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function describe(error: AnthropicError): TurnError {
  const http = httpError(error);
  if (!http) return { message: error.message };
  return {
    ...(http.status !== undefined ? { status: http.status } : {}),
    ...(http.type ? { type: http.type } : {}),
    ...(http.errorCode ? { code: http.errorCode } : {}),
    ...(http.requestID ? { requestId: http.requestID } : {}),
    message: http.apiMessage ?? http.message,
  };
}

/** The tool's result, or undefined once the signal aborts (the tool is told through the same signal). */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Response blocks as request blocks: text and tool_use reduced to what the API reads back, others as they came. */
function toParam(block: Anthropic.ContentBlock): Anthropic.ContentBlockParam {
  if (block.type === 'text') return { type: 'text', text: block.text };
  if (block.type === 'tool_use') return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
  return block;
}

/** A continuation after pause_turn belongs to the same assistant message. */
function appendAssistant(messages: Anthropic.MessageParam[], content: Anthropic.ContentBlockParam[], continuing: boolean): void {
  const last = messages.at(-1);
  if (continuing && last?.role === 'assistant' && Array.isArray(last.content)) {
    messages[messages.length - 1] = { role: 'assistant', content: [...last.content, ...content] };
  } else {
    messages.push({ role: 'assistant', content });
  }
}

function endsCleanly(messages: readonly Anthropic.MessageParam[]): boolean {
  const last = messages.at(-1);
  if (!last || last.role !== 'assistant') return false;
  return typeof last.content === 'string' ? last.content !== '' : last.content.length > 0 && !last.content.some((b) => b.type === 'tool_use');
}

/** The text of the turn's last assistant message, when the turn ends with one. */
function finalText(messages: readonly Anthropic.MessageParam[]): string {
  const last = messages.at(-1);
  return last?.role === 'assistant' ? textOf(last.content) : '';
}

function textOf(content: string | readonly Anthropic.ContentBlockParam[]): string {
  if (typeof content === 'string') return content;
  return content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
}

function totalUsage(calls: readonly TokenUsage[]): TokenUsage {
  return calls.reduce<TokenUsage>(
    (sum, c) => ({
      inputTokens: sum.inputTokens + c.inputTokens,
      outputTokens: sum.outputTokens + c.outputTokens,
      cacheReadTokens: sum.cacheReadTokens + c.cacheReadTokens,
      cacheWriteTokens: sum.cacheWriteTokens + c.cacheWriteTokens,
      cacheWrite1hTokens: sum.cacheWrite1hTokens + c.cacheWrite1hTokens,
    }),
    { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, cacheWrite1hTokens: 0 },
  );
}

function validate(options: RunTurnBase<unknown>): void {
  const positiveInteger = (value: number, name: string, min: number) => {
    if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  };
  positiveInteger(options.maxTokens, 'maxTokens', 1);
  positiveInteger(options.maxToolRounds, 'maxToolRounds', 0);
  if (!(options.deadlineMs > 0)) throw new RangeError(`deadlineMs must be positive, got ${options.deadlineMs}`);
  if (options.messages.length === 0) throw new RangeError('messages must hold at least the new user message');
}
