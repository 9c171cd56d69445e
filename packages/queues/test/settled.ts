import type { Job } from 'bullmq';
import type { ManagedWorker } from '../src';

/** Resolves with the first `count` jobs the worker finishes, completed or failed. */
export function settled(worker: ManagedWorker, count: number): Promise<Job[]> {
  const done: Job[] = [];
  return new Promise((resolve) => {
    const onEnd = (job: Job | undefined) => {
      if (job) done.push(job);
      if (done.length === count) resolve(done);
    };
    worker.worker.on('completed', onEnd);
    worker.worker.on('failed', onEnd);
  });
}
