import { Command, Option } from 'commander';
import { z } from 'zod';
import { createLogger, envUrl, parseEnv } from '@dealdome/config';
import { migrate, migrationStatus, openDatabase } from '@dealdome/db';
import type { DatabaseHandle } from '@dealdome/db';
import {
  AppError,
  conflict,
  createUser,
  findUserByTelegramId,
  issueTelegramLinkCode,
  linkTelegramUser,
  resetPassword,
  roles,
  seedDemoData,
} from '@dealdome/domain';
import { registerApiTokenCommands } from './api-tokens';
import { registerQueueCommands } from './queues';
import { registerSecretCommands } from './secrets';
import { registerShopifyCommands } from './shopify';
import { registerTaskCommands } from './tasks';

/**
 * `pnpm dealdome <command>`: the operator's tool. Each command validates only the
 * variables it needs, so `migrate` works on a machine that has no bot token.
 */
const databaseEnv = z.object({ DATABASE_URL: envUrl(['postgres', 'postgresql']) });

function databaseUrl(): string {
  return parseEnv('dealdome', databaseEnv).DATABASE_URL;
}

async function withDatabase<T>(run: (handle: DatabaseHandle) => Promise<T>): Promise<T> {
  const handle = await openDatabase({ url: databaseUrl(), poolMax: 2, applicationName: 'dealdome-cli' });
  try {
    return await run(handle);
  } finally {
    await handle.close();
  }
}

export function buildProgram(out: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Command {
  const program = new Command('dealdome').description('Operate a DealDome installation').showHelpAfterError();

  program
    .command('migrate')
    .description('apply pending database migrations (safe to run from several places at once)')
    .action(async () => {
      const logger = createLogger('dealdome-cli', { level: 'warn' });
      const result = await migrate(databaseUrl(), { logger });
      if (result.applied.length === 0) out(`database is up to date (${result.alreadyApplied} migrations applied)`);
      for (const file of result.applied) out(`applied ${file}`);
    });

  program
    .command('migrate:status')
    .description('list applied and pending migrations')
    .action(async () => {
      const status = await migrationStatus(databaseUrl());
      for (const m of status.applied) out(`applied  ${String(m.version).padStart(4, '0')}_${m.name}  ${m.appliedAt.toISOString()}`);
      for (const m of status.pending) out(`pending  ${m.file}`);
    });

  program
    .command('users:create')
    .description('create a user with a generated password, printed once')
    .requiredOption('--email <email>', 'their email address (the login name)')
    .addOption(new Option('--role <role>', 'what they may do').choices(roles).default('member'))
    .option('--name <name>', 'display name (default: the part of the email before @)')
    .option('--telegram-id <id>', 'their numeric Telegram user id, to let them talk to the bot')
    .action(async (options: { email: string; role: (typeof roles)[number]; name?: string; telegramId?: string }) => {
      const { user, password } = await withDatabase(({ db }) =>
        createUser(db, {
          email: options.email,
          role: options.role,
          ...(options.name !== undefined && { displayName: options.name }),
          ...(options.telegramId !== undefined && { telegramUserId: options.telegramId }),
        }).catch((err: unknown) => {
          // One Telegram account is one person: the column is unique.
          if ((err as { constraint?: string }).constraint === 'users_telegram_user_id_key') {
            throw conflict(`Telegram user ${options.telegramId} is already linked to another user`);
          }
          throw err;
        }),
      );
      out(`created ${user.role} ${user.email} (${user.id})`);
      out(`password: ${password}`);
      out('the password is shown this once; store it now');
    });

  program
    .command('users:link')
    .description("link a user's Telegram account, so they may talk to the bot")
    .requiredOption('--email <email>', 'the user')
    .requiredOption('--telegram-id <id>', 'their numeric Telegram user id')
    .action(async (options: { email: string; telegramId: string }) => {
      const user = await withDatabase(({ db }) => linkTelegramUser(db, { email: options.email, telegramUserId: options.telegramId }));
      out(`linked ${user.email} to Telegram user ${user.telegramUserId}`);
    });

  program
    .command('users:link-code')
    .description('issue a one-time code the user sends to the bot as /link CODE (their older unused codes stop working)')
    .requiredOption('--email <email>', 'the user')
    .option('--ttl-hours <hours>', 'how long the code works', '24')
    .action(async (options: { email: string; ttlHours: string }) => {
      const ttlHours = Number(options.ttlHours);
      const issued = await withDatabase(({ db }) => issueTelegramLinkCode(db, { email: options.email, ttlHours }));
      out(`link code for ${issued.user.email}: ${issued.code}`);
      out(`send it to the bot as: /link ${issued.code}`);
      out(`works once, until ${issued.expiresAt.toISOString()}`);
    });

  program
    .command('users:reset-password')
    .description("give a user a new generated password, printed once, and end every login they have (their refresh tokens are revoked)")
    .requiredOption('--email <email>', 'the user')
    .action(async (options: { email: string }) => {
      const reset = await withDatabase(({ db }) => resetPassword(db, options.email));
      out(`new password for ${reset.user.email} (${reset.user.id}): ${reset.password}`);
      out('the password is shown this once; store it now');
      out(
        `ended ${reset.revokedSessions} ${reset.revokedSessions === 1 ? 'login' : 'logins'}; ` +
          'access tokens already issued keep working until they expire (ACCESS_TOKEN_TTL_SECONDS, 15 minutes by default)',
      );
    });

  registerApiTokenCommands(program, out, withDatabase);

  program
    .command('demo:seed')
    .description('fill an empty installation with demo stores, products, sales, ad spend, costs and rates, plus a first admin')
    .option('--stores <n>', 'how many stores', '3')
    .option('--days <n>', 'how many days of history, ending yesterday', '120')
    .option('--if-empty', 'do nothing to the data when stores already exist')
    .option('--admin-email <email>', 'the demo admin, created when there are no users yet', 'admin@dealdome.local')
    .action(async (options: { stores: string; days: string; ifEmpty?: boolean; adminEmail: string }) => {
      const stores = Number(options.stores);
      const days = Number(options.days);
      if (!Number.isInteger(stores) || stores < 1 || stores > 100) throw new Error('--stores must be a whole number from 1 to 100');
      if (!Number.isInteger(days) || days < 1 || days > 3660) throw new Error('--days must be a whole number from 1 to 3660');
      await withDatabase(async ({ db }) => {
        const hasStores = await db.selectFrom('stores').select('id').limit(1).executeTakeFirst();
        if (hasStores && options.ifEmpty) {
          out('demo data: stores exist already; left as they are');
        } else {
          const summary = await seedDemoData(db, { stores, days });
          out(
            `demo data: ${summary.stores} stores, ${summary.products} products, ${summary.dailyFinancials} store-days of sales, ` +
              `${summary.adSpendEntries} ad-spend entries, ${summary.fixedCosts} fixed costs, ${summary.fxRates} exchange rates`,
          );
        }
        const hasUsers = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
        if (!hasUsers) {
          const { user, password } = await createUser(db, { email: options.adminEmail, role: 'admin', displayName: 'Demo admin' });
          out(`demo admin: ${user.email}`);
          out(`demo admin password: ${password}`);
        }
      });
    });

  program
    .command('demo:link-telegram')
    .description(
      "give the local Telegram emulator's user a team member to be: link the demo admin to that Telegram id, " +
        'unless the id or the admin is linked already; prints who the id plays',
    )
    .option('--email <email>', 'the user to link', 'admin@dealdome.local')
    .requiredOption('--telegram-id <id>', 'the Telegram user id `pnpm chat` writes as')
    .action(async (options: { email: string; telegramId: string }) => {
      const line = await withDatabase(async ({ db }) => {
        const holder = await findUserByTelegramId(db, options.telegramId);
        if (holder) return `chat user: ${holder.email} is Telegram user ${holder.telegramUserId} (linked already)`;
        const user = await db
          .selectFrom('users')
          .select(['email', 'telegram_user_id'])
          .where((eb) => eb(eb.fn('lower', ['email']), '=', options.email.trim().toLowerCase()))
          .where('disabled_at', 'is', null)
          .executeTakeFirst();
        if (!user) return `chat user: none (no active user ${options.email} to link to Telegram user ${options.telegramId})`;
        // A link someone made on purpose (their real Telegram account) is kept; the chat can use that id.
        if (user.telegram_user_id) return `chat user: ${user.email} is Telegram user ${user.telegram_user_id} (linked already)`;
        const linked = await linkTelegramUser(db, { email: user.email, telegramUserId: options.telegramId });
        return `chat user: ${linked.email} is Telegram user ${linked.telegramUserId} (linked now)`;
      });
      out(line);
    });

  registerShopifyCommands(program, out, withDatabase);
  registerTaskCommands(program, out, withDatabase);
  registerQueueCommands(program, out);
  registerSecretCommands(program, out, withDatabase);

  return program;
}

export function describeError(err: unknown): string {
  if (err instanceof AppError && err.fieldErrors) {
    const fields = Object.entries(err.fieldErrors).map(([field, problems]) => `${field}: ${problems.join(', ')}`);
    return `${err.message} ${fields.join('; ')}`;
  }
  return err instanceof Error ? err.message : String(err);
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`dealdome: ${describeError(err)}\n`);
      process.exit(1);
    });
}
