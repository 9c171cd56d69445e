import type { Queue } from 'bullmq';
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { scrapedGauge } from '@dealdome/config';
import { jobCounts } from './admin';

/** What every worker reports on its service's /metrics (createWorker records them). */
export interface JobMetrics {
  /** Wall time of one attempt, by how it ended: completed, failed, or handed back at shutdown. */
  duration: Histogram<'queue' | 'job' | 'outcome'>;
  /** Failed attempts; final="true" when no retry follows (out of attempts, or unrecoverable). */
  failures: Counter<'queue' | 'job' | 'final'>;
}

/** On `registry` once (a service's workers share them); unregistered without one. */
export function jobMetrics(registry?: Registry): JobMetrics {
  const registers = registry ? [registry] : [];
  const existing = <M>(name: string) => registry?.getSingleMetric(name) as M | undefined;
  return {
    duration:
      existing<Histogram<'queue' | 'job' | 'outcome'>>('job_duration_seconds') ??
      new Histogram({
        name: 'job_duration_seconds',
        help: 'Wall time of one job attempt, by queue, job name and outcome (completed, failed, handed_back)',
        labelNames: ['queue', 'job', 'outcome'],
        buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
        registers,
      }),
    failures:
      existing<Counter<'queue' | 'job' | 'final'>>('job_failures_total') ??
      new Counter({
        name: 'job_failures_total',
        help: 'Failed job attempts, by queue and job name; final="true" when no retry follows',
        labelNames: ['queue', 'job', 'final'],
        registers,
      }),
  };
}

const depthStates = ['waiting', 'active', 'delayed', 'failed'] as const;
const watched = new WeakMap<Registry, Set<Queue>>();

/**
 * Reports `queue`'s depth on `registry` as queue_jobs{queue, state}, read from Redis at
 * each scrape. Each service reports the queues it consumes, so every queue is reported
 * by every replica of its worker: dashboards take the max. Returns the way to stop.
 */
export function watchQueueDepth(registry: Registry, queue: Queue): () => void {
  let queues = watched.get(registry);
  if (!queues) {
    const set = new Set<Queue>();
    queues = set;
    watched.set(registry, set);
    scrapedGauge(registry, {
      name: 'queue_jobs',
      help: 'Jobs in a queue by state (waiting, active, delayed, failed), read at scrape time',
      labelNames: ['queue', 'state'],
      read: async () => {
        const counted = await Promise.all([...set].map(async (q) => ({ queue: q.name, counts: await jobCounts(q) })));
        return counted.flatMap(({ queue: name, counts }) => depthStates.map((state) => ({ labels: { queue: name, state }, value: counts[state] })));
      },
    });
  }
  queues.add(queue);
  return () => queues.delete(queue);
}
