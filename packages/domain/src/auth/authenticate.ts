import type { Database } from '@dealdome/db';
import { unauthorized } from '../errors';
import { getActiveUser } from '../users';
import { authenticateApiToken, looksLikeApiToken } from './api-tokens';
import { roleScopes } from './principal';
import type { Principal } from './principal';
import { verifyAccessToken } from './sessions';
import type { AuthConfig } from './sessions';

/**
 * Turns an `Authorization: Bearer …` credential into a principal: an API token or a
 * person's access JWT. The user is read on every request, so a disabled account or a
 * changed role takes effect before the token expires.
 */
export async function authenticate(db: Database, config: AuthConfig, bearer: string): Promise<Principal> {
  if (looksLikeApiToken(bearer)) return authenticateApiToken(db, bearer);
  const userId = verifyAccessToken(config, bearer);
  const user = await getActiveUser(db, userId);
  if (!user) throw unauthorized();
  return { kind: 'user', user, scopes: roleScopes[user.role] };
}
