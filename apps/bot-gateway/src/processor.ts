import { randomUUID } from 'node:crypto';
import { withDeadline } from '@dealdome/config';
import { findMessages } from '@dealdome/domain';
import { setIfAbsent } from '@dealdome/queues';
import type { GatewayDeps } from './context';
import { updateMessageIds, updateRowId } from './ids';
import { chatIdOf, markProcessed, pendingRowsOfUpdate, pruneUpdates, unfinishedUpdates } from './inbox';
import type { RecordOutcome } from './inbox';
import { enqueueJobs } from './jobs';
import type { PendingJob } from './jobs';
import type { Router } from './router';
import type { IncomingUpdate } from './telegram';

/** Longer than any update takes to handle; a holder that died frees it after this. */
const LOCK_MS = 5 * 60_000;
/** A recorded update this old and still unprocessed was left by a process that stopped. */
export const SWEEP_AFTER_MS = 60_000;
/** Records of processed updates are kept this long: well past Telegram's 24 hours of redelivery. */
const KEEP_UPDATES_MS = 3 * 24 * 3_600_000;

const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Handles recorded updates: routes each once, queues its jobs, marks it processed.
 *
 * - One replica at a time handles an update (a Redis lock per update_id), so the
 *   sweep and a redelivery cannot race the first attempt.
 * - An update whose messages are stored already was handled up to its queueing
 *   before the process stopped: only its jobs are queued again (their ids are
 *   derived from the rows, so nothing is queued twice), and nothing is redone.
 * - Updates are handled one at a time per chat, in the order they arrived; chats
 *   proceed side by side.
 */
export class UpdateProcessor {
  private readonly chains = new Map<string, Promise<void>>();
  private scheduled = 0;
  private sweeping: Promise<number> | undefined;

  constructor(
    private readonly deps: GatewayDeps,
    private readonly router: Router,
  ) {}

  /** Updates scheduled and not finished yet. */
  get inFlight(): number {
    return this.scheduled;
  }

  /**
   * Handles one recorded update. `recorded` is what recording it found: an update
   * recorded just now ('new') cannot have stored anything yet, so nothing is looked up.
   */
  async handle(update: IncomingUpdate, recorded: RecordOutcome = 'unfinished'): Promise<void> {
    const lockKey = `${this.deps.keyPrefix}:bot-gateway:update-lock:${update.update_id}`;
    const token = randomUUID();
    // A new update is routed once the lock is held, and routing first reads who sent it:
    // that read goes out beside the lock's, one round trip fewer on every message's way.
    const sender = recorded === 'new' ? this.router.lookUpSender(update) : undefined;
    // Read by route; when the lock is someone else's, nobody reads it and a failure is moot.
    sender?.catch(() => undefined);
    if (!(await setIfAbsent(this.deps.redis, lockKey, token, LOCK_MS))) {
      this.deps.logger.debug({ updateId: update.update_id }, 'update is being handled elsewhere');
      return;
    }
    try {
      const jobs = recorded === 'new' ? await this.router.route(update, sender) : await this.jobsOf(update);
      await enqueueJobs(this.deps.producer, jobs);
      await markProcessed(this.deps.db, update.update_id);
    } finally {
      await this.deps.redis.eval(RELEASE_LOCK, 1, lockKey, token);
    }
  }

  /**
   * Queues `handle` behind the chat's earlier updates; errors are logged and the
   * update left for the sweep. The returned promise settles when this update is done.
   */
  schedule(update: IncomingUpdate, recorded: RecordOutcome = 'unfinished'): Promise<void> {
    const key = String(chatIdOf(update) ?? 'none');
    this.scheduled += 1;
    const run = (this.chains.get(key) ?? Promise.resolve()).then(() =>
      this.handle(update, recorded)
        .catch((err: unknown) => this.deps.logger.error({ err, updateId: update.update_id }, 'handling the update failed; the sweep retries it'))
        .finally(() => {
          this.scheduled -= 1;
        }),
    );
    this.chains.set(key, run);
    void run.then(() => {
      if (this.chains.get(key) === run) this.chains.delete(key);
    });
    return run;
  }

  /** Resolves once fewer than `limit` updates are in flight. */
  async belowInFlight(limit: number): Promise<void> {
    while (this.scheduled >= limit) await Promise.race(this.chains.values());
  }

  /** Handles recorded updates that were never finished, oldest first, and forgets old records. */
  sweep(): Promise<number> {
    this.sweeping ??= (async () => {
      let handled = 0;
      try {
        for (const update of await unfinishedUpdates(this.deps.db, SWEEP_AFTER_MS, 100)) {
          await this.handle(update);
          handled += 1;
        }
        if (handled > 0) this.deps.logger.info({ handled }, 'finished updates left unprocessed');
        const pruned = await pruneUpdates(this.deps.db, KEEP_UPDATES_MS);
        if (pruned > 0) this.deps.logger.debug({ pruned }, 'forgot old update records');
      } catch (err) {
        this.deps.logger.error({ err }, 'sweeping unfinished updates failed');
      } finally {
        this.sweeping = undefined;
      }
      return handled;
    })();
    return this.sweeping;
  }

  /** Waits for the background work to finish, up to the deadline; what is left is swept after the next start. */
  async drain(deadlineMs: number): Promise<void> {
    const pending = [...this.chains.values(), ...(this.sweeping ? [this.sweeping] : [])];
    if ((await withDeadline(Promise.allSettled(pending), deadlineMs)) === 'timeout') {
      this.deps.logger.warn({ deadlineMs }, 'updates still being handled at the shutdown deadline');
    }
  }

  private async jobsOf(update: IncomingUpdate): Promise<PendingJob[]> {
    const stored = await findMessages(this.deps.db, updateMessageIds(update));
    if (stored.length === 0) return this.router.route(update);

    this.deps.logger.warn({ updateId: update.update_id }, 'update was handled before but not finished; queueing its jobs again');
    const jobs: PendingJob[] = [];
    const replied = stored.some((m) => m.role === 'assistant');
    for (const m of stored) {
      if (m.role === 'assistant') jobs.push({ kind: 'deliver', chatId: m.chatId, messageId: m.id });
      // A user message nothing answered and no command claimed was handed to an agent.
      else if (m.role === 'user' && m.answeredAt === null && !replied && this.deps.agentsOnline) {
        jobs.push({ kind: 'turn', chatId: m.chatId, conversationId: m.conversationId, messageId: m.id });
      }
    }
    const rows = await pendingRowsOfUpdate(this.deps.db, {
      videoId: updateRowId(update, 'video'),
      memoryId: updateRowId(update, 'memory'),
    });
    if (rows.videoId) jobs.push({ kind: 'ingest', videoId: rows.videoId });
    if (rows.memoryId) jobs.push({ kind: 'embed-memory', memoryId: rows.memoryId });
    return jobs;
  }
}
