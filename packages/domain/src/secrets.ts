import type { Database } from '@dealdome/db';
import { AppError } from './errors';
import { resealSettings } from './settings';
import type { EncryptionKeys, ResealCount } from './settings';
import { resealShopifyTokens } from './shopify/credentials';

export interface ReencryptResult {
  settings: Omit<ResealCount, 'unreadable'>;
  shopifyTokens: Omit<ResealCount, 'unreadable'>;
}

/**
 * Key rotation's second step: every secret at rest (secret settings, stores' Shopify
 * access tokens) that a previous key sealed is sealed again under the current one.
 * The services keep reading old ciphertexts meanwhile, because they are given the
 * previous keys too; once this has run, the previous keys can be dropped.
 *
 * All or nothing: if any secret opens under no key of the keyring, nothing is
 * changed and the error names each one (a key missing from the keyring must not
 * leave half the secrets moved). Running it again changes nothing.
 */
export async function reencryptSecrets(db: Database, keys: EncryptionKeys): Promise<ReencryptResult> {
  return db.transaction().execute(async (trx) => {
    const settings = await resealSettings(trx, keys);
    const shopifyTokens = await resealShopifyTokens(trx, keys);
    const unreadable = [...settings.unreadable, ...shopifyTokens.unreadable];
    if (unreadable.length > 0) {
      throw new AppError(
        422,
        'secrets_unreadable',
        `nothing was re-encrypted: no key of SETTINGS_ENCRYPTION_KEY or SETTINGS_ENCRYPTION_KEY_PREVIOUS opens ${unreadable.join(', ')}. Add the key they were sealed under to SETTINGS_ENCRYPTION_KEY_PREVIOUS, or set those secrets again.`,
      );
    }
    return {
      settings: { resealed: settings.resealed, current: settings.current },
      shopifyTokens: { resealed: shopifyTokens.resealed, current: shopifyTokens.current },
    };
  });
}
