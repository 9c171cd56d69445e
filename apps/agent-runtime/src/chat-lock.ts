import { acquireLease } from '@dealdome/queues';
import type { Lease, RedisConnection } from '@dealdome/queues';

/**
 * One turn at a time per chat, across every replica: a lease on a Redis key per chat
 * (packages/queues' lease.ts). If the lease is lost while the turn runs, `lost` aborts
 * the turn. The lock is about order and not spending a model call twice; it is not what
 * makes an answer unique: recordTurn's transaction is.
 */
export type ChatLock = Lease;

export class ChatLocks {
  constructor(
    private readonly redis: RedisConnection,
    /** QUEUE_PREFIX: the locks live beside the queue they order (and in its hash slot on a Redis Cluster). */
    private readonly prefix: string,
    private readonly ttlMs = 30_000,
  ) {}

  key(chatId: string): string {
    return `${this.prefix}:agent-turns:chat-lock:${chatId}`;
  }

  /** The chat's lock, or undefined while another turn holds it. */
  acquire(chatId: string): Promise<ChatLock | undefined> {
    return acquireLease(this.redis, this.key(chatId), this.ttlMs, `the turn lock of chat ${chatId}`);
  }
}
