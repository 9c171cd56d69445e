import { Router } from 'express';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { createApiToken, listApiTokens, newApiTokenSchema, revokeApiToken } from '@dealdome/domain';
import type { ApiToken } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { parseInput } from '../http/problem';
import { principalOf } from '../http/auth';

const idParam = z.object({ id: z.uuid() });

const present = (t: ApiToken) => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  scopes: t.scopes,
  expiresAt: t.expiresAt,
  lastUsedAt: t.lastUsedAt,
  revokedAt: t.revokedAt,
  createdAt: t.createdAt,
});

export function apiTokenRoutes(db: Database, requireAdmin: RequestHandler): Router {
  const router = Router();

  router.post('/v1/api-tokens', requireAdmin, async (req, res) => {
    const input = parseInput(newApiTokenSchema, req.body);
    const principal = principalOf(res);
    const { token, secret } = await createApiToken(db, input, principal.kind === 'user' ? principal.user.id : null);
    // The secret is in this response and nowhere else, ever.
    res.status(201).json({ ...present(token), token: secret });
  });

  router.get('/v1/api-tokens', requireAdmin, async (_req, res) => {
    res.json({ data: (await listApiTokens(db)).map(present), nextCursor: null });
  });

  router.delete('/v1/api-tokens/:id', requireAdmin, async (req, res) => {
    const { id } = parseInput(idParam, req.params);
    await revokeApiToken(db, id);
    res.status(204).end();
  });

  return router;
}
