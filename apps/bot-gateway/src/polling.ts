import { setTimeout as sleep } from 'node:timers/promises';
import { withDeadline } from '@dealdome/config';
import type { GatewayDeps } from './context';
import { recordUpdates } from './inbox';
import type { UpdateProcessor } from './processor';

const MAX_BACKOFF_MS = 30_000;
/** Updates being handled at once before polling waits for some to finish. */
const MAX_IN_FLIGHT = 500;

/**
 * Long polling. Each batch is recorded with one statement, then confirmed to
 * Telegram (by asking for the next offset) while its updates are handled — each
 * chat's in order, chats side by side — so the next batch is read without waiting
 * for this one. A recorded update is safe: if handling fails or the process stops,
 * it stays recorded and unprocessed and the sweep handles it; its record makes sure
 * it is never handled twice. If recording fails the batch is asked for again after
 * a pause. At most MAX_IN_FLIGHT updates are handled at once.
 */
export class PollingIntake {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly deps: GatewayDeps,
    private readonly processor: UpdateProcessor,
    private readonly timeoutSeconds: number,
  ) {}

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
    const signal = this.stopping.signal;
    const log = this.deps.logger.child({ intake: 'polling' });
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
        // Left unrecorded and unconfirmed, the batch comes back after the next start.
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
