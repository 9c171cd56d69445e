import { createHash, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Database } from '@dealdome/db';
import { unauthorized } from '../errors';
import { findUserForLogin, getActiveUser } from '../users';
import type { User } from '../users';
import { DECOY_HASH, verifyPassword } from './passwords';

export interface AuthConfig {
  jwtSecret: string;
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: 'Bearer';
}

// Pinned: a token that names another algorithm (or "none") is refused, whatever it says.
const ALGORITHM = 'HS256';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

function signAccessToken(config: AuthConfig, user: User): string {
  return jwt.sign({ role: user.role }, config.jwtSecret, {
    algorithm: ALGORITHM,
    subject: user.id,
    issuer: config.issuer,
    audience: config.audience,
    expiresIn: config.accessTokenTtlSeconds,
    jwtid: randomUUID(),
  });
}

/** Verifies signature, algorithm, issuer, audience and expiry; returns the user id. */
export function verifyAccessToken(config: AuthConfig, token: string): string {
  try {
    const payload = jwt.verify(token, config.jwtSecret, {
      algorithms: [ALGORITHM],
      issuer: config.issuer,
      audience: config.audience,
    });
    if (typeof payload === 'string' || typeof payload.sub !== 'string') throw unauthorized();
    return payload.sub;
  } catch {
    throw unauthorized();
  }
}

async function issueRefreshToken(db: Database, config: AuthConfig, userId: string, familyId: string): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db
    .insertInto('refresh_tokens')
    .values({
      user_id: userId,
      family_id: familyId,
      token_hash: sha256(token),
      expires_at: new Date(Date.now() + config.refreshTokenTtlSeconds * 1000),
    })
    .execute();
  return token;
}

async function pair(db: Database, config: AuthConfig, user: User, familyId: string): Promise<TokenPair> {
  return {
    accessToken: signAccessToken(config, user),
    refreshToken: await issueRefreshToken(db, config, user.id, familyId),
    expiresIn: config.accessTokenTtlSeconds,
    tokenType: 'Bearer',
  };
}

/**
 * The active user an email and password belong to, or a 401 that does not say which
 * was wrong. For a login, and for pages that take the password on each request (HTTP
 * Basic authentication of the queue board).
 */
export async function verifyCredentials(db: Database, email: string, password: string): Promise<User> {
  const found = await findUserForLogin(db, email);
  // The hash is computed even for an unknown email, so timing tells nothing either.
  const ok = await verifyPassword(password, found?.passwordHash ?? DECOY_HASH);
  if (!found || !found.passwordHash || !ok) throw unauthorized();
  return found.user;
}

export async function login(db: Database, config: AuthConfig, email: string, password: string): Promise<TokenPair> {
  const user = await verifyCredentials(db, email, password);
  return pair(db, config, user, randomUUID());
}

/**
 * Exchanges a refresh token for a new pair. Each token works once: presenting one
 * that was already rotated (or revoked) means it leaked, so the whole family — every
 * token descended from that login — is revoked.
 */
export async function refresh(db: Database, config: AuthConfig, refreshToken: string): Promise<TokenPair> {
  const outcome = await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('refresh_tokens')
      .select(['id', 'user_id', 'family_id', 'expires_at', 'rotated_at', 'revoked_at'])
      .where('token_hash', '=', sha256(refreshToken))
      .forUpdate()
      .executeTakeFirst();
    if (!row) return { ok: false as const };
    if (row.rotated_at || row.revoked_at) {
      await trx
        .updateTable('refresh_tokens')
        .set({ revoked_at: new Date() })
        .where('family_id', '=', row.family_id)
        .where('revoked_at', 'is', null)
        .execute();
      return { ok: false as const };
    }
    if (row.expires_at.getTime() <= Date.now()) return { ok: false as const };
    await trx.updateTable('refresh_tokens').set({ rotated_at: new Date() }).where('id', '=', row.id).execute();
    const user = await getActiveUser(trx, row.user_id);
    if (!user) return { ok: false as const };
    return { ok: true as const, tokens: await pair(trx, config, user, row.family_id) };
  });
  if (!outcome.ok) throw unauthorized();
  return outcome.tokens;
}

/** Ends every login of a user: each refresh token still usable is revoked. Returns how many were. */
export async function revokeUserSessions(db: Database, userId: string): Promise<number> {
  const result = await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: new Date() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('rotated_at', 'is', null)
    .where('expires_at', '>', new Date())
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Ends the login the refresh token belongs to: every token of its family stops working. */
export async function logout(db: Database, refreshToken: string): Promise<void> {
  const row = await db
    .selectFrom('refresh_tokens')
    .select('family_id')
    .where('token_hash', '=', sha256(refreshToken))
    .executeTakeFirst();
  if (!row) return;
  await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: new Date() })
    .where('family_id', '=', row.family_id)
    .where('revoked_at', 'is', null)
    .execute();
}
