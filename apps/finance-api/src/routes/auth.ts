import { z } from 'zod';
import { login, logout, meOutput, refresh, tokenPairOutput } from '@dealdome/domain';
import type { AuthConfig } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import type { Api } from '../http/api';
import { principalOf } from '../http/auth';
import { loginLimiters } from '../http/login-limits';
import type { LoginLimits } from '../http/login-limits';

const loginSchema = z.object({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) });
const refreshSchema = z.object({ refreshToken: z.string().min(1).max(200) });

export function authRoutes(api: Api, db: Database, config: AuthConfig, limits: LoginLimits): void {
  api.route({
    operationId: 'login',
    method: 'post',
    path: '/v1/auth/login',
    summary: 'Sign in with email and password',
    description: 'Failed attempts are limited per email and per client address (429 past the limit).',
    tag: 'Authentication',
    guard: 'none',
    body: loginSchema,
    status: 200,
    response: tokenPairOutput,
    problems: [401, 429],
    middleware: loginLimiters(limits, {
      emailOf: (req) => {
        const email = (req.body as { email?: unknown } | undefined)?.email;
        return typeof email === 'string' ? email : undefined;
      },
    }),
    handle: ({ body }) => login(db, config, body.email, body.password),
  });
  api.route({
    operationId: 'refreshTokens',
    method: 'post',
    path: '/v1/auth/refresh',
    summary: 'Exchange a refresh token for a new pair',
    description: 'Each refresh token works once; presenting a used one revokes every token of that login.',
    tag: 'Authentication',
    guard: 'none',
    body: refreshSchema,
    status: 200,
    response: tokenPairOutput,
    problems: [401],
    handle: ({ body }) => refresh(db, config, body.refreshToken),
  });
  api.route({
    operationId: 'logout',
    method: 'post',
    path: '/v1/auth/logout',
    summary: 'End the login a refresh token belongs to',
    tag: 'Authentication',
    guard: 'none',
    body: refreshSchema,
    status: 204,
    handle: ({ body }) => logout(db, body.refreshToken),
  });
  api.route({
    operationId: 'getMe',
    method: 'get',
    path: '/v1/me',
    summary: 'Who the caller is',
    tag: 'Authentication',
    guard: 'read',
    status: 200,
    response: meOutput,
    handle: async (_input, { res }) => {
      const principal = principalOf(res);
      if (principal.kind === 'api_token') return { kind: 'api_token' as const, id: principal.tokenId, name: principal.name, scopes: principal.scopes };
      const { user } = principal;
      return {
        kind: 'user' as const,
        id: user.id,
        email: user.email,
        displayName: user.displayName,
        role: user.role,
        telegramUserId: user.telegramUserId,
        scopes: principal.scopes,
      };
    },
  });
}
