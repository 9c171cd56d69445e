import { createHash } from 'node:crypto';
import type { EmbeddingProvider } from '@dealdome/ai';
import { rejectBlankTexts } from '@dealdome/ai';
import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { toVectorBinary } from '@dealdome/db';
import { sql } from 'kysely';
import type { EmbeddingMetrics } from './metrics';

export interface BatcherOptions {
  db: Database;
  provider: EmbeddingProvider;
  /** Texts per batch at most. */
  batchSize: number;
  /** How long the first text of a batch waits for more. */
  waitMs: number;
  metrics: EmbeddingMetrics;
  logger: Logger;
}

interface Waiting {
  text: string;
  /** sha256 of the text, hex. */
  key: string;
  resolve(): void;
  reject(err: unknown): void;
}

/** The cache key of a text: its sha256, hex. */
export const textKey = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Rows per INSERT into the cache: three parameters each, and a statement takes at most 65,535. */
const INSERT_ROWS = 2048;

/** A cache entry's last_used_at is moved forward at most once a day: hits stay reads. */
const TOUCH_AFTER = '1 day';

/**
 * Gathers texts from every job running in this process into batches (full at
 * `batchSize`, or sent `waitMs` after its first text) and makes sure
 * `embedding_cache` holds a vector of the model for each (model + sha256 of the
 * text): texts already there cost one lookup of their keys, the others go to the
 * provider — each distinct text once per batch — and are added. Jobs then copy the
 * vectors from the cache inside the database, so a vector crosses the wire once, on
 * its way in. A failed batch rejects only its own texts; each job whose texts failed
 * is retried by the queue, the others carry on.
 */
export class EmbeddingBatcher {
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: BatcherOptions) {}

  get model(): string {
    return this.options.provider.model;
  }

  /**
   * Resolves once the cache holds a vector of the model for every text; returns
   * their keys (textKey), in order. Blank texts are refused (see rejectBlankTexts).
   */
  async ensureCached(texts: readonly string[]): Promise<string[]> {
    rejectBlankTexts(texts);
    const keys = texts.map(textKey);
    const done = Promise.all(
      texts.map(
        (text, i) =>
          new Promise<void>((resolve, reject) => {
            this.waiting.push({ text, key: keys[i]!, resolve, reject });
          }),
      ),
    );
    while (this.waiting.length >= this.options.batchSize) this.send(this.waiting.splice(0, this.options.batchSize));
    if (this.waiting.length > 0) this.timer ??= setTimeout(() => this.sendWaiting(), this.options.waitMs);
    await done;
    return keys;
  }

  private sendWaiting(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.length > 0) this.send(this.waiting.splice(0));
  }

  private send(batch: Waiting[]): void {
    // run() settles every text of the batch itself and never rejects.
    void this.run(batch);
  }

  private async run(batch: Waiting[]): Promise<void> {
    const { db, provider, metrics } = this.options;
    metrics.batchSize.observe(batch.length);
    try {
      const texts = new Map(batch.map((w) => [w.key, w.text]));
      const cached = await this.cachedKeys([...texts.keys()]);
      const fromCache = batch.filter((w) => cached.has(w.key)).length;
      metrics.texts.inc({ source: 'cache' }, fromCache);
      const missing = [...texts].filter(([key]) => !cached.has(key));
      if (missing.length > 0) {
        const started = performance.now();
        let vectors: number[][];
        try {
          vectors = await provider.embed(missing.map(([, text]) => text));
        } catch (err) {
          metrics.providerFailures.inc({ model: provider.model });
          throw err;
        } finally {
          metrics.providerLatency.observe({ model: provider.model }, (performance.now() - started) / 1000);
        }
        // Binary parameters: no float is formatted here or parsed by PostgreSQL (see toVectorBinary).
        for (let from = 0; from < missing.length; from += INSERT_ROWS) {
          await db
            .insertInto('embedding_cache')
            .values(
              missing.slice(from, from + INSERT_ROWS).map(([key], i) => ({
                model: provider.model,
                text_sha256: Buffer.from(key, 'hex'),
                embedding: toVectorBinary(vectors[from + i]!),
              })),
            )
            .onConflict((oc) => oc.columns(['model', 'text_sha256']).doNothing())
            .execute();
        }
        metrics.texts.inc({ source: 'provider' }, batch.length - fromCache);
      }
      for (const w of batch) w.resolve();
    } catch (err) {
      this.options.logger.warn({ err: { message: (err as Error).message }, texts: batch.length }, 'a batch of texts could not be embedded; their jobs are retried');
      for (const w of batch) w.reject(err);
    }
  }

  /** The keys among `keys` (sha256 hex) the cache holds for the model, touching entries not used for a day. */
  private async cachedKeys(keys: string[]): Promise<Set<string>> {
    const { rows } = await sql<{ key: string }>`
      WITH wanted AS (SELECT decode(k, 'hex') AS sha FROM unnest(${keys}::text[]) AS k),
      touched AS (
        UPDATE embedding_cache SET last_used_at = now()
        WHERE model = ${this.model} AND text_sha256 IN (SELECT sha FROM wanted) AND last_used_at < now() - ${TOUCH_AFTER}::interval
      )
      SELECT encode(text_sha256, 'hex') AS key FROM embedding_cache
      WHERE model = ${this.model} AND text_sha256 IN (SELECT sha FROM wanted)`.execute(this.options.db);
    return new Set(rows.map((r) => r.key));
  }
}
