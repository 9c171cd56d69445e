import type { Database } from '@dealdome/db';
import { notFound } from '../errors';
import { findUserForLogin } from '../users';
import type { User } from '../users';
import { generatePassword, hashPassword } from './passwords';
import { revokeUserSessions } from './sessions';

export interface PasswordReset {
  user: User;
  /** The new password, shown once and stored only as a hash. */
  password: string;
  /** Logins (refresh-token families) that were still usable and are now ended. */
  revokedSessions: number;
}

/**
 * Gives an active user a new generated password and ends every login they have, so
 * whoever knew the old password is out once their access token (minutes) expires.
 */
export async function resetPassword(db: Database, email: string): Promise<PasswordReset> {
  const found = await findUserForLogin(db, email);
  if (!found) throw notFound(`an active user with email ${email.trim().toLowerCase()}`);
  const password = generatePassword();
  // Hashed before the transaction: scrypt takes a while and holds no lock.
  const passwordHash = await hashPassword(password);
  const revokedSessions = await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ password_hash: passwordHash, updated_at: new Date() }).where('id', '=', found.user.id).execute();
    return revokeUserSessions(trx, found.user.id);
  });
  return { user: found.user, password, revokedSessions };
}
