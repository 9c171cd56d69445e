import { createHash } from 'node:crypto';
import type { EmbeddingProvider } from '@dealdome/ai';
import { rejectBlankTexts } from '@dealdome/ai';
import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { toVectorBinary } from '@dealdome/db';
import { AppError } from '@dealdome/domain';
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
 * its way in. A failed batch rejects only its own texts, and a text the provider
 * refuses only itself (embedMissing); each job whose texts failed is retried by the
 * queue for those, the others carry on.
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
   * Rejects with the first failure when any text could not be embedded.
   */
  async ensureCached(texts: readonly string[]): Promise<string[]> {
    const settled = await this.ensureCachedSettled(texts);
    const failed = settled.find((t) => t.error !== undefined);
    if (failed) throw failed.error;
    return settled.map((t) => t.key);
  }

  /**
   * Like ensureCached, text by text: each text's key, and the error that kept it out
   * of the cache, if one did. A job writes the vectors it got and is retried for the rest.
   */
  async ensureCachedSettled(texts: readonly string[]): Promise<{ key: string; error?: unknown }[]> {
    rejectBlankTexts(texts);
    const keys = texts.map(textKey);
    const done = Promise.all(
      texts.map(
        (text, i) =>
          new Promise<{ key: string; error?: unknown }>((resolve) => {
            this.waiting.push({ text, key: keys[i]!, resolve: () => resolve({ key: keys[i]! }), reject: (error) => resolve({ key: keys[i]!, error }) });
          }),
      ),
    );
    while (this.waiting.length >= this.options.batchSize) this.send(this.waiting.splice(0, this.options.batchSize));
    if (this.waiting.length > 0) this.timer ??= setTimeout(() => this.sendWaiting(), this.options.waitMs);
    return done;
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
    const { metrics } = this.options;
    metrics.batchSize.observe(batch.length);
    let failures: Map<string, unknown>;
    try {
      const texts = new Map(batch.map((w) => [w.key, w.text]));
      const cached = await this.cachedKeys([...texts.keys()]);
      const fromCache = batch.filter((w) => cached.has(w.key)).length;
      metrics.texts.inc({ source: 'cache' }, fromCache);
      const missing = [...texts].filter(([key]) => !cached.has(key));
      failures = missing.length > 0 ? await this.embedMissing(missing) : new Map<string, unknown>();
      metrics.texts.inc({ source: 'provider' }, batch.filter((w) => !cached.has(w.key) && !failures.has(w.key)).length);
    } catch (err) {
      failures = new Map(batch.map((w) => [w.key, err]));
    }
    if (failures.size > 0) {
      const first = failures.values().next().value as Error;
      this.options.logger.warn({ err: { message: first.message }, texts: batch.length, failed: failures.size }, 'texts of a batch could not be embedded; their jobs are retried');
    }
    for (const w of batch) {
      if (failures.has(w.key)) w.reject(failures.get(w.key));
      else w.resolve();
    }
  }

  /**
   * Embeds `missing` ([key, text]) and adds the vectors to the cache; returns the keys
   * that failed, with their error. When the provider refuses an input of the request
   * (embedding_input_refused: a 400-class answer no retry changes), the texts are split in halves and
   * each half asked again, so one text it will not take fails alone rather than every
   * job batched with it. Other failures (an outage, a bad key or model, a database
   * error) fail them all at once: no half would fare better.
   */
  private async embedMissing(missing: [string, string][]): Promise<Map<string, unknown>> {
    const { db, provider, metrics } = this.options;
    const started = performance.now();
    const answer = await provider.embed(missing.map(([, text]) => text)).then(
      (vectors) => ({ vectors }),
      (error: unknown) => ({ error }),
    );
    metrics.providerLatency.observe({ model: provider.model }, (performance.now() - started) / 1000);
    if ('error' in answer) {
      metrics.providerFailures.inc({ model: provider.model });
      const refused = answer.error instanceof AppError && answer.error.code === 'embedding_input_refused';
      if (!refused || missing.length === 1) return new Map(missing.map(([key]) => [key, answer.error]));
      const half = Math.ceil(missing.length / 2);
      return new Map([...(await this.embedMissing(missing.slice(0, half))), ...(await this.embedMissing(missing.slice(half)))]);
    }
    const { vectors } = answer;
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
    return new Map();
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
