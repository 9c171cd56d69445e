import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export interface TurnMetrics {
  /** Stored replies, by the agent that answered and how the turn ended (offline, budget… when no model ran). */
  turns: Counter<'agent' | 'outcome'>;
  /** Wall time of turns that called the model. */
  duration: Histogram<'agent'>;
  /** Tokens billed per call, by the agent that called and the model that answered. */
  tokens: Counter<'agent' | 'model' | 'kind'>;
  /** Wall time of one Messages API call, its retries included. */
  callDuration: Histogram<'agent' | 'model'>;
  /** What the calls cost, in USD (calls of models missing from the price table are not in it). */
  costUsd: Counter<'agent' | 'model'>;
  /** Jobs put off because their chat's turn was running. */
  lockWaits: Counter;
  /** Jobs whose messages were answered already: their delivery was queued again. */
  redelivered: Counter;
}

/** On `registry` once (two workers in one process share them); unregistered without one. */
export function turnMetrics(registry?: Registry): TurnMetrics {
  const registers = registry ? [registry] : [];
  const existing = <M>(name: string) => registry?.getSingleMetric(name) as M | undefined;
  return {
    turns:
      existing<Counter<'agent' | 'outcome'>>('agent_turns_total') ??
      new Counter({ name: 'agent_turns_total', help: 'Turns answered, by agent and outcome', labelNames: ['agent', 'outcome'], registers }),
    duration:
      existing<Histogram<'agent'>>('agent_turn_duration_seconds') ??
      new Histogram({
        name: 'agent_turn_duration_seconds',
        help: 'Wall time of turns that called the model, retries and tools included',
        labelNames: ['agent'],
        buckets: [1, 2, 5, 10, 20, 40, 60, 90, 120],
        registers,
      }),
    tokens:
      existing<Counter<'agent' | 'model' | 'kind'>>('agent_tokens_total') ??
      new Counter({
        name: 'agent_tokens_total',
        help: 'Tokens billed, by agent, model and kind (input, output, cache_read, cache_write)',
        labelNames: ['agent', 'model', 'kind'],
        registers,
      }),
    callDuration:
      existing<Histogram<'agent' | 'model'>>('agent_model_call_duration_seconds') ??
      new Histogram({
        name: 'agent_model_call_duration_seconds',
        help: 'Wall time of one Messages API call, retries included, by agent and model',
        labelNames: ['agent', 'model'],
        buckets: [0.5, 1, 2, 4, 8, 15, 30, 60, 90],
        registers,
      }),
    costUsd:
      existing<Counter<'agent' | 'model'>>('agent_cost_usd_total') ??
      new Counter({ name: 'agent_cost_usd_total', help: 'What the model calls cost in USD, by agent and model', labelNames: ['agent', 'model'], registers }),
    lockWaits:
      existing<Counter>('agent_turn_lock_waits_total') ??
      new Counter({ name: 'agent_turn_lock_waits_total', help: "Jobs delayed because their chat's turn was running", registers }),
    redelivered:
      existing<Counter>('agent_turn_redeliveries_total') ??
      new Counter({ name: 'agent_turn_redeliveries_total', help: 'Jobs whose messages were already answered: the reply was queued for delivery again', registers }),
  };
}
