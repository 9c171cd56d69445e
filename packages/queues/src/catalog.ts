import { z } from 'zod';

/**
 * W3C trace context (traceparent/tracestate) carried inside job data, so one
 * trace follows a message from the gateway through every worker it touches.
 */
export const traceCarrierSchema = z.record(z.string(), z.string());
export type TraceCarrier = z.infer<typeof traceCarrierSchema>;

const uuid = z.uuid();
// Telegram chat ids exceed 2^31 and may be negative (groups): kept as decimal strings.
const chatId = z.string().regex(/^-?\d{1,20}$/, 'a Telegram chat id as a decimal string');

/** Every field a job carries is an id or a small instruction, never a copy of a record. */
export const catalog = {
  'agent-turns': {
    jobs: {
      /** Answer the user messages of one chat that are not yet answered, as one turn. */
      'run-turn': z.object({ chatId, conversationId: uuid, messageIds: z.array(uuid).min(1) }),
      /**
       * Run a scheduled agent check (a scheduled task of kind agent_check) for its slot: the
       * task's agent gets the stored prompt, and its answer goes to the chat only when the
       * agent decides it is worth sending. Queued by the scheduler's worker.
       */
      'run-check': z.object({ taskId: uuid, dueAt: z.iso.datetime({ offset: true }) }),
    },
    defaults: { attempts: 3, backoff: { type: 'exponential', delay: 2000 } },
  },
  'telegram-outbound': {
    jobs: {
      /** Deliver the stored assistant message; its recorded Telegram ids make a retry send nothing twice. */
      'deliver-message': z.object({ chatId, messageId: uuid }),
      /** Deliver a stored notification (reminder, alert, digest). */
      'deliver-notification': z.object({ chatId, notificationId: uuid }),
      'chat-action': z.object({ chatId, action: z.enum(['typing', 'upload_document']) }),
    },
    defaults: { attempts: 8, backoff: { type: 'exponential', delay: 1000 } },
  },
  embeddings: {
    jobs: {
      embed: z.object({
        kind: z.enum(['chunk', 'memory', 'product']),
        ids: z.array(uuid).min(1).max(1000),
      }),
      /** Ask Claude whether a new memory makes older ones of its scope untrue; those are superseded. */
      'review-memory': z.object({ memoryId: uuid }),
      /** Turn an uploaded or posted transcript into chunks, then queue their embeddings. */
      'ingest-transcript': z.object({ videoId: uuid }),
    },
    defaults: { attempts: 5, backoff: { type: 'exponential', delay: 2000 } },
  },
  'scheduled-tasks': {
    jobs: {
      /** Run one slot of a scheduled task; queued by the scheduler's clock. */
      'run-task': z.object({ taskId: uuid, dueAt: z.iso.datetime({ offset: true }) }),
      /** Delete what has outlived its use (expired refresh tokens, old updates and search metrics); a BullMQ job scheduler adds it. */
      housekeeping: z.object({}),
    },
    defaults: { attempts: 3, backoff: { type: 'exponential', delay: 5000 } },
  },
  'shopify-sync': {
    jobs: {
      /** Read the store's orders changed since its cursor into the finance tables; 'webhook': Shopify announced a change. */
      'sync-store': z.object({ storeId: uuid, reason: z.enum(['schedule', 'backfill', 'manual', 'webhook']) }),
    },
    defaults: { attempts: 5, backoff: { type: 'exponential', delay: 10000 } },
  },
} as const satisfies Record<
  string,
  {
    jobs: Record<string, z.ZodObject>;
    defaults: { attempts: number; backoff: { type: 'exponential' | 'fixed'; delay: number } };
  }
>;

export type QueueName = keyof typeof catalog;
export type JobName<Q extends QueueName> = keyof (typeof catalog)[Q]['jobs'] & string;
export type JobPayload<Q extends QueueName, J extends JobName<Q>> = z.infer<(typeof catalog)[Q]['jobs'][J]>;
/** What is stored in Redis: the payload plus the trace carrier. */
export type JobData<Q extends QueueName, J extends JobName<Q>> = JobPayload<Q, J> & { trace?: TraceCarrier };

/** 2026-03-29T01:30:00.000Z → 20260329T013000.000Z. */
const basicInstant = (instant: Date) => instant.toISOString().replace(/[-:]/g, '');

/**
 * Job ids, one convention for every producer: a second add with the same id is a
 * no-op while the job is kept, so each is derived from the row the job carries.
 */
export const jobIds = {
  runTurn: (messageId: string) => `run-turn-${messageId}`,
  deliverMessage: (messageId: string) => `deliver-message-${messageId}`,
  ingestTranscript: (videoId: string) => `ingest-transcript-${videoId}`,
  embedMemory: (memoryId: string) => `embed-memory-${memoryId}`,
  /** The product with the key of the text it is embedded by (productEmbeddingKey): an unchanged product adds nothing. */
  embedProduct: (productId: string, textKey: string) => `embed-product-${productId}-${textKey}`,
  /** A backfill's batch of one kind: the key of its kind, model and ids, so a restart re-queues nothing still kept. */
  embedBackfillBatch: (kind: string, batchKey: string) => `embed-backfill-${kind}-${batchKey}`,
  reviewMemory: (memoryId: string) => `review-memory-${memoryId}`,
  /** One slot of a task. The instant is written in ISO 8601 basic format: BullMQ reserves ":" in job ids. */
  runTask: (taskId: string, dueAt: Date) => `run-task-${taskId}-${basicInstant(dueAt)}`,
  /**
   * A run an operator asked for (`pnpm dealdome tasks:run`): "now-" keeps it apart from the
   * clock's ids, so it neither replaces nor is swallowed by a scheduled slot.
   */
  runTaskNow: (taskId: string, at: Date) => `run-task-now-${taskId}-${basicInstant(at)}`,
  runCheck: (taskId: string, dueAt: Date) => `run-check-${taskId}-${basicInstant(dueAt)}`,
  deliverNotification: (notificationId: string) => `deliver-notification-${notificationId}`,
  /** Webhook deliveries for a store within one window (see shopifyWebhookSyncWindow) share one sync. */
  shopifyWebhookSync: (storeId: string, window: number) => `sync-store-webhook-${storeId}-${window}`,
  /** The job scheduler that syncs a store's orders every 15 minutes. */
  shopifySchedule: (storeId: string) => `shopify-sync-${storeId}`,
};

export const queueNames = Object.keys(catalog) as QueueName[];

/** Completed jobs are kept briefly for inspection; failed ones long enough to be looked at and retried. */
export const retention = {
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
};

export function payloadSchema<Q extends QueueName, J extends JobName<Q>>(queue: Q, job: J): z.ZodObject {
  const jobs = catalog[queue].jobs as Record<string, z.ZodObject>;
  const schema = jobs[job];
  if (!schema) throw new Error(`queue ${queue} has no job named ${job}`);
  return schema;
}
