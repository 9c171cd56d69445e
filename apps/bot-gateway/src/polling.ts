import { setTimeout as sleep } from 'node:timers/promises';
import { withDeadline } from '@dealdome/config';
import type { Logger } from '@dealdome/config';
import { acquireLease } from '@dealdome/queues';
import type { Lease } from '@dealdome/queues';
import type { GatewayDeps } from './context';
import { recordUpdates } from './inbox';
import type { UpdateProcessor } from './processor';

const MAX_BACKOFF_MS = 30_000;
/** Updates being handled at once before polling waits for some to finish. */
const MAX_IN_FLIGHT = 500;

/** How long the polling lease lasts without being extended (every third of it): a crashed poller's successor starts within this. */
export const POLLING_LEASE_MS = 10_000;
/** How often a replica that does not poll asks for the lease. */
export const POLLING_STANDBY_RETRY_MS = 2_000;

/**
 * Long polling. Telegram serves one getUpdates at a time per bot: a second poller's
 * request ends the first with 409 Conflict, and two replicas polling would take turns
 * failing. So only the replica holding the polling lease (a Redis key under
 * QUEUE_PREFIX, see packages/queues' lease.ts) polls; the others stand by, asking for
 * the lease every few seconds, while every replica runs the outbound worker and the
 * sweep. A replica that stops gives the lease up at once; one that crashes loses it
 * when it lapses. Losing the lease aborts the poll in flight.
 *
 * Each batch is recorded with one statement, then confirmed to Telegram (by asking for
 * the next offset) while its updates are handled — each chat's in order, chats side by
 * side — so the next batch is read without waiting for this one. A recorded update is
 * safe: if handling fails or the process stops, it stays recorded and unprocessed and
 * the sweep handles it; its record makes sure it is never handled twice — also when a
 * new poller is given again what the last one read but had not confirmed. If recording
 * fails the batch is asked for again after a pause. At most MAX_IN_FLIGHT updates are
 * handled at once.
 */
export class PollingIntake {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly deps: GatewayDeps,
    private readonly processor: UpdateProcessor,
    private readonly timeoutSeconds: number,
  ) {}

  /** The Redis key of the polling lease, one per installation (QUEUE_PREFIX). */
  get leaseKey(): string {
    return `${this.deps.keyPrefix}:bot-gateway:polling-lease`;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(deadlineMs: number): Promise<void> {
    this.stopping.abort();
    if (this.loop && (await withDeadline(this.loop, deadlineMs)) === 'timeout') {
      this.deps.logger.warn({ deadlineMs }, 'the update being handled did not finish by the deadline; it is handled again after the next start');
    }
  }

  private async run(): Promise<void> {
    const stopping = this.stopping.signal;
    const log = this.deps.logger.child({ intake: 'polling' });
    while (!stopping.aborted) {
      const lease = await this.lead(stopping, log);
      if (!lease) break;
      log.info('this replica holds the polling lease: it polls Telegram');
      try {
        await this.poll(AbortSignal.any([stopping, lease.lost]), log);
      } finally {
        await lease.release().catch((err: unknown) => log.warn({ err: { message: (err as Error).message } }, 'could not give the polling lease up; it lapses by itself'));
      }
      if (!stopping.aborted) log.warn('the polling lease was lost; another replica polls now and this one stands by');
    }
  }

  /** Waits until this replica holds the polling lease; undefined once it is stopping. */
  private async lead(stopping: AbortSignal, log: Logger): Promise<Lease | undefined> {
    let standingBy = false;
    while (!stopping.aborted) {
      try {
        const lease = await acquireLease(this.deps.redis, this.leaseKey, POLLING_LEASE_MS, 'the Telegram polling lease');
        if (lease) return lease;
        if (!standingBy) log.info('another replica polls Telegram; this one stands by for the polling lease');
        standingBy = true;
      } catch (err) {
        log.warn({ err: { message: (err as Error).message } }, 'could not ask Redis for the polling lease; asking again');
      }
      await sleep(POLLING_STANDBY_RETRY_MS, undefined, { signal: stopping }).catch(() => undefined);
    }
    return undefined;
  }

  private async poll(signal: AbortSignal, log: Logger): Promise<void> {
    // Offsets are the holder's own: a new holder is given again what Telegram has not had confirmed, and recording drops repeats.
    let offset: number | undefined;
    let failures = 0;
    let ready = false;
    while (!signal.aborted) {
      try {
        if (!ready) {
          const bot = await this.deps.bot();
          await this.deps.telegram.usePolling();
          log.info({ bot: bot.username }, 'Telegram intake on: long polling');
          ready = true;
        }
        await this.processor.belowInFlight(MAX_IN_FLIGHT);
        const updates = await this.deps.telegram.getUpdates(offset, this.timeoutSeconds, signal);
        // Left unrecorded and unconfirmed, the batch comes back to the next poller.
        if (signal.aborted) break;
        const outcomes = await recordUpdates(this.deps.db, updates);
        updates.forEach((update, i) => {
          if (outcomes[i] !== 'processed') void this.processor.schedule(update, outcomes[i]);
        });
        if (updates.length > 0) offset = updates.at(-1)!.update_id + 1;
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        failures += 1;
        const pauseMs = Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures);
        log.warn({ err: { message: (err as Error).message }, pauseMs }, 'polling Telegram failed; trying again');
        await sleep(pauseMs, undefined, { signal }).catch(() => undefined);
      }
    }
  }
}
