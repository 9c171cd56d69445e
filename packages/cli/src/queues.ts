import { Option } from 'commander';
import type { Command } from 'commander';
import { baseEnvSchema, createLogger, parseEnv } from '@dealdome/config';
import { assertQueuePrefixFits, cleanableStates, cleanJobs, countedStates, openRedis, Producer, queueCounts, queueNamed, queueNames, redisDependency, retryFailedJobs } from '@dealdome/queues';
import type { CleanableState } from '@dealdome/queues';
import { columns, duration, wholeNumber } from './options';

/**
 * `pnpm dealdome queues:*`: counts, retrying failed jobs and cleaning finished ones,
 * over the queues of the catalog (the work itself is packages/queues' admin.ts, which
 * finance-api's board at /admin/queues shares the catalog with).
 */

const queueEnv = baseEnvSchema.pick({ REDIS_URL: true, QUEUE_PREFIX: true });

/** A producer on REDIS_URL under QUEUE_PREFIX, for one command; a Redis that does not answer is an error, not a hang. */
export async function withProducer<T>(run: (producer: Producer) => Promise<T>): Promise<T> {
  const env = parseEnv('dealdome', queueEnv);
  assertQueuePrefixFits(env.REDIS_URL, env.QUEUE_PREFIX);
  const redis = await openRedis(env.REDIS_URL, createLogger('dealdome-cli', { level: 'silent' }), 'dealdome-cli', 5000);
  const producer = new Producer(redis, env.QUEUE_PREFIX);
  try {
    return await run(producer);
  } finally {
    await producer.close();
    await redisDependency(redis).close();
  }
}

const queueArgument = `one of ${queueNames.join(', ')}`;

export function registerQueueCommands(program: Command, out: (line: string) => void): void {
  program
    .command('queues:counts')
    .description('jobs per state in every queue (waiting includes prioritized jobs and those held by a paused queue)')
    .action(async () => {
      const counts = await withProducer(queueCounts);
      const rows = counts.map((c) => [c.paused ? `${c.queue} (paused)` : c.queue, ...countedStates.map((state) => c[state])]);
      for (const line of columns([['queue', ...countedStates], ...rows])) out(line);
    });

  program
    .command('queues:retry')
    .description('move failed jobs of a queue back to waiting, oldest failure first, each with its attempts restored')
    .argument('<queue>', queueArgument)
    .option('--limit <n>', 'retry at most this many (default: every failed job)')
    .action(async (name: string, options: { limit?: string }) => {
      const queue = queueNamed(name);
      const limit = options.limit === undefined ? undefined : wholeNumber(options.limit, '--limit', 1, 100_000);
      const result = await withProducer((producer) => retryFailedJobs(producer, queue, limit === undefined ? {} : { limit }));
      out(`retried ${result.retried.length} failed ${result.retried.length === 1 ? 'job' : 'jobs'} of ${queue}`);
      if (result.gone.length > 0) out(`${result.gone.length} left the failed list meanwhile (retried or removed elsewhere): ${result.gone.join(', ')}`);
    });

  program
    .command('queues:clean')
    .description('delete the completed or failed jobs of a queue that finished longer ago than a duration (retention would delete them later)')
    .argument('<queue>', queueArgument)
    .addOption(new Option('--state <state>', 'which finished jobs').choices(cleanableStates).makeOptionMandatory())
    .requiredOption('--older-than <duration>', 'how long ago they finished, with a unit: 30m, 1h, 7d (0s: all of them)')
    .action(async (name: string, options: { state: CleanableState; olderThan: string }) => {
      const queue = queueNamed(name);
      const olderThanMs = duration(options.olderThan, '--older-than');
      const removed = await withProducer((producer) => cleanJobs(producer, queue, { state: options.state, olderThanMs }));
      out(`removed ${removed.length} ${options.state} ${removed.length === 1 ? 'job' : 'jobs'} of ${queue} that finished over ${options.olderThan} ago`);
    });
}
