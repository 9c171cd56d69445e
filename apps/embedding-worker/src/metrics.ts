import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export interface EmbeddingMetrics {
  /** Texts given vectors, by where the vector came from (cache or provider). */
  texts: Counter<'source'>;
  /** Texts per batch handed to the cache lookup. */
  batchSize: Histogram;
  /** Wall time of one provider request (a batch's cache misses). */
  providerLatency: Histogram<'model'>;
  providerFailures: Counter<'model'>;
  /** Contradiction reviews of new memories, by outcome (kept, superseded, no_candidates). */
  memoryReviews: Counter<'outcome'>;
  /** Tokens the reviews cost, by model and direction (input, output). */
  memoryReviewTokens: Counter<'model' | 'direction'>;
}

/** On `registry` once; unregistered without one. Cache hit ratio = texts{source="cache"} / texts. */
export function embeddingMetrics(registry?: Registry): EmbeddingMetrics {
  const registers = registry ? [registry] : [];
  const existing = <M>(name: string) => registry?.getSingleMetric(name) as M | undefined;
  return {
    texts:
      existing<Counter<'source'>>('embedding_texts_total') ??
      new Counter({ name: 'embedding_texts_total', help: 'Texts given a vector, by source (cache, provider)', labelNames: ['source'], registers }),
    batchSize:
      existing<Histogram>('embedding_batch_size') ??
      new Histogram({ name: 'embedding_batch_size', help: 'Texts per batch', buckets: [1, 4, 16, 64, 128, 256, 512, 1024, 2048], registers }),
    providerLatency:
      existing<Histogram<'model'>>('embedding_provider_seconds') ??
      new Histogram({
        name: 'embedding_provider_seconds',
        help: 'Wall time of one provider request, retries included',
        labelNames: ['model'],
        buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
    providerFailures:
      existing<Counter<'model'>>('embedding_provider_failures_total') ??
      new Counter({ name: 'embedding_provider_failures_total', help: 'Provider requests that failed after their retries', labelNames: ['model'], registers }),
    memoryReviews:
      existing<Counter<'outcome'>>('memory_reviews_total') ??
      new Counter({ name: 'memory_reviews_total', help: 'Contradiction reviews of new memories, by outcome', labelNames: ['outcome'], registers }),
    memoryReviewTokens:
      existing<Counter<'model' | 'direction'>>('memory_review_tokens_total') ??
      new Counter({ name: 'memory_review_tokens_total', help: 'Tokens spent on memory reviews', labelNames: ['model', 'direction'], registers }),
  };
}
