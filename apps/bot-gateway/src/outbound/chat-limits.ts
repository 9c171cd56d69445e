import type { RedisConnection } from '@dealdome/queues';
import { BurstyRateLimiter, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * How often one chat may be written to. Telegram's limits are undocumented and vary:
 * about one message a second in a private chat (short bursts allowed) and twenty a
 * minute in a group. `points` per `durationSeconds`, plus up to `burstPoints` more per
 * `burstDurationSeconds` when the first is used up. Durations are whole seconds.
 */
export interface ChatRateLimit {
  points: number;
  durationSeconds: number;
  burstPoints: number;
  burstDurationSeconds: number;
}

export interface ChatRateLimits {
  /** Private chats (positive ids). */
  private: ChatRateLimit;
  /** Groups, supergroups and channels (negative ids). */
  group: ChatRateLimit;
}

export const defaultChatRateLimits: ChatRateLimits = {
  private: { points: 1, durationSeconds: 1, burstPoints: 2, burstDurationSeconds: 10 },
  group: { points: 1, durationSeconds: 3, burstPoints: 0, burstDurationSeconds: 60 },
};

type Limiter = Pick<RateLimiterRedis, 'consume'> | BurstyRateLimiter;

/**
 * Per-chat send budget kept in Redis, so every replica of the gateway draws on the
 * same one. A caller that gets a wait back should put its job off by that long
 * rather than sleep.
 */
export class ChatRateLimiter {
  private readonly privateChats: Limiter;
  private readonly groups: Limiter;

  constructor(redis: RedisConnection, keyPrefix: string, limits: ChatRateLimits = defaultChatRateLimits) {
    this.privateChats = limiter(redis, `${keyPrefix}:private`, limits.private);
    this.groups = limiter(redis, `${keyPrefix}:group`, limits.group);
  }

  /** 0 when a message may go to the chat now (and takes its share of the budget), else the milliseconds to wait. */
  async reserve(chatId: string): Promise<number> {
    const limiter = chatId.startsWith('-') ? this.groups : this.privateChats;
    try {
      await limiter.consume(chatId, 1);
      return 0;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return Math.max(1, rejection.msBeforeNext);
      throw rejection;
    }
  }
}

function limiter(redis: RedisConnection, keyPrefix: string, limit: ChatRateLimit): Limiter {
  const main = new RateLimiterRedis({ storeClient: redis, keyPrefix, points: limit.points, duration: limit.durationSeconds });
  if (limit.burstPoints <= 0) return main;
  const burst = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${keyPrefix}:burst`,
    points: limit.burstPoints,
    duration: limit.burstDurationSeconds,
  });
  return new BurstyRateLimiter(main, burst);
}
