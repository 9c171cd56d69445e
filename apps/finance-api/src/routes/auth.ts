import { Router } from 'express';
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import type { RedisReply } from 'rate-limit-redis';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { login, logout, refresh } from '@dealdome/domain';
import type { AuthConfig } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { parseInput, sendProblem } from '../http/problem';
import { principalOf } from '../http/auth';

const loginSchema = z.object({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) });
const refreshSchema = z.object({ refreshToken: z.string().min(1).max(200) });

export interface LoginLimits {
  perEmail: number;
  perAddress: number;
  windowSeconds: number;
  redis: Redis;
  prefix: string;
}

/**
 * Two limits on failed attempts, both shared by every replica through Redis: per client address (one
 * machine guessing many accounts) and per email (many machines guessing one).
 */
function loginLimiters(limits: LoginLimits): RequestHandler[] {
  const make = (name: string, limit: number, key?: (req: Parameters<RequestHandler>[0]) => string) =>
    rateLimit({
      windowMs: limits.windowSeconds * 1000,
      limit,
      // Only failures count: a team member signing in all day is never locked out.
      skipSuccessfulRequests: true,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      // Without a key generator the client address is used, IPv6 grouped by /56.
      ...(key && { keyGenerator: key }),
      store: new RedisStore({
        prefix: `${limits.prefix}:ratelimit:login-${name}:`,
        sendCommand: (command: string, ...args: string[]) => limits.redis.call(command, ...args) as Promise<RedisReply>,
      }),
      handler: (_req, res) => sendProblem(res, 429, 'Too many login attempts; try again later.', { code: 'rate_limited' }),
    });
  return [
    make('ip', limits.perAddress),
    make('email', limits.perEmail, (req) => {
      const email = (req.body as { email?: unknown } | undefined)?.email;
      return typeof email === 'string' ? email.trim().toLowerCase() : '(none)';
    }),
  ];
}

export function authRoutes(db: Database, config: AuthConfig, limits: LoginLimits, requireAny: RequestHandler): Router {
  const router = Router();

  router.post('/v1/auth/login', ...loginLimiters(limits), async (req, res) => {
    const { email, password } = parseInput(loginSchema, req.body);
    res.json(await login(db, config, email, password));
  });

  router.post('/v1/auth/refresh', async (req, res) => {
    const { refreshToken } = parseInput(refreshSchema, req.body);
    res.json(await refresh(db, config, refreshToken));
  });

  router.post('/v1/auth/logout', async (req, res) => {
    const { refreshToken } = parseInput(refreshSchema, req.body);
    await logout(db, refreshToken);
    res.status(204).end();
  });

  router.get('/v1/me', requireAny, (_req, res) => {
    const principal = principalOf(res);
    if (principal.kind === 'user') {
      const { user } = principal;
      res.json({
        kind: 'user',
        id: user.id,
        email: user.email,
        displayName: user.displayName,
        role: user.role,
        telegramUserId: user.telegramUserId,
        scopes: principal.scopes,
      });
    } else {
      res.json({ kind: 'api_token', id: principal.tokenId, name: principal.name, scopes: principal.scopes });
    }
  });

  return router;
}
