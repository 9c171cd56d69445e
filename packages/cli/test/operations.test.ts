import { createLogger } from '@dealdome/config';
import {
  authenticateApiToken,
  createScheduledTask,
  createUser,
  login,
  pauseScheduledTask,
  refresh,
  verifyCredentials,
} from '@dealdome/domain';
import { createWorker, jobIds, Producer, queueNames } from '@dealdome/queues';
import { useTestDatabase, useTestRedis } from '@dealdome/testkit';
import { buildProgram, describeError } from '../src/main';

const logger = createLogger('cli-test', { level: 'silent' });
const authConfig = { jwtSecret: 'x'.repeat(32), issuer: 'i', audience: 'a', accessTokenTtlSeconds: 60, refreshTokenTtlSeconds: 600 };

describe('pnpm dealdome users:reset-password, api-tokens:*, tasks:* and queues:*', () => {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const saved = { ...process.env };
  let producer: Producer;

  beforeAll(() => {
    Object.assign(process.env, { DATABASE_URL: database.url, REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix });
    producer = new Producer(redis.redis, redis.prefix);
  });
  afterAll(async () => {
    process.env = saved;
    await producer.close();
  });

  async function run(...args: string[]): Promise<string[]> {
    const lines: string[] = [];
    await buildProgram((line) => lines.push(line)).exitOverride().parseAsync(['node', 'dealdome', ...args]);
    return lines;
  }
  const db = () => database.handle.db;

  describe('users:reset-password', () => {
    it('when a password is reset, then only the printed one logs in and every earlier login is ended', async () => {
      const { password: old } = await createUser(db(), { email: 'reset@dealdome.test', role: 'member' });
      const first = await login(db(), authConfig, 'reset@dealdome.test', old);
      const second = await login(db(), authConfig, 'reset@dealdome.test', old);

      const lines = await run('users:reset-password', '--email', 'Reset@DealDome.test');

      expect(lines[0]).toMatch(/^new password for reset@dealdome.test \([0-9a-f-]{36}\): [A-Za-z0-9_-]{24}$/);
      expect(lines[1]).toBe('the password is shown this once; store it now');
      expect(lines[2]).toMatch(/^ended 2 logins; access tokens already issued keep working until they expire/);
      const fresh = lines[0]!.split(': ')[1]!;
      await expect(verifyCredentials(db(), 'reset@dealdome.test', old)).rejects.toMatchObject({ status: 401 });
      await expect(verifyCredentials(db(), 'reset@dealdome.test', fresh)).resolves.toMatchObject({ email: 'reset@dealdome.test' });
      for (const pair of [first, second]) await expect(refresh(db(), authConfig, pair.refreshToken)).rejects.toMatchObject({ status: 401 });
    });

    it('when the email belongs to no active user, then it says so and changes nothing', async () => {
      const err = await run('users:reset-password', '--email', 'nobody@dealdome.test').catch((e: unknown) => e);
      expect(describeError(err)).toBe('an active user with email nobody@dealdome.test was not found.');
    });
  });

  describe('api-tokens', () => {
    it('when a token is created, then its printed secret authenticates with the scopes given, until it is revoked', async () => {
      const created = await run('api-tokens:create', '--name', 'BI export', '--scopes', 'finance:read, knowledge:read', '--expires-in-days', '30');
      const [, id, prefix, expires] = /^created API token ([0-9a-f-]{36}) "BI export" \((ddt_[\w-]{8})\), scopes finance:read, knowledge:read, expires (\S+)$/.exec(created[0]!)!;
      expect(Math.abs(Date.parse(expires!) - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);
      const secret = created[1]!.replace('token: ', '');
      expect(secret.startsWith(`${prefix}_`)).toBe(true);
      expect(created[2]).toBe('the token is shown this once; store it now');
      await expect(authenticateApiToken(db(), secret)).resolves.toMatchObject({ kind: 'api_token', tokenId: id, scopes: ['finance:read', 'knowledge:read'] });

      const listed = await run('api-tokens:list');
      expect(listed[0]).toMatch(/^id\s+prefix\s+name\s+scopes\s+expires\s+last used\s+revoked$/);
      expect(listed.find((line) => line.startsWith(id!))).toMatch(new RegExp(`^${id}  ${prefix}  BI export  finance:read,knowledge:read  ${expires}  \\S+\\s+-$`));

      expect(await run('api-tokens:revoke', id!)).toEqual([`revoked API token ${id}`]);
      await expect(authenticateApiToken(db(), secret)).rejects.toMatchObject({ status: 401 });
      expect((await run('api-tokens:list')).find((line) => line.startsWith(id!))).toMatch(/\d{4}-\d{2}-\d{2}T\S+Z$/);
    });

    it('when a scope is unknown or the id is not a token, then it says what is wrong', async () => {
      const badScope = await run('api-tokens:create', '--name', 'x', '--scopes', 'finance:read,everything').catch((e: unknown) => e);
      expect(describeError(badScope)).toMatch(/^The request is not valid\. scopes\.1: /);
      const created = await run('api-tokens:create', '--name', 'never expires', '--scopes', 'admin');
      expect(created[0]).toMatch(/scopes admin, never expires$/);
      await expect(run('api-tokens:revoke', 'ddt_abc')).rejects.toThrow('ddt_abc is not a token id');
      await expect(run('api-tokens:revoke', '00000000-0000-4000-8000-000000000000')).rejects.toThrow('the API token was not found.');
    });
  });

  describe('tasks', () => {
    it('when tasks are listed, then each shows its schedule, chat and next run; paused ones can be picked out', async () => {
      const daily = await createScheduledTask(db(), {
        kind: 'reminder',
        chatId: '-1001',
        cronExpression: '0 9 * * *',
        timezone: 'Europe/Amsterdam',
        payload: { text: 'stand-up' },
      });
      const check = await createScheduledTask(db(), {
        kind: 'agent_check',
        agent: 'roos',
        chatId: '-1002',
        runAt: new Date(Date.now() + 3_600_000),
        payload: { prompt: 'is ROAS below 1.5?' },
      });
      await pauseScheduledTask(db(), check.id);

      const all = await run('tasks:list');
      expect(all[0]).toMatch(/^id\s+kind\s+schedule\s+chat\s+next run\s+last run$/);
      expect(all.find((l) => l.startsWith(daily.id))).toMatch(
        new RegExp(`^${daily.id}  reminder\\s+cron "0 9 \\* \\* \\*" Europe/Amsterdam  -1001  ${daily.nextRunAt!.toISOString()}  -$`),
      );
      expect(all.find((l) => l.startsWith(check.id))).toMatch(/agent_check \(roos\)\s+once at \S+Z\s+-1002\s+paused\s+-$/);
      const paused = await run('tasks:list', '--paused');
      expect(paused.slice(1).map((l) => l.slice(0, 36))).toEqual([check.id]);
    });

    it("when a task is run now, then a run-task job is queued under an id apart from the clock's, and its schedule stays", async () => {
      const task = await createScheduledTask(db(), { kind: 'digest', chatId: '-1003', cronExpression: '30 7 * * *', timezone: 'UTC' });

      const lines = await run('tasks:run', task.id);

      const [, dueAt, jobId] = /^queued a run of digest task [0-9a-f-]{36} for (\S+) \(job (\S+)\)$/.exec(lines[0]!)!;
      const job = await producer.queue('scheduled-tasks').getJob(jobId!);
      expect(job?.name).toBe('run-task');
      expect(job?.data).toMatchObject({ taskId: task.id, dueAt });
      expect(jobId).toBe(jobIds.runTaskNow(task.id, new Date(dueAt!)));
      expect(jobId).not.toBe(jobIds.runTask(task.id, new Date(dueAt!)));
      expect(Math.abs(Date.parse(dueAt!) - Date.now())).toBeLessThan(10_000);
      const after = await db().selectFrom('scheduled_tasks').select('next_run_at').where('id', '=', task.id).executeTakeFirstOrThrow();
      expect(after.next_run_at).toEqual(task.nextRunAt);
    });

    it('when the task is paused or unknown, then nothing is queued and it says why', async () => {
      const task = await createScheduledTask(db(), { kind: 'reminder', chatId: '-1004', cronExpression: '0 * * * *', timezone: 'UTC', payload: { text: 'x' } });
      await pauseScheduledTask(db(), task.id);
      await expect(run('tasks:run', task.id)).rejects.toThrow(/the task is paused; resume it first/);
      await expect(run('tasks:run', 'not-an-id')).rejects.toThrow('the scheduled task was not found.');
      const queued = await producer.queue('scheduled-tasks').getJobs(['waiting'], 0, -1);
      expect(queued.filter((j) => (j.data as { taskId: string }).taskId === task.id)).toEqual([]);
    });
  });

  describe('queues', () => {
    /** Jobs on shopify-sync with a payload no worker accepts, failed once as unrecoverable by a real worker. */
    async function failedJobs(count: number): Promise<string[]> {
      const worker = createWorker('shopify-sync', { 'sync-store': async () => undefined }, { connection: redis.redis, prefix: redis.prefix, logger });
      const ids: string[] = [];
      try {
        for (let i = 0; i < count; i++) {
          // Written past the producer's check, as a buggy producer might.
          const job = await producer.queue('shopify-sync').add('sync-store', { storeId: `bad-${i}`, reason: 'manual' });
          ids.push(job.id!);
          // One at a time, so their failures are in order.
          const deadline = Date.now() + 10_000;
          while ((await job.getState()) !== 'failed') {
            if (Date.now() > deadline) throw new Error(`job ${job.id} did not fail`);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      } finally {
        await worker.close(2000);
      }
      return ids;
    }

    const countsOf = (lines: string[], queue: string) => lines.find((l) => l.startsWith(`${queue} `))!.trim().split(/\s+/).slice(1).map(Number);

    it('when queues:counts runs, then every queue of the catalog is listed with its jobs per state', async () => {
      const before = await run('queues:counts');
      await producer.enqueue('embeddings', 'review-memory', { memoryId: '00000000-0000-4000-8000-000000000001' });
      await producer.enqueue('embeddings', 'review-memory', { memoryId: '00000000-0000-4000-8000-000000000002' }, { delay: 60_000 });
      const lines = await run('queues:counts');

      expect(lines[0]).toMatch(/^queue\s+waiting\s+active\s+delayed\s+failed\s+completed$/);
      expect(lines.slice(1).map((l) => l.split(' ')[0]).sort()).toEqual([...queueNames].sort());
      const [waiting, active, delayed, failed, completed] = countsOf(before, 'embeddings');
      expect(countsOf(lines, 'embeddings')).toEqual([waiting! + 1, active, delayed! + 1, failed, completed]);
    });

    it('when queues:retry runs with --limit, then the oldest failures go back to waiting with their attempts restored', async () => {
      const [oldest, middle, newest] = await failedJobs(3);

      expect(await run('queues:retry', 'shopify-sync', '--limit', '2')).toEqual(['retried 2 failed jobs of shopify-sync']);
      const queue = producer.queue('shopify-sync');
      expect(await queue.getJobState(oldest!)).toBe('waiting');
      expect(await queue.getJobState(middle!)).toBe('waiting');
      expect(await queue.getJobState(newest!)).toBe('failed');
      expect((await queue.getJob(oldest!))?.attemptsMade).toBe(0);

      expect(await run('queues:retry', 'shopify-sync')).toEqual(['retried 1 failed job of shopify-sync']);
      expect(await queue.getJobState(newest!)).toBe('waiting');
      await queue.drain();
    });

    it('when queues:clean runs, then only jobs of that state that finished before the duration are removed', async () => {
      const ids = await failedJobs(2);
      const queue = producer.queue('shopify-sync');

      expect(await run('queues:clean', 'shopify-sync', '--state', 'failed', '--older-than', '1h')).toEqual([
        'removed 0 failed jobs of shopify-sync that finished over 1h ago',
      ]);
      expect(await run('queues:clean', 'shopify-sync', '--state', 'completed', '--older-than', '0s')).toEqual([
        'removed 0 completed jobs of shopify-sync that finished over 0s ago',
      ]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await run('queues:clean', 'shopify-sync', '--state', 'failed', '--older-than', '10ms')).toEqual([
        'removed 2 failed jobs of shopify-sync that finished over 10ms ago',
      ]);
      for (const id of ids) expect(await queue.getJob(id)).toBeUndefined();
    });

    it('when the queue, limit or duration is not one it takes, then it says what it takes', async () => {
      await expect(run('queues:retry', 'mail')).rejects.toThrow(`no queue is named mail; the queues are ${queueNames.join(', ')}`);
      await expect(run('queues:clean', 'embeddings', '--state', 'failed', '--older-than', '7')).rejects.toThrow(
        '--older-than must be a duration with a unit, such as 30m, 1h or 7d',
      );
      await expect(run('queues:retry', 'embeddings', '--limit', '0')).rejects.toThrow('--limit must be a whole number from 1 to 100000');
    });
  });
});
