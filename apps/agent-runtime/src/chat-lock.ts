import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * One turn at a time per chat, across every replica: a Redis key per chat, set
 * with NX and a TTL, holding a random token. While the turn runs the key is
 * extended every ttl/3; if an extension finds another token (or cannot reach Redis
 * for a whole TTL) the lock is lost and `lost` aborts the turn. A crashed holder's
 * lock lapses after the TTL. The lock is about order and not spending a model call
 * twice; it is not what makes an answer unique: recordTurn's transaction is.
 */
export interface ChatLock {
  /** Aborted when the lock can no longer be vouched for. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class ChatLocks {
  constructor(
    private readonly redis: Redis,
    /** QUEUE_PREFIX: the locks live beside the queue they order. */
    private readonly prefix: string,
    private readonly ttlMs = 30_000,
  ) {}

  key(chatId: string): string {
    return `${this.prefix}:agent-turns:chat-lock:${chatId}`;
  }

  /** The chat's lock, or undefined while another turn holds it. */
  async acquire(chatId: string): Promise<ChatLock | undefined> {
    const key = this.key(chatId);
    const token = randomUUID();
    const set = await this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
    if (set !== 'OK') return undefined;

    const controller = new AbortController();
    let confirmedAt = Date.now();
    let released = false;
    const extend = async () => {
      try {
        const extended = await this.redis.eval(EXTEND, 1, key, token, this.ttlMs);
        if (extended === 1) confirmedAt = Date.now();
        else controller.abort(new Error(`the turn lock of chat ${chatId} was lost`));
      } catch (err) {
        if (Date.now() - confirmedAt >= this.ttlMs) controller.abort(err);
      }
    };
    const timer = setInterval(() => {
      if (!released && !controller.signal.aborted) void extend();
    }, Math.max(100, Math.floor(this.ttlMs / 3)));
    timer.unref();

    return {
      lost: controller.signal,
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        await this.redis.eval(RELEASE, 1, key, token);
      },
    };
  }
}
