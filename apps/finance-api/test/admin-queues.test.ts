import { randomUUID } from 'node:crypto';
import { createLogger } from '@dealdome/config';
import { createWorker, Producer, queueNames } from '@dealdome/queues';
import type { ManagedWorker } from '@dealdome/queues';
import { useFinanceApi } from './harness';

const logger = createLogger('admin-queues-test', { level: 'silent' });
const CHALLENGE = 'Basic realm="DealDome queues"';
const LOGIN_LIMIT = 3;

describe('finance-api queue board at /admin/queues', () => {
  const api = useFinanceApi({ LOGIN_RATE_LIMIT_MAX: String(LOGIN_LIMIT) });
  let admin: Awaited<ReturnType<typeof api.userWithToken>>;
  let member: Awaited<ReturnType<typeof api.userWithToken>>;
  let producer: Producer;

  beforeAll(async () => {
    admin = await api.userWithToken('admin');
    member = await api.userWithToken('member');
    producer = new Producer(api.redis.redis, api.redis.prefix);
  });
  afterAll(async () => {
    await producer.close();
  });

  const basic = (email: string, password: string) => `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;

  async function board(path: string, options: { authorization?: string; method?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.authorization) headers.authorization = options.authorization;
    const res = await fetch(`${api.url}/admin/queues${path}`, { method: options.method ?? 'GET', headers });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // HTML or empty: kept as text
    }
    return { status: res.status, headers: res.headers, body };
  }

  /** Runs `sync-store` jobs with `handler` until the test's work is done. */
  async function withSyncWorker<T>(handler: () => Promise<unknown>, run: () => Promise<T>): Promise<T> {
    const worker: ManagedWorker = createWorker(
      'shopify-sync',
      { 'sync-store': handler },
      { connection: api.redis.redis, prefix: api.redis.prefix, logger },
    );
    try {
      return await run();
    } finally {
      await worker.close(2000);
    }
  }

  async function waitForState(jobId: string, state: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await producer.queue('shopify-sync').getJobState(jobId)) !== state) {
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not become ${state}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('when nobody signs in, or with a wrong password or token, then the board answers 401 with a Basic challenge', async () => {
    for (const authorization of [undefined, basic(admin.email, 'not-the-password'), 'Bearer not-a-token']) {
      for (const path of ['', '/api/queues']) {
        const res = await board(path, authorization === undefined ? {} : { authorization });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
    }
  });

  it('when a member signs in, by password or by token, then the board answers 403', async () => {
    for (const authorization of [basic(member.email, member.password), `Bearer ${member.accessToken}`]) {
      const res = await board('/api/queues', { authorization });
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toBeNull();
    }
  });

  it('when an admin signs in with Basic, then the page and its scripts are served under a policy that allows them', async () => {
    const page = await board('', { authorization: basic(admin.email, admin.password) });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toContain('<title>DealDome queues</title>');
    expect(page.body).toContain('<base href="/admin/queues/"');
    // Every script is a file of this server, which the policy allows; none is inline.
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toMatch(/script-src 'self'(;|$)/);
    const scripts = [...(page.body as string).matchAll(/<script defer src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const res = await board(`/${script}`, { authorization: basic(admin.email, admin.password) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/javascript/);
    }
  });

  it("when an admin's access token is sent, then the board's API lists every queue of the catalog", async () => {
    const res = await board('/api/queues', { authorization: `Bearer ${admin.accessToken}` });
    expect(res.status).toBe(200);
    expect(res.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([...queueNames].sort());
  });

  it('when a job has failed, then an admin sees it with its reason, retries it and it runs again to completion', async () => {
    let calls = 0;
    const jobId = `admin-retry-${randomUUID()}`;
    await withSyncWorker(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('Shopify answered 503');
        return { synced: true };
      },
      async () => {
        // One attempt, so the first failure is final and the job waits in "failed" for an operator.
        await producer.queue('shopify-sync').add('sync-store', { storeId: randomUUID(), reason: 'manual' }, { jobId, attempts: 1 });
        await waitForState(jobId, 'failed');

        const listed = await board('/api/queues?activeQueue=shopify-sync&status=failed&page=1', {
          authorization: basic(admin.email, admin.password),
        });
        expect(listed.status).toBe(200);
        const queue = listed.body.queues.find((q: { name: string }) => q.name === 'shopify-sync');
        expect(queue.counts.failed).toBe(1);
        expect(queue.jobs).toEqual([expect.objectContaining({ id: jobId, name: 'sync-store', failedReason: 'Shopify answered 503' })]);

        const retried = await board(`/api/queues/shopify-sync/${jobId}/retry`, {
          method: 'PUT',
          authorization: basic(admin.email, admin.password),
          headers: { 'sec-fetch-site': 'same-origin' },
        });
        expect(retried.status).toBe(204);
        await waitForState(jobId, 'completed');
        expect(calls).toBe(2);
      },
    );
  });

  it('when an admin removes a failed job, then it is gone; the same request sent from another site is refused', async () => {
    const jobId = `admin-remove-${randomUUID()}`;
    await withSyncWorker(
      async () => {
        throw new Error('unreachable: the payload is refused before any handler runs');
      },
      async () => {
        // Written past the producer's check, as a buggy producer might: failed at once as unrecoverable.
        await producer.queue('shopify-sync').add('sync-store', { storeId: 'not-a-uuid', reason: 'manual' }, { jobId });
        await waitForState(jobId, 'failed');
      },
    );
    const authorization = basic(admin.email, admin.password);

    const job = await board(`/api/queues/shopify-sync/${jobId}`, { authorization });
    expect(job.status).toBe(200);
    expect(job.body.job.failedReason).toMatch(/^invalid payload: storeId/);

    const crossSite = await board(`/api/queues/shopify-sync/${jobId}/clean`, { method: 'PUT', authorization, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    expect(await producer.queue('shopify-sync').getJobState(jobId)).toBe('failed');

    const removed = await board(`/api/queues/shopify-sync/${jobId}/clean`, { method: 'PUT', authorization });
    expect(removed.status).toBe(204);
    expect(await producer.queue('shopify-sync').getJob(jobId)).toBeUndefined();
  });

  it('when wrong Basic passwords reach the login limit, then the board and POST /v1/auth/login both answer 429 for that email', async () => {
    const target = await api.userWithToken('admin');
    // Right passwords are not failures: more of them than the limit change nothing.
    for (let i = 0; i <= LOGIN_LIMIT; i++) {
      expect((await board('/api/queues', { authorization: basic(target.email, target.password) })).status).toBe(200);
    }
    for (let i = 0; i < LOGIN_LIMIT; i++) {
      expect((await board('/api/queues', { authorization: basic(target.email, `wrong-${i}`) })).status).toBe(401);
    }

    expect((await board('/api/queues', { authorization: basic(target.email, target.password) })).status).toBe(429);
    const login = await api.request('POST', '/v1/auth/login', { body: { email: target.email, password: target.password } });
    expect(login.status).toBe(429);
    // A bearer token is no password attempt: the admin's token still opens the board.
    expect((await board('/api/queues', { authorization: `Bearer ${target.accessToken}` })).status).toBe(200);
  });
});
