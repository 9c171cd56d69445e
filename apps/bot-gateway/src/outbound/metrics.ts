import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

export type FailureReason =
  /** Telegram answered 429; the queue paused for retry_after. */
  | 'rate_limited'
  /** Telegram refused for good (chat not found, bot blocked, bad request); the job failed without retry. */
  | 'rejected'
  | 'server_error'
  | 'network'
  | 'api_error'
  | 'internal'
  /** Telegram could not parse the HTML; the part went again as plain text. */
  | 'html_rejected'
  /** The stored message or notification does not exist (or is no assistant message). */
  | 'not_found';

export interface OutboundMetrics {
  partsSent: Counter<'kind' | 'format'>;
  failures: Counter<'job' | 'reason'>;
  chatActions: Counter<'outcome'>;
}

/** Counters on `registry` (once per registry, so two workers in one process share them); unregistered without one. */
export function outboundMetrics(registry?: Registry): OutboundMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> =>
    (registry?.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: registry ? [registry] : [] });
  return {
    partsSent: counter('telegram_outbound_parts_sent_total', 'Message parts Telegram accepted, by what they belong to and how they were formatted', [
      'kind',
      'format',
    ]),
    failures: counter('telegram_outbound_failures_total', 'Failed or refused Telegram sends, by job and reason', ['job', 'reason']),
    chatActions: counter('telegram_outbound_chat_actions_total', 'Chat actions (typing…), by outcome', ['outcome']),
  };
}
