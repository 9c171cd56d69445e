import type { Role, User } from '../users';
import { forbidden } from '../errors';

export const scopes = ['finance:read', 'finance:write', 'knowledge:read', 'knowledge:write', 'admin'] as const;
export type Scope = (typeof scopes)[number];

/** Who is calling: a person signed in with a JWT, or a machine with an API token. */
export type Principal =
  | { kind: 'user'; user: User; scopes: readonly Scope[] }
  | { kind: 'api_token'; tokenId: string; name: string; scopes: readonly Scope[] };

/**
 * What each role may do, expressed in the same scopes machines are given. Members
 * add videos to the knowledge base; a machine needs `knowledge:write` for that, which
 * `finance:write` does not imply: a token that books costs does not feed the agents.
 */
export const roleScopes: Record<Role, readonly Scope[]> = {
  admin: ['finance:read', 'finance:write', 'admin'],
  member: ['finance:read', 'finance:write', 'knowledge:write'],
  viewer: ['finance:read'],
};

/**
 * Scopes held through another: whoever may read the finances may search the
 * knowledge base (so every role can), while a token given `knowledge:read` alone
 * searches without seeing any figure.
 */
const impliedBy: Partial<Record<Scope, readonly Scope[]>> = { 'knowledge:read': ['finance:read'] };

export function hasScope(principal: Principal, scope: Scope): boolean {
  // admin implies everything, for tokens as for people.
  if (principal.scopes.includes(scope) || principal.scopes.includes('admin')) return true;
  return (impliedBy[scope] ?? []).some((implying) => principal.scopes.includes(implying));
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!hasScope(principal, scope)) throw forbidden();
}
