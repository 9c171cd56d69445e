import type { Command } from 'commander';
import { z } from 'zod';
import type { DatabaseHandle } from '@dealdome/db';
import { createApiToken, invalid, listApiTokens, newApiTokenSchema, revokeApiToken, scopes } from '@dealdome/domain';
import { columns, isoOrDash, wholeNumber } from './options';

/** `pnpm dealdome api-tokens:*`: the machine credentials POST/GET/DELETE /v1/api-tokens manage, from the shell. */
export function registerApiTokenCommands(
  program: Command,
  out: (line: string) => void,
  withDatabase: <T>(run: (handle: DatabaseHandle) => Promise<T>) => Promise<T>,
): void {
  program
    .command('api-tokens:create')
    .description('create an API token for a machine; the secret is printed once and stored only as a hash')
    .requiredOption('--name <name>', 'what uses it, e.g. "BI export"')
    .requiredOption('--scopes <list>', `comma-separated, from: ${scopes.join(', ')}`)
    .option('--expires-in-days <days>', 'it stops working after this many days (default: never)')
    .action(async (options: { name: string; scopes: string; expiresInDays?: string }) => {
      const days = options.expiresInDays === undefined ? undefined : wholeNumber(options.expiresInDays, '--expires-in-days', 1, 3650);
      const parsed = newApiTokenSchema.safeParse({
        name: options.name,
        scopes: options.scopes.split(',').map((s) => s.trim()).filter(Boolean),
        ...(days !== undefined && { expiresAt: new Date(Date.now() + days * 86_400_000).toISOString() }),
      });
      if (!parsed.success) throw invalid(Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.') || 'token', [i.message]])));
      // No person is signed in at a shell: the token has no creator, as one made by a machine.
      const { token, secret } = await withDatabase(({ db }) => createApiToken(db, parsed.data, null));
      out(`created API token ${token.id} "${token.name}" (${token.prefix}), scopes ${token.scopes.join(', ')}, ${token.expiresAt ? `expires ${token.expiresAt.toISOString()}` : 'never expires'}`);
      out(`token: ${secret}`);
      out('the token is shown this once; store it now');
    });

  program
    .command('api-tokens:list')
    .description('list API tokens, newest first, with their scopes, expiry, last use and revocation')
    .action(async () => {
      const tokens = await withDatabase(({ db }) => listApiTokens(db));
      if (tokens.length === 0) {
        out('no API tokens');
        return;
      }
      const rows = tokens.map((t) => [t.id, t.prefix, t.name, t.scopes.join(','), isoOrDash(t.expiresAt), isoOrDash(t.lastUsedAt), isoOrDash(t.revokedAt)]);
      for (const line of columns([['id', 'prefix', 'name', 'scopes', 'expires', 'last used', 'revoked'], ...rows])) out(line);
    });

  program
    .command('api-tokens:revoke')
    .description('revoke an API token: it stops working at once (its row stays, for the record)')
    .argument('<id>', 'the token id, as api-tokens:list shows it')
    .action(async (id: string) => {
      if (!z.uuid().safeParse(id).success) throw new Error(`${id} is not a token id (a UUID, as api-tokens:list shows it)`);
      await withDatabase(({ db }) => revokeApiToken(db, id));
      out(`revoked API token ${id}`);
    });
}
