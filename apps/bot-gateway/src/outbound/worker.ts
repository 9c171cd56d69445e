import { DelayedError, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { RedisConnection } from '@dealdome/queues';
import type { SendMessageParams } from 'node-telegram-bot-api';
import type { Registry } from 'prom-client';
import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import {
  findOutboundMessage,
  findOutboundNotification,
  markNotificationSent,
  recordMessagePartSent,
  recordNotificationAttempt,
  recordNotificationFailure,
  recordNotificationPartSent,
} from '@dealdome/domain';
import type { OutboundText } from '@dealdome/domain';
import { createWorker, jobIds } from '@dealdome/queues';
import type { Handlers } from '@dealdome/queues';
import { ChatRateLimiter, defaultChatRateLimits } from './chat-limits';
import type { ChatRateLimits } from './chat-limits';
import { outboundMetrics } from './metrics';
import type { OutboundMetrics } from './metrics';
import { splitTelegramHtml, TELEGRAM_MESSAGE_LIMIT } from './split';
import type { MessagePart } from './split';
import { classifyFailure, describeError, isHtmlRejected } from './telegram';
import type { TelegramSender } from './telegram';

const QUEUE = 'telegram-outbound';
/** Earlier messages of a chat a delivery may wait behind: deliveries older than this have long finished or failed. */
const ORDER_LOOKBACK = { withinMs: 15 * 60_000, limit: 20 };
/** How long a delivery waiting behind an earlier one of its chat is put off before it looks again. */
const ORDER_RECHECK_MS = 100;

export interface OutboundWorkerOptions {
  db: Database;
  /** The platform's Redis: BullMQ and the per-chat budgets live there. */
  connection: RedisConnection;
  /** QUEUE_PREFIX. */
  prefix: string;
  /** A Bot API client without retries of its own (createTelegramClient). */
  telegram: TelegramSender;
  /** Strings that must never reach a log line or a failed job: the bot token. */
  secrets: readonly string[];
  logger: Logger;
  registry?: Registry;
  /** Jobs one replica runs at once (default 8). */
  concurrency?: number;
  /**
   * Jobs started per `durationMs` across every replica (default 30 a second), kept on
   * the queue itself (BullMQ's global rate limit). null leaves the queue unlimited; a
   * 429 then pauses only the replica that saw it, as BullMQ shares a manual rate limit
   * between workers only while a limit is set.
   */
  globalRate?: { max: number; durationMs: number } | null;
  chatLimits?: ChatRateLimits;
  /** Visible characters per Telegram message (default 4096). */
  messageLimit?: number;
  /** A chat action older than this is dropped: the reply it announced is likely there already (default 5 s). */
  chatActionMaxAgeMs?: number;
}

export interface OutboundWorker {
  name: string;
  worker: Worker;
  /** Stops taking jobs and drains within the deadline (what startService calls on shutdown). */
  close(deadlineMs: number): Promise<void>;
}

/** Something to deliver and how to record its progress. */
interface Delivery {
  kind: 'message' | 'notification';
  text: OutboundText;
  recordPart(partIndex: number, telegramMessageId: number, last: boolean): Promise<boolean>;
  onAttempt?(): Promise<void>;
  onFailure?(error: string, final: boolean): Promise<void>;
}

/**
 * The consumer of `telegram-outbound`, the only code that sends to Telegram.
 *
 * A stored text is split into parts deterministically; part i is sent only when the
 * record holds fewer than i + 1 Telegram ids, and its id is appended right after
 * Telegram accepts it, so a retried or repeated job resumes where the last one
 * stopped. A 429 pauses the whole queue for retry_after (the job goes back to waiting
 * without spending an attempt); a chat over its own budget has its job put off, so
 * other chats keep going.
 */
export function startOutboundWorker(options: OutboundWorkerOptions): OutboundWorker {
  const { db, telegram, secrets } = options;
  const logger = options.logger.child({ queue: QUEUE });
  const metrics = outboundMetrics(options.registry);
  const messageLimit = options.messageLimit ?? TELEGRAM_MESSAGE_LIMIT;
  const chatActionMaxAgeMs = options.chatActionMaxAgeMs ?? 5000;
  const chatLimiter = new ChatRateLimiter(
    options.connection,
    `${options.prefix}:${QUEUE}:chat-limit`,
    options.chatLimits ?? defaultChatRateLimits,
  );
  const queue = new Queue(QUEUE, { connection: options.connection, prefix: options.prefix });
  const globalRate = options.globalRate === undefined ? { max: 30, durationMs: 1000 } : options.globalRate;

  // Applied before the first job runs and again after a failure to apply it.
  let globalLimit: Promise<void> | undefined;
  const applyGlobalLimit = () =>
    (globalLimit ??= (async () => {
      if (globalRate) await queue.setGlobalRateLimit(globalRate.max, globalRate.durationMs);
      else await queue.removeGlobalRateLimit();
    })().catch((err: unknown) => {
      globalLimit = undefined;
      throw err;
    }));
  applyGlobalLimit().catch((err: unknown) =>
    logger.error({ err: { message: describeError(err, secrets) } }, 'could not set the global send rate; retrying with the first job'),
  );

  /**
   * A chat reads its messages in the order they were written. Sends are put off (the
   * chat's budget, a 429 that pauses the queue, a retry) and jobs run side by side, so
   * without this a later reply would overtake an earlier one; while an earlier message
   * of the chat still has a delivery job that has not finished, this one waits behind it.
   */
  async function waitBehindEarlier(earlier: readonly string[], job: Job, log: Logger): Promise<void> {
    if (earlier.length === 0) return;
    // One round trip for them all, and only the two fields that answer it: a job that
    // exists (it has a name) and has not finished. Reading each whole job was a round
    // trip and a parse per earlier reply, on every reply's path.
    const jobIdsBefore = earlier.map((id) => jobIds.deliverMessage(id));
    const pipeline = options.connection.pipeline();
    for (const id of jobIdsBefore) pipeline.hmget(queue.toKey(id), 'name', 'finishedOn');
    const answers = (await pipeline.exec()) ?? [];
    const aheadIndex = answers.findIndex(([err, fields]) => {
      if (err) throw err;
      const [name, finishedOn] = fields as [string | null, string | null];
      return name !== null && finishedOn === null;
    });
    if (aheadIndex < 0) return;
    log.debug({ behind: jobIdsBefore[aheadIndex] }, 'an earlier message of the chat is still on its way; waiting behind it');
    await job.moveToDelayed(Date.now() + ORDER_RECHECK_MS, job.token);
    throw new DelayedError();
  }

  const jobLogger = (job: Job, chatId: string) => logger.child({ jobId: job.id, job: job.name, chatId });

  const sender = new Sender(telegram, metrics, secrets);

  /** Sends the parts not yet recorded; 'left' when it stopped early for another delivery or a shutdown. */
  async function deliver(delivery: Delivery, job: Job, log: Logger, signal?: AbortSignal): Promise<'delivered' | 'empty' | 'left'> {
    const { text } = delivery;
    const parts = splitTelegramHtml(text.html, messageLimit);
    if (parts.length === 0) return 'empty';
    const alreadySent = text.sentTelegramMessageIds.length;
    if (alreadySent >= parts.length) {
      log.info({ parts: parts.length }, 'already delivered; nothing sent again');
      return 'delivered';
    }
    let attempted = false;
    for (let index = alreadySent; index < parts.length; index++) {
      // Handed back at shutdown: whoever runs the job next resumes from the record.
      if (signal?.aborted) return 'left';
      const waitMs = await chatLimiter.reserve(text.chatId);
      if (waitMs > 0) {
        log.debug({ waitMs, part: index }, 'chat is over its send budget; putting the job off');
        await job.moveToDelayed(Date.now() + waitMs, job.token);
        throw new DelayedError();
      }
      if (!attempted) {
        attempted = true;
        await delivery.onAttempt?.();
      }
      const last = index === parts.length - 1;
      let telegramMessageId: number;
      try {
        telegramMessageId = await sender.send(
          text.chatId,
          parts[index] as MessagePart,
          last ? text.replyMarkup : null,
          delivery.kind,
          job.name,
          log,
        );
      } catch (err) {
        throw await failed(err, delivery, job, log);
      }
      if (!(await delivery.recordPart(index, telegramMessageId, last))) {
        log.warn({ part: index }, 'another delivery of this text recorded the part first; leaving the rest to it');
        return 'left';
      }
    }
    log.info({ parts: parts.length, sentNow: parts.length - alreadySent }, 'delivered');
    return 'delivered';
  }

  /** Turns a failed send into what BullMQ should do with the job. */
  async function failed(err: unknown, delivery: Delivery, job: Job, log: Logger): Promise<Error> {
    const failure = classifyFailure(err, secrets);
    metrics.failures.inc({ job: job.name, reason: failure.kind === 'transient' ? failure.reason : failure.kind });
    switch (failure.kind) {
      case 'rate_limited':
        log.warn({ retryAfterMs: failure.retryAfterMs }, 'Telegram asked to slow down; pausing the queue');
        await queue.rateLimit(failure.retryAfterMs);
        return Worker.RateLimitError();
      case 'rejected':
        log.error({ err: { message: failure.message } }, 'Telegram refused the message; it will not be tried again');
        await delivery.onFailure?.(failure.message, true);
        return new UnrecoverableError(failure.message);
      case 'transient': {
        const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        log[final ? 'error' : 'warn'](
          { err: { message: failure.message }, reason: failure.reason, attempt: job.attemptsMade + 1 },
          final ? 'sending failed on the last attempt; giving up' : 'sending failed; it will be retried',
        );
        await delivery.onFailure?.(failure.message, final);
        return new Error(failure.message);
      }
    }
  }

  function undeliverable(job: Job, log: Logger, what: string): UnrecoverableError {
    metrics.failures.inc({ job: job.name, reason: 'not_found' });
    log.error(`${what}; nothing to deliver`);
    return new UnrecoverableError(what);
  }

  const handlers: Handlers<typeof QUEUE> = {
    'deliver-message': async ({ chatId, messageId }, job, signal) => {
      const log = jobLogger(job, chatId).child({ messageId });
      const [text] = await Promise.all([findOutboundMessage(db, messageId, ORDER_LOOKBACK), applyGlobalLimit()]);
      if (!text) throw undeliverable(job, log, `no assistant message ${messageId}`);
      if (BigInt(text.chatId) !== BigInt(chatId)) throw undeliverable(job, log, `message ${messageId} belongs to another chat`);
      await waitBehindEarlier(text.earlierMessageIds, job, log);
      const outcome = await deliver(
        { kind: 'message', text, recordPart: (index, id, last) => recordMessagePartSent(db, messageId, index, id, { last }) },
        job,
        log,
        signal,
      );
      if (outcome === 'empty') log.warn('the message has no text to send');
    },

    'deliver-notification': async ({ chatId, notificationId }, job, signal) => {
      const log = jobLogger(job, chatId).child({ notificationId });
      await applyGlobalLimit();
      const notification = await findOutboundNotification(db, notificationId);
      if (!notification) throw undeliverable(job, log, `no notification ${notificationId}`);
      if (BigInt(notification.chatId) !== BigInt(chatId)) {
        throw undeliverable(job, log, `notification ${notificationId} belongs to another chat`);
      }
      if (notification.status === 'sent') {
        log.info('notification was sent already; nothing sent again');
        return;
      }
      const outcome = await deliver(
        {
          kind: 'notification',
          text: notification,
          recordPart: (index, id) => recordNotificationPartSent(db, notificationId, index, id),
          onAttempt: () => recordNotificationAttempt(db, notificationId),
          onFailure: (error, final) => recordNotificationFailure(db, notificationId, error, final),
        },
        job,
        log,
        signal,
      );
      if (outcome === 'delivered') await markNotificationSent(db, notificationId);
      if (outcome === 'empty') {
        await recordNotificationFailure(db, notificationId, 'the notification text is empty', true);
        throw undeliverable(job, log, `notification ${notificationId} has no text`);
      }
    },

    'chat-action': async ({ chatId, action }, job) => {
      const log = jobLogger(job, chatId);
      if (Date.now() - job.timestamp > chatActionMaxAgeMs) {
        metrics.chatActions.inc({ outcome: 'stale' });
        log.debug({ action }, 'chat action is stale; dropped');
        return;
      }
      await applyGlobalLimit();
      try {
        await telegram.sendChatAction({ chat_id: chatId, action });
        metrics.chatActions.inc({ outcome: 'sent' });
      } catch (err) {
        const failure = classifyFailure(err, secrets);
        metrics.chatActions.inc({ outcome: 'failed' });
        metrics.failures.inc({ job: job.name, reason: failure.kind === 'transient' ? failure.reason : failure.kind });
        // Retried only while it still means something: a retry that finds it stale drops it.
        if (failure.kind === 'transient') {
          log.debug({ err: { message: failure.message } }, 'chat action failed; retrying while it is fresh');
          throw new Error(failure.message);
        }
        log.warn({ err: { message: failure.message }, action }, 'chat action not shown');
      }
    },
  };

  const managed = createWorker(QUEUE, handlers, {
    connection: options.connection,
    prefix: options.prefix,
    logger: options.logger,
    concurrency: options.concurrency ?? 8,
    registry: options.registry,
  });

  return {
    name: QUEUE,
    worker: managed.worker,
    close: async (deadlineMs) => {
      try {
        await managed.close(deadlineMs);
      } finally {
        await queue.close();
      }
    },
  };
}

/** Sends one part as HTML, and again as plain text when Telegram cannot parse the HTML. */
class Sender {
  constructor(
    private readonly telegram: TelegramSender,
    private readonly metrics: OutboundMetrics,
    private readonly secrets: readonly string[],
  ) {}

  async send(
    chatId: string,
    part: MessagePart,
    replyMarkup: Record<string, unknown> | null,
    kind: Delivery['kind'],
    job: string,
    log: Logger,
  ): Promise<number> {
    const base = {
      chat_id: chatId,
      ...(replyMarkup && { reply_markup: replyMarkup as SendMessageParams['reply_markup'] }),
    };
    try {
      const sent = await this.telegram.sendMessage({ ...base, text: part.html, parse_mode: 'HTML' });
      this.metrics.partsSent.inc({ kind, format: 'html' });
      return sent.message_id;
    } catch (err) {
      if (!isHtmlRejected(err)) throw err;
      this.metrics.failures.inc({ job, reason: 'html_rejected' });
      log.warn({ err: { message: describeError(err, this.secrets) } }, 'Telegram could not parse the HTML; sending the part as plain text');
    }
    const sent = await this.telegram.sendMessage({ ...base, text: part.plain });
    this.metrics.partsSent.inc({ kind, format: 'plain' });
    return sent.message_id;
  }
}
