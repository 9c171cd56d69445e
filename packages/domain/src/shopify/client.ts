import type { Logger } from '@dealdome/config';
import { sleep } from '../sleep';

/**
 * A client of Shopify's Admin GraphQL API (`POST {base}/admin/api/{version}/graphql.json`)
 * that paces itself by the calculated query cost.
 *
 * Shopify takes a query's requested cost from a leaky bucket before running it and
 * gives back what it did not use; every answer reports the bucket in
 * `extensions.cost.throttleStatus`. The client keeps the last report and, before a
 * query whose expected cost is more than the bucket holds by now, waits
 * (cost − available) / restoreRate seconds — so a paced client is not throttled.
 * When it is anyway (another app of the store, a first query made blind), a
 * THROTTLED answer is followed by the wait its own throttleStatus calls for, never by
 * an immediate retry. 5xx answers and network failures are retried with backoff;
 * other refusals are errors at once.
 */

export interface ShopifyThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface ShopifyQueryCost {
  requestedQueryCost: number;
  /** Null when the query did not run (throttled). */
  actualQueryCost: number | null;
  throttleStatus: ShopifyThrottleStatus;
}

/** Time, replaceable in tests and benches: `sleep` resolves early when the signal aborts. */
export interface ShopifyClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemShopifyClock: ShopifyClock = {
  now: () => Date.now(),
  sleep,
};

export type ShopifyErrorKind =
  /** 401/403: the token is wrong, revoked or lacks a scope. */
  | 'unauthorized'
  /** 404: no such shop or API version. */
  | 'not_found'
  /** The query costs more than a single query may (or than the bucket can ever hold). */
  | 'max_cost'
  /** GraphQL errors in the answer (a field the version lacks, a bad argument). */
  | 'graphql'
  /** Throttled again and again although the client waited each time. */
  | 'throttled'
  /** 5xx answers or network failures, after the retries. */
  | 'unavailable'
  /** Another HTTP refusal. */
  | 'http';

export class ShopifyApiError extends Error {
  constructor(
    readonly kind: ShopifyErrorKind,
    message: string,
    readonly details: { status?: number; code?: string; cost?: number; maxCost?: number } = {},
  ) {
    super(message);
    this.name = 'ShopifyApiError';
  }

  /** Whether trying again later can help (a job should be retried) or not (a person must act). */
  get retryable(): boolean {
    return this.kind === 'unavailable' || this.kind === 'throttled';
  }
}

export interface ShopifyRetryPolicy {
  /** Attempts in all for 5xx and network failures, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface ShopifyClientOptions {
  shopDomain: string;
  accessToken: string;
  apiVersion: string;
  /** Where the API is served; `https://{shopDomain}` by default. */
  baseUrl?: string;
  clock?: ShopifyClock;
  retry?: Partial<ShopifyRetryPolicy>;
  /** Per request. */
  timeoutMs?: number;
  /** THROTTLED answers in a row (each after its wait) before giving up. */
  maxConsecutiveThrottles?: number;
  logger?: Logger;
  /**
   * Where the bucket's last report is kept: clients of one store given the same
   * object start from what the previous one learnt instead of sending their first
   * query blind (see shopifyClientFor).
   */
  bucketMemory?: ShopifyBucketMemory;
}

/** The last throttleStatus a store reported, and when (clock milliseconds). */
export interface ShopifyBucketMemory {
  report?: { status: ShopifyThrottleStatus; at: number };
}

export interface ShopifyClientStats {
  requests: number;
  throttled: number;
  retries: number;
  /** Time spent waiting for the bucket (pacing and after THROTTLED). */
  waitedMs: number;
  /** Points actually charged (actualQueryCost summed). */
  pointsUsed: number;
}

export interface ShopifyQueryOptions {
  signal?: AbortSignal;
  /**
   * What the query is expected to cost (its requestedQueryCost). Without it the cost
   * the same document was last charged up front is used, and a document never sent
   * goes out unpaced.
   */
  expectedCost?: number;
}

/** The most a single query may cost, whatever the plan. */
export const SHOPIFY_MAX_QUERY_COST = 1000;

const DEFAULT_RETRY: ShopifyRetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 10_000 };

interface GraphQLAnswer {
  data?: unknown;
  errors?: unknown;
  extensions?: { cost?: Partial<ShopifyQueryCost> };
}

export class ShopifyClient {
  readonly endpoint: string;
  readonly stats: ShopifyClientStats = { requests: 0, throttled: 0, retries: 0, waitedMs: 0, pointsUsed: 0 };
  private readonly clock: ShopifyClock;
  private readonly retry: ShopifyRetryPolicy;
  private readonly lastRequested = new Map<string, number>();
  private readonly memory: ShopifyBucketMemory;

  constructor(private readonly options: ShopifyClientOptions) {
    const base = (options.baseUrl ?? `https://${options.shopDomain}`).replace(/\/+$/, '');
    this.endpoint = `${base}/admin/api/${encodeURIComponent(options.apiVersion)}/graphql.json`;
    this.clock = options.clock ?? systemShopifyClock;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.memory = options.bucketMemory ?? {};
  }

  private get bucket(): { status: ShopifyThrottleStatus; at: number } | undefined {
    return this.memory.report;
  }

  /** The bucket as last reported, if any answer has reported it. */
  get throttleStatus(): ShopifyThrottleStatus | undefined {
    return this.bucket?.status;
  }

  /** What the bucket should hold now: the last report plus what it regained since. */
  projectedAvailable(): number | undefined {
    if (!this.bucket) return undefined;
    const { status, at } = this.bucket;
    const regained = (Math.max(0, this.clock.now() - at) / 1000) * status.restoreRate;
    return Math.min(status.maximumAvailable, status.currentlyAvailable + regained);
  }

  /**
   * Runs a query and returns its data. Waits first when the bucket cannot pay for
   * it; throws ShopifyApiError for answers that are not data.
   */
  async query<T>(document: string, variables: Record<string, unknown> = {}, options: ShopifyQueryOptions = {}): Promise<{ data: T; cost: ShopifyQueryCost | undefined }> {
    let throttles = 0;
    for (;;) {
      const expected = options.expectedCost ?? this.lastRequested.get(document);
      if (expected !== undefined) await this.waitForPoints(expected, options.signal);
      const { answer, status } = await this.send(document, variables, options.signal);
      const cost = this.readCost(answer);
      if (cost) this.lastRequested.set(document, cost.requestedQueryCost);
      const errors = Array.isArray(answer.errors) ? (answer.errors as { message?: string; extensions?: { code?: unknown; cost?: unknown; maxCost?: unknown } }[]) : [];
      const throttled = status === 429 || errors.some((e) => e.extensions?.code === 'THROTTLED');
      if (throttled) {
        this.stats.throttled += 1;
        throttles += 1;
        if (throttles > (this.options.maxConsecutiveThrottles ?? 5)) {
          throw new ShopifyApiError('throttled', `Shopify answered THROTTLED ${throttles} times in a row for ${this.options.shopDomain}, although each retry waited for the bucket`);
        }
        // The answer says what the query asked for and what the bucket holds: wait exactly for the difference.
        const needed = cost?.requestedQueryCost ?? expected;
        const waitMs = needed !== undefined && this.bucket ? this.msUntil(needed) : 1000;
        this.options.logger?.warn({ shop: this.options.shopDomain, requested: needed, available: this.bucket?.status.currentlyAvailable, waitMs }, 'Shopify throttled a query; waiting for the bucket');
        await this.pause(Math.max(waitMs, 1), options.signal);
        continue;
      }
      const maxCost = errors.find((e) => e.extensions?.code === 'MAX_COST_EXCEEDED');
      if (maxCost) {
        throw new ShopifyApiError('max_cost', maxCost.message ?? 'the query costs more than a single query may', {
          code: 'MAX_COST_EXCEEDED',
          ...(typeof maxCost.extensions?.cost === 'number' && { cost: maxCost.extensions.cost }),
          ...(typeof maxCost.extensions?.maxCost === 'number' && { maxCost: maxCost.extensions.maxCost }),
        });
      }
      if (errors.length > 0) {
        const first = errors[0]!;
        const code = typeof first.extensions?.code === 'string' ? first.extensions.code : undefined;
        throw new ShopifyApiError('graphql', `Shopify refused the query: ${errors.map((e) => e.message ?? 'error').join('; ')}`, { ...(code && { code }) });
      }
      if (answer.data === undefined || answer.data === null) throw new ShopifyApiError('graphql', 'Shopify answered without data');
      return { data: answer.data as T, cost };
    }
  }

  private readCost(answer: GraphQLAnswer): ShopifyQueryCost | undefined {
    const cost = answer.extensions?.cost;
    const status = cost?.throttleStatus;
    if (!cost || typeof cost.requestedQueryCost !== 'number' || !status || typeof status.currentlyAvailable !== 'number' || typeof status.restoreRate !== 'number') return undefined;
    const throttleStatus = { maximumAvailable: Number(status.maximumAvailable), currentlyAvailable: status.currentlyAvailable, restoreRate: status.restoreRate };
    this.memory.report = { status: throttleStatus, at: this.clock.now() };
    const actual = typeof cost.actualQueryCost === 'number' ? cost.actualQueryCost : null;
    if (actual !== null) this.stats.pointsUsed += actual;
    return { requestedQueryCost: cost.requestedQueryCost, actualQueryCost: actual, throttleStatus };
  }

  /** Milliseconds until the bucket holds `points` (one point to spare: reports are rounded down). */
  private msUntil(points: number): number {
    const available = this.projectedAvailable();
    if (available === undefined || !this.bucket) return 0;
    const missing = points + 1 - available;
    return missing <= 0 ? 0 : Math.ceil((missing / this.bucket.status.restoreRate) * 1000);
  }

  private async waitForPoints(points: number, signal?: AbortSignal): Promise<void> {
    const limit = this.bucket?.status.maximumAvailable;
    if (points > SHOPIFY_MAX_QUERY_COST || (limit !== undefined && points > limit)) {
      throw new ShopifyApiError('max_cost', `the query costs ${points} points, more than ${Math.min(SHOPIFY_MAX_QUERY_COST, limit ?? Infinity)} a query may cost here`, {
        cost: points,
        maxCost: Math.min(SHOPIFY_MAX_QUERY_COST, limit ?? Infinity),
      });
    }
    const waitMs = this.msUntil(points);
    if (waitMs > 0) await this.pause(waitMs, signal);
  }

  private async pause(ms: number, signal?: AbortSignal): Promise<void> {
    this.stats.waitedMs += ms;
    await this.clock.sleep(ms, signal);
    signal?.throwIfAborted();
  }

  /** One request, retried on 5xx and network failures; any other answer is returned for the caller to read. */
  private async send(document: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<{ answer: GraphQLAnswer; status: number }> {
    const body = JSON.stringify({ query: document, variables });
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      let failure: string;
      let serverWaitMs: number | undefined;
      try {
        this.stats.requests += 1;
        const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
        const res = await fetch(this.endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'x-shopify-access-token': this.options.accessToken },
          body,
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        const text = await res.text();
        if (res.status === 401 || res.status === 403) {
          throw new ShopifyApiError('unauthorized', `Shopify refused the access token of ${this.options.shopDomain} (HTTP ${res.status}): connect the store again with a valid Admin API token`, { status: res.status });
        }
        if (res.status === 404) {
          throw new ShopifyApiError('not_found', `Shopify has no Admin API at ${this.endpoint} (HTTP 404): check the shop domain and the API version "${this.options.apiVersion}"`, { status: 404 });
        }
        if (res.status < 500 && res.status !== 429 && res.status !== 200) {
          throw new ShopifyApiError('http', `Shopify answered HTTP ${res.status}: ${text.slice(0, 300)}`, { status: res.status });
        }
        if (res.status < 500) {
          try {
            return { answer: JSON.parse(text) as GraphQLAnswer, status: res.status };
          } catch {
            if (res.status === 429) return { answer: {}, status: 429 };
            throw new ShopifyApiError('http', `Shopify answered HTTP ${res.status} with a body that is not JSON`, { status: res.status });
          }
        }
        failure = `HTTP ${res.status}`;
        serverWaitMs = retryAfterMs(res.headers.get('retry-after'));
      } catch (err) {
        if (err instanceof ShopifyApiError) throw err;
        if (signal?.aborted) throw signal.reason;
        failure = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
      if (attempt >= this.retry.attempts) {
        throw new ShopifyApiError('unavailable', `Shopify could not be reached for ${this.options.shopDomain} after ${attempt} attempts (last: ${failure})`);
      }
      const exponential = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
      const delay = serverWaitMs ?? Math.ceil(exponential / 2 + (Math.random() * exponential) / 2);
      this.stats.retries += 1;
      this.options.logger?.warn({ shop: this.options.shopDomain, attempt, failure, delayMs: delay }, 'Shopify request failed; retrying');
      await this.clock.sleep(delay, signal);
    }
  }
}

function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
