import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { conflict, invalid, notFound } from './errors';
import { generatePassword, hashPassword } from './auth/passwords';

export const roles = ['admin', 'member', 'viewer'] as const;
export type Role = (typeof roles)[number];

export const newUserSchema = z.object({
  email: z.email().max(320).transform((e) => e.toLowerCase()),
  displayName: z.string().trim().min(1).max(200).optional(),
  role: z.enum(roles).default('member'),
  telegramUserId: z.coerce.bigint().positive().optional(),
});
export type NewUser = z.input<typeof newUserSchema>;

export interface User {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  telegramUserId: string | null;
  timezone: string;
  createdAt: Date;
}

/** The columns a User is read from, for every query that returns one. */
export const userColumns = ['id', 'email', 'display_name', 'role', 'telegram_user_id', 'timezone', 'created_at'] as const;
export type UserRow = {
  id: string;
  email: string;
  display_name: string;
  role: string;
  telegram_user_id: string | null;
  timezone: string;
  created_at: Date;
};

export function presentUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role as Role,
    telegramUserId: row.telegram_user_id,
    timezone: row.timezone,
    createdAt: row.created_at,
  };
}

/** Creates an account with a generated password, returned once and stored only as a hash. */
export async function createUser(db: Database, input: NewUser): Promise<{ user: User; password: string }> {
  const parsed = newUserSchema.safeParse(input);
  if (!parsed.success) {
    throw invalid(Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.') || 'user', [i.message]])));
  }
  const { email, displayName, role, telegramUserId } = parsed.data;
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  const existing = await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
  if (existing) throw conflict(`a user with email ${email} already exists`);
  const row = await db
    .insertInto('users')
    .values({
      email,
      display_name: displayName ?? email.split('@')[0]!,
      role,
      password_hash: passwordHash,
      telegram_user_id: telegramUserId?.toString() ?? null,
    })
    .returning(userColumns)
    .executeTakeFirstOrThrow();
  return { user: presentUser(row), password };
}

export async function getActiveUser(db: Database, id: string): Promise<User | undefined> {
  const row = await db
    .selectFrom('users')
    .select(userColumns)
    .where('id', '=', id)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return row && presentUser(row);
}

export async function findUserForLogin(
  db: Database,
  email: string,
): Promise<{ user: User; passwordHash: string | null } | undefined> {
  const row = await db
    .selectFrom('users')
    .select([...userColumns, 'password_hash'])
    .where('email', '=', email.trim().toLowerCase())
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return row && { user: presentUser(row), passwordHash: row.password_hash };
}

export async function requireUser(db: Database, id: string): Promise<User> {
  const user = await getActiveUser(db, id);
  if (!user) throw notFound('the user');
  return user;
}
