import type { Request, RequestHandler, Response } from 'express';
import { authenticate, requireScope, unauthorized } from '@dealdome/domain';
import type { AuthConfig, Principal, Scope } from '@dealdome/domain';
import type { Database } from '@dealdome/db';

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/;

/** The credential of an `Authorization: Bearer …` header, if the request has one. */
export function bearerOf(req: Request): string | undefined {
  return BEARER.exec(req.get('authorization') ?? '')?.[1];
}

/** Middleware factory: the route needs a caller holding `scope` (admin holds every scope). */
export function authorizer(db: Database, config: AuthConfig) {
  return (scope: Scope): RequestHandler =>
    async (req, res, next) => {
      const bearer = bearerOf(req);
      if (bearer === undefined) throw unauthorized();
      const principal = await authenticate(db, config, bearer);
      requireScope(principal, scope);
      res.locals.principal = principal;
      next();
    };
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw unauthorized();
  return principal;
}

/** The person acting, for "created by" columns; null when a machine (API token) acts. */
export function actorId(res: Response): string | null {
  const principal = principalOf(res);
  return principal.kind === 'user' ? principal.user.id : null;
}

/** The gates every route picks from. */
export interface Guards {
  read: RequestHandler;
  write: RequestHandler;
  knowledge: RequestHandler;
  knowledgeWrite: RequestHandler;
  admin: RequestHandler;
}

/** The scope each gate asks for (the OpenAPI document names it too). */
export const guardScopes: Record<keyof Guards, Scope> = {
  read: 'finance:read',
  write: 'finance:write',
  knowledge: 'knowledge:read',
  knowledgeWrite: 'knowledge:write',
  admin: 'admin',
};

export function guards(db: Database, config: AuthConfig): Guards {
  const requireScope = authorizer(db, config);
  return {
    read: requireScope(guardScopes.read),
    write: requireScope(guardScopes.write),
    knowledge: requireScope(guardScopes.knowledge),
    knowledgeWrite: requireScope(guardScopes.knowledgeWrite),
    admin: requireScope(guardScopes.admin),
  };
}
