import { setTimeout as sleep } from 'node:timers/promises';
import { withDeadline } from '@dealdome/config';
import type { GatewayDeps } from './context';
import { recordUpdate } from './inbox';
import type { UpdateProcessor } from './processor';

const MAX_BACKOFF_MS = 30_000;

/**
 * Long polling. An update is confirmed to Telegram (by asking for the next offset)
 * only after it is recorded and its handling has finished. If recording fails the
 * batch is asked for again after a pause; if handling fails the update stays
 * recorded and unprocessed, and the sweep handles it. Its record makes sure it is
 * never handled twice.
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
        const updates = await this.deps.telegram.getUpdates(offset, this.timeoutSeconds, signal);
        // Each update is recorded in order; then chats are handled side by side, each
        // chat's updates one after another. The batch is confirmed once all of it is
        // handled; one whose handling failed stays recorded and the sweep retries it.
        const handling: Promise<void>[] = [];
        let recorded = offset;
        for (const update of updates) {
          // Left unrecorded and unconfirmed, the rest of the batch comes back after the next start.
          if (signal.aborted) break;
          if ((await recordUpdate(this.deps.db, update)) !== 'processed') handling.push(this.processor.schedule(update));
          recorded = update.update_id + 1;
        }
        await Promise.all(handling);
        offset = recorded;
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
