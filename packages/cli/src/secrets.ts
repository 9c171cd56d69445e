import type { Command } from 'commander';
import { z } from 'zod';
import { encryptionKeys, encryptionKeysEnv, parseEnv } from '@dealdome/config';
import type { DatabaseHandle } from '@dealdome/db';
import { reencryptSecrets } from '@dealdome/domain';

/**
 * `pnpm dealdome secrets:reencrypt`: the second step of rotating
 * SETTINGS_ENCRYPTION_KEY (the README's "Rotating the encryption key" has all three).
 */
export function registerSecretCommands(
  program: Command,
  out: (line: string) => void,
  withDatabase: <T>(run: (handle: DatabaseHandle) => Promise<T>) => Promise<T>,
): void {
  program
    .command('secrets:reencrypt')
    .description(
      'seal every secret at rest (secret settings, Shopify access tokens) under SETTINGS_ENCRYPTION_KEY, opening old ones with SETTINGS_ENCRYPTION_KEY_PREVIOUS; all or nothing, safe to run again',
    )
    .action(async () => {
      const env = parseEnv('dealdome', z.object(encryptionKeysEnv));
      const result = await withDatabase(({ db }) => reencryptSecrets(db, encryptionKeys(env)));
      out(`secret settings: ${result.settings.resealed} re-encrypted, ${result.settings.current} already under the current key`);
      out(`Shopify access tokens: ${result.shopifyTokens.resealed} re-encrypted, ${result.shopifyTokens.current} already under the current key`);
      if (env.SETTINGS_ENCRYPTION_KEY_PREVIOUS.length > 0) out('SETTINGS_ENCRYPTION_KEY_PREVIOUS can now be removed from every service');
    });
}
