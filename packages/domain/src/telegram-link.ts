import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '@dealdome/db';
import { conflict, invalid, notFound } from './errors';
import { presentUser, userColumns } from './users';
import type { User, UserRow } from './users';

/**
 * Who may talk to the bot: users whose Telegram user id is linked. An operator
 * links one directly (`users:link`, `users:create --telegram-id`), or an admin
 * issues a one-time code (`users:link-code`) that the person sends to the bot as
 * `/link CODE`. Codes are stored as SHA-256 hashes, work once and expire.
 */

export const LINK_CODE_TTL_HOURS = 24;
// 32 symbols without 0/O and 1/I, so a code read aloud or retyped survives; 10 of them are 50 bits.
const CODE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
const CODE_LENGTH = 10;

type TelegramUserId = string | number | bigint;

/** Joins the caller's transaction when given one. */
const inTransaction = <T>(db: Database, work: (trx: Database) => Promise<T>): Promise<T> =>
  db.isTransaction ? work(db) : db.transaction().execute(work);


function telegramId(value: TelegramUserId): string {
  const text = String(value).trim();
  if (!/^[1-9]\d{0,18}$/.test(text)) throw invalid({ telegramUserId: ['expected a positive whole number (a Telegram user id)'] });
  return text;
}

/** The active user linked to this Telegram user id, if any. */
export async function findUserByTelegramId(db: Database, telegramUserId: TelegramUserId): Promise<User | undefined> {
  const row = await db
    .selectFrom('users')
    .select(userColumns)
    .where('telegram_user_id', '=', String(telegramUserId))
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return row && presentUser(row);
}

async function activeUserByEmail(db: Database, email: string): Promise<UserRow> {
  const row = await db
    .selectFrom('users')
    .select(userColumns)
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.trim().toLowerCase()))
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw notFound(`an active user with email ${email.trim().toLowerCase()}`);
  return row;
}

/** Another user holding the Telegram id blocks the link: one Telegram account is one person. */
async function isTelegramIdFree(db: Database, telegramUserId: string, userId: string): Promise<boolean> {
  const holder = await db
    .selectFrom('users')
    .select('id')
    .where('telegram_user_id', '=', telegramUserId)
    .where('id', '<>', userId)
    .executeTakeFirst();
  return holder === undefined;
}

/** Links a Telegram user id to the user with this email, replacing any id linked before. */
export async function linkTelegramUser(db: Database, input: { email: string; telegramUserId: TelegramUserId }): Promise<User> {
  const id = telegramId(input.telegramUserId);
  return inTransaction(db, async (trx) => {
    const user = await activeUserByEmail(trx, input.email);
    if (!(await isTelegramIdFree(trx, id, user.id))) throw conflict(`Telegram user ${id} is already linked to another user`);
    const row = await trx
      .updateTable('users')
      .set({ telegram_user_id: id, updated_at: new Date() })
      .where('id', '=', user.id)
      .returning(userColumns)
      .executeTakeFirstOrThrow();
    return presentUser(row);
  });
}

/** The canonical form of a typed code: upper case, separators and spaces dropped. */
export function normalizeLinkCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

const hashCode = (code: string) => createHash('sha256').update(normalizeLinkCode(code), 'utf8').digest('hex');

function generateCode(): string {
  const bytes = randomBytes(CODE_LENGTH);
  // 256 is a multiple of 32: masking keeps every symbol equally likely.
  const symbols = [...bytes].map((b) => CODE_ALPHABET[b & 31]!).join('');
  return `${symbols.slice(0, 5)}-${symbols.slice(5)}`;
}

export interface IssuedLinkCode {
  /** Shown once; only its hash is stored. */
  code: string;
  expiresAt: Date;
  user: User;
}

/**
 * Issues a one-time link code for the active user with this email. Issuing a new
 * code withdraws that user's unused ones, so only the latest code handed out works.
 */
export async function issueTelegramLinkCode(
  db: Database,
  input: { email: string; createdBy?: string | null; ttlHours?: number },
): Promise<IssuedLinkCode> {
  const ttlHours = input.ttlHours ?? LINK_CODE_TTL_HOURS;
  if (!Number.isFinite(ttlHours) || ttlHours <= 0 || ttlHours > 24 * 30) {
    throw invalid({ ttlHours: ['must be more than 0 and at most 720 hours'] });
  }
  return inTransaction(db, async (trx) => {
    const user = await activeUserByEmail(trx, input.email);
    await trx.deleteFrom('telegram_link_codes').where('user_id', '=', user.id).where('used_at', 'is', null).execute();
    const code = generateCode();
    const expiresAt = new Date(Date.now() + ttlHours * 3_600_000);
    await trx
      .insertInto('telegram_link_codes')
      .values({ user_id: user.id, code_hash: hashCode(code), created_by: input.createdBy ?? null, expires_at: expiresAt })
      .execute();
    return { code, expiresAt, user: presentUser(user) };
  });
}

export type LinkCodeRefusal = 'unknown' | 'used' | 'expired' | 'telegram_taken';
export type LinkCodeOutcome = { linked: true; user: User } | { linked: false; reason: LinkCodeRefusal };

/**
 * Redeems a code for a Telegram user: the code is spent and the id linked in one
 * transaction, the code's row locked so two redemptions of it cannot both succeed.
 * A code of a disabled user is `unknown`, like a code never issued.
 */
export async function redeemTelegramLinkCode(db: Database, code: string, telegramUserId: TelegramUserId): Promise<LinkCodeOutcome> {
  const id = telegramId(telegramUserId);
  if (normalizeLinkCode(code).length !== CODE_LENGTH) return { linked: false, reason: 'unknown' };
  return inTransaction(db, async (trx): Promise<LinkCodeOutcome> => {
    const row = await trx
      .selectFrom('telegram_link_codes as l')
      .innerJoin('users as u', 'u.id', 'l.user_id')
      .select((eb) => [
        'l.id',
        'l.user_id',
        'l.used_at',
        'u.disabled_at',
        eb(eb.ref('l.expires_at'), '<=', eb.fn<Date>('now', [])).as('expired'),
      ])
      .where('l.code_hash', '=', hashCode(code))
      .forUpdate('l')
      .executeTakeFirst();
    if (!row || row.disabled_at !== null) return { linked: false, reason: 'unknown' };
    if (row.used_at !== null) return { linked: false, reason: 'used' };
    if (row.expired) return { linked: false, reason: 'expired' };
    if (!(await isTelegramIdFree(trx, id, row.user_id))) return { linked: false, reason: 'telegram_taken' };
    await trx.updateTable('telegram_link_codes').set({ used_at: new Date() }).where('id', '=', row.id).execute();
    const user = await trx
      .updateTable('users')
      .set({ telegram_user_id: id, updated_at: new Date() })
      .where('id', '=', row.user_id)
      .returning(userColumns)
      .executeTakeFirstOrThrow();
    return { linked: true, user: presentUser(user) };
  });
}
