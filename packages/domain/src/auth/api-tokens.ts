import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { notFound, unauthorized } from '../errors';
import { scopes } from './principal';
import type { Principal, Scope } from './principal';

/**
 * Machine credentials: `ddt_<8-char id>_<43-char secret>`. The id part is stored in
 * clear (token_prefix) to find the row and to show in listings; the whole token is
 * stored as a SHA-256 hash — enough for 256 random bits, where a slow KDF would only
 * slow every API call down.
 */
const TOKEN_PATTERN = /^ddt_([A-Za-z0-9_-]{8})_[A-Za-z0-9_-]{43}$/;

export const newApiTokenSchema = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(scopes)).min(1).transform((s) => [...new Set(s)]),
  expiresAt: z.iso.datetime({ offset: true }).optional().refine((v) => !v || Date.parse(v) > Date.now(), 'must be in the future'),
});
export type NewApiToken = z.output<typeof newApiTokenSchema>;

export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();

export const looksLikeApiToken = (value: string) => value.startsWith('ddt_');

export async function createApiToken(
  db: Database,
  input: NewApiToken,
  createdBy: string | null,
): Promise<{ token: ApiToken; secret: string }> {
  const id = randomBytes(6).toString('base64url');
  const secret = `ddt_${id}_${randomBytes(32).toString('base64url')}`;
  const row = await db
    .insertInto('api_tokens')
    .values({
      name: input.name,
      token_prefix: `ddt_${id}`,
      token_hash: sha256(secret).toString('hex'),
      scopes: input.scopes,
      created_by: createdBy,
      expires_at: input.expiresAt ? new Date(input.expiresAt) : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { token: toApiToken(row), secret };
}

function toApiToken(row: {
  id: string;
  name: string;
  token_prefix: string;
  scopes: string[];
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}): ApiToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.token_prefix,
    scopes: row.scopes as Scope[],
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
  };
}

export async function listApiTokens(db: Database): Promise<ApiToken[]> {
  const rows = await db.selectFrom('api_tokens').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();
  return rows.map(toApiToken);
}

export async function revokeApiToken(db: Database, id: string): Promise<void> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) {
    const exists = await db.selectFrom('api_tokens').select('id').where('id', '=', id).executeTakeFirst();
    if (!exists) throw notFound('the API token');
  }
}

/**
 * `last_used_at` is kept to the minute: writing it on every request would turn each
 * authenticated read into a write (a WAL flush per call) for a figure people read
 * as "used 3 days ago". The guard in the WHERE keeps concurrent requests from
 * writing it more than once either.
 */
export const LAST_USED_RESOLUTION_MS = 60_000;

async function touchLastUsed(db: Database, id: string, lastUsedAt: Date | null): Promise<void> {
  const now = Date.now();
  if (lastUsedAt && now - lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
  const stale = new Date(now - LAST_USED_RESOLUTION_MS);
  await db
    .updateTable('api_tokens')
    .set({ last_used_at: new Date(now) })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', stale)]))
    .execute();
}

/** Resolves a presented token to its principal, refusing unknown, revoked and expired ones. */
export async function authenticateApiToken(db: Database, presented: string): Promise<Principal> {
  const match = TOKEN_PATTERN.exec(presented);
  if (!match) throw unauthorized();
  const row = await db
    .selectFrom('api_tokens')
    .selectAll()
    .where('token_prefix', '=', `ddt_${match[1]}`)
    .executeTakeFirst();
  if (!row) throw unauthorized();
  const stored = Buffer.from(row.token_hash, 'hex');
  const given = sha256(presented);
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) throw unauthorized();
  if (row.revoked_at || (row.expires_at && row.expires_at.getTime() <= Date.now())) throw unauthorized();
  await touchLastUsed(db, row.id, row.last_used_at);
  return { kind: 'api_token', tokenId: row.id, name: row.name, scopes: row.scopes as Scope[] };
}
