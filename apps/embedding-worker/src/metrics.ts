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
  };
}
