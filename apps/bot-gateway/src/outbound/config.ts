import type { z } from 'zod';
import { envInt } from '@dealdome/config';
import type { ChatRateLimits } from './chat-limits';
import type { OutboundWorkerOptions } from './worker';

/**
 * The outbound worker's knobs, for the gateway's env schema (`envSchema.extend(outboundEnvShape)`).
 * The bot token and API root are the gateway's own variables and not repeated here.
 */
export const outboundEnvShape = {
  /** Jobs one replica sends at once. */
  TELEGRAM_OUTBOUND_CONCURRENCY: envInt(8, 1),
  /** Sends started per second across all replicas; 0 turns the queue's limit off. */
  TELEGRAM_GLOBAL_MESSAGES_PER_SECOND: envInt(30, 0),
  /** Messages a private chat may get beyond one a second, within 10 seconds. */
  TELEGRAM_PRIVATE_CHAT_BURST: envInt(2, 0),
  /** Messages a group may get per minute, spread evenly. */
  TELEGRAM_GROUP_MESSAGES_PER_MINUTE: envInt(20, 1),
  /** How long one Bot API call may take. */
  TELEGRAM_REQUEST_TIMEOUT_MS: envInt(15000, 1000),
};

export type OutboundEnv = z.infer<z.ZodObject<typeof outboundEnvShape>>;

/** The rate and concurrency options startOutboundWorker takes, from those variables. */
export function outboundLimitsFromEnv(
  env: OutboundEnv,
): Pick<OutboundWorkerOptions, 'concurrency' | 'globalRate' | 'chatLimits'> {
  const chatLimits: ChatRateLimits = {
    private: { points: 1, durationSeconds: 1, burstPoints: env.TELEGRAM_PRIVATE_CHAT_BURST, burstDurationSeconds: 10 },
    // One message every ceil(60 / n) seconds: never more than n a minute, and no burst at a window's edge.
    group: {
      points: 1,
      durationSeconds: Math.ceil(60 / env.TELEGRAM_GROUP_MESSAGES_PER_MINUTE),
      burstPoints: 0,
      burstDurationSeconds: 60,
    },
  };
  return {
    concurrency: env.TELEGRAM_OUTBOUND_CONCURRENCY,
    globalRate:
      env.TELEGRAM_GLOBAL_MESSAGES_PER_SECOND > 0 ? { max: env.TELEGRAM_GLOBAL_MESSAGES_PER_SECOND, durationMs: 1000 } : null,
    chatLimits,
  };
}
