import { z } from 'zod';
import type { ApiToken } from '../auth/api-tokens';
import { scopes } from '../auth/principal';
import type { TokenPair } from '../auth/sessions';
import { roles } from '../users';
import { dateTimeOutput, idOutput, pageOutput } from './common';
import type { Wire } from './common';

export const tokenPairOutput = z
  .object({
    accessToken: z.string().meta({ description: 'A JWT to send as `Authorization: Bearer …`' }),
    refreshToken: z.string().meta({ description: 'Works once, at POST /v1/auth/refresh' }),
    expiresIn: z.number().int().meta({ description: 'Seconds the access token is valid' }),
    tokenType: z.literal('Bearer'),
  })
  .meta({ id: 'TokenPair' }) satisfies z.ZodType<Wire<TokenPair>>;

export const meOutput = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('user'),
      id: idOutput,
      email: z.string(),
      displayName: z.string(),
      role: z.enum(roles),
      telegramUserId: z.string().nullable(),
      scopes: z.array(z.enum(scopes)),
    }),
    z.object({
      kind: z.literal('api_token'),
      id: idOutput,
      name: z.string(),
      scopes: z.array(z.enum(scopes)),
    }),
  ])
  .meta({ id: 'Me', description: 'The caller: a signed-in person or an API token' });

export const apiTokenOutput = z
  .object({
    id: idOutput,
    name: z.string(),
    prefix: z.string().meta({ description: 'The visible start of the token', example: 'ddt_AbCdEfGh' }),
    scopes: z.array(z.enum(scopes)),
    expiresAt: dateTimeOutput.nullable(),
    lastUsedAt: dateTimeOutput.nullable(),
    revokedAt: dateTimeOutput.nullable(),
    createdAt: dateTimeOutput,
  })
  .meta({ id: 'ApiToken' }) satisfies z.ZodType<Wire<ApiToken>>;
export const apiTokenPageOutput = pageOutput(apiTokenOutput, 'ApiTokenPage');

/** The one response that carries the token's secret. */
export const createdApiTokenOutput = apiTokenOutput
  .extend({ token: z.string().meta({ description: 'The secret: shown this once, never again', example: 'ddt_AbCdEfGh_…' }) })
  .meta({ id: 'CreatedApiToken' });
