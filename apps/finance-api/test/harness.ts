import { createLogger, parseEnv } from '@dealdome/config';
import type { StartedService } from '@dealdome/config';
import { createUser } from '@dealdome/domain';
import type { Role } from '@dealdome/domain';
import { useTestDatabase, useTestRedis } from '@dealdome/testkit';
import { envSchema } from '../src/env';
import type { Env } from '../src/env';
import { startFinanceApi } from '../src/service';

export const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const SETTINGS_KEY = Buffer.alloc(32, 7).toString('base64');

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

/**
 * finance-api started in-process on port 0 against a cloned database and an
 * isolated Redis prefix; requests go over real HTTP.
 */
export function useFinanceApi(overrides: Record<string, string> = {}) {
  const database = useTestDatabase();
  const redis = useTestRedis();
  let service: StartedService | undefined;
  let env: Env | undefined;

  beforeAll(async () => {
    env = parseEnv('finance-api', envSchema, {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: redis.prefix,
      HTTP_HOST: '127.0.0.1',
      FINANCE_API_PORT: '0',
      JWT_SECRET,
      SETTINGS_ENCRYPTION_KEY: SETTINGS_KEY,
      LOG_LEVEL: 'silent',
      ...overrides,
    });
    service = await startFinanceApi(env, createLogger('finance-api', { level: 'silent' }));
  });
  afterAll(async () => {
    await service?.stop();
  });

  async function request(method: string, path: string, options: { token?: string; body?: unknown; raw?: string; contentType?: string } = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const res = await fetch(`${service!.url}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  async function userWithToken(role: Role, email = `${role}-${Math.random().toString(36).slice(2)}@dealdome.test`) {
    const { user, password } = await createUser(database.handle.db, { email, role });
    const login = await request('POST', '/v1/auth/login', { body: { email, password } });
    if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
    return { user, password, email, accessToken: login.body.accessToken as string, refreshToken: login.body.refreshToken as string };
  }

  return {
    request,
    userWithToken,
    get db() {
      return database.handle.db;
    },
    get env() {
      return env!;
    },
    get url() {
      return service!.url;
    },
    redis,
  };
}
