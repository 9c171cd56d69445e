import type { Logger } from '@dealdome/config';
import type { Database, DB } from '@dealdome/db';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import { AppError, notFound, unprocessable } from '../errors';
import { decryptSettingValue, encryptSettingValue, openSettingValue, SettingDecryptionError } from '../settings';
import type { EncryptionKeys, ResealCount } from '../settings';
import { uuid } from '../values';
import { ShopifyClient } from './client';
import type { ShopifyClock, ShopifyBucketMemory } from './client';

/**
 * A store's Admin API access: its shop domain, the access token (AES-256-GCM at rest
 * in stores.shopify_access_token_encrypted, under the settings encryption key, bound
 * to the store so a ciphertext copied to another store does not decrypt), the API
 * version, and where the API is served when that is not the shop itself.
 */

export const DEFAULT_SHOPIFY_API_VERSION = '2025-10';

export const shopifyApiVersion = z.string().regex(/^(\d{4}-(01|04|07|10)|unstable)$/, 'expected a Shopify API version such as "2025-10"');

export const shopifyConnectionInput = z.object({
  accessToken: z.string().trim().min(1, 'is required').max(500),
  apiVersion: shopifyApiVersion.default(DEFAULT_SHOPIFY_API_VERSION),
  /** Where the Admin API is served for this store (a proxy, a test double); NULL: the shop domain. */
  apiBaseUrl: z.url({ protocol: /^https?$/ }).nullable().optional(),
});

export interface ShopifyConnection {
  storeId: string;
  storeName: string;
  shopDomain: string;
  accessToken: string;
  apiVersion: string;
  apiBaseUrl: string | null;
  currency: string;
  timezone: string;
}

const tokenContext = (storeId: string) => `stores.shopify_access_token:${storeId}`;

/** Stores' access tokens re-sealed under the current key, inside the caller's transaction; see reencryptSecrets. */
export async function resealShopifyTokens(trx: Transaction<DB>, keys: EncryptionKeys): Promise<ResealCount> {
  const rows = await trx
    .selectFrom('stores')
    .select(['id', 'name', 'shopify_access_token_encrypted'])
    .where('shopify_access_token_encrypted', 'is not', null)
    .orderBy('id')
    .forUpdate()
    .execute();
  const count: ResealCount = { resealed: 0, current: 0, unreadable: [] };
  for (const row of rows) {
    let opened: { value: unknown; underCurrentKey: boolean };
    try {
      opened = openSettingValue(tokenContext(row.id), JSON.parse(row.shopify_access_token_encrypted!.toString('utf8')), keys);
    } catch (err) {
      if (!(err instanceof SettingDecryptionError) && !(err instanceof SyntaxError)) throw err;
      count.unreadable.push(`the Shopify access token of store "${row.name}" (${row.id})`);
      continue;
    }
    if (opened.underCurrentKey) {
      count.current += 1;
      continue;
    }
    const sealed = Buffer.from(JSON.stringify(encryptSettingValue(tokenContext(row.id), opened.value, keys)), 'utf8');
    await trx.updateTable('stores').set({ shopify_access_token_encrypted: sealed }).where('id', '=', row.id).execute();
    count.resealed += 1;
  }
  return count;
}

/** The store is not set up for Shopify, or its settings cannot be used: no retry will help. */
export class ShopifyNotConnectedError extends AppError {
  constructor(message: string) {
    super(422, 'shopify_not_connected', message);
    this.name = 'ShopifyNotConnectedError';
  }
}

/** A store by id or by shop domain (what an operator types). */
export async function findStoreId(db: Database, idOrDomain: string): Promise<string> {
  const value = idOrDomain.trim();
  const query = db.selectFrom('stores').select('id');
  const row = uuid.safeParse(value).success
    ? await query.where('id', '=', value).executeTakeFirst()
    : await query.where('shop_domain', '=', value.toLowerCase()).executeTakeFirst();
  if (!row) throw notFound(`the store "${value}"`);
  return row.id;
}

/** Stores the Admin API token (encrypted), API version and base URL of a store that has a shop domain. */
export async function connectShopifyStore(db: Database, storeId: string, input: z.input<typeof shopifyConnectionInput>, encryptionKey: EncryptionKeys): Promise<void> {
  const parsed = shopifyConnectionInput.parse(input);
  const store = await db.selectFrom('stores').select(['shop_domain']).where('id', '=', storeId).executeTakeFirst();
  if (!store) throw notFound('the store');
  if (!store.shop_domain) throw unprocessable('the store has no shop domain: set its shopDomain (such as "nordic-home.myshopify.com") first');
  const sealed = Buffer.from(JSON.stringify(encryptSettingValue(tokenContext(storeId), parsed.accessToken, encryptionKey)), 'utf8');
  await db
    .updateTable('stores')
    .set({
      shopify_access_token_encrypted: sealed,
      shopify_api_version: parsed.apiVersion,
      ...(parsed.apiBaseUrl !== undefined && { shopify_api_base_url: parsed.apiBaseUrl }),
      updated_at: new Date(),
    })
    .where('id', '=', storeId)
    .execute();
}

/** Stores whose orders are synced: a shop domain and an access token. */
export async function listShopifyStoreIds(db: Database): Promise<string[]> {
  const rows = await db
    .selectFrom('stores')
    .select('id')
    .where('shop_domain', 'is not', null)
    .where('shopify_access_token_encrypted', 'is not', null)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

/** The store's decrypted Admin API access; ShopifyNotConnectedError when it has none or it cannot be read. */
export async function shopifyConnection(db: Database, storeId: string, encryptionKey: EncryptionKeys): Promise<ShopifyConnection> {
  const row = await db
    .selectFrom('stores')
    .select(['id', 'name', 'shop_domain', 'currency', 'timezone', 'shopify_access_token_encrypted', 'shopify_api_version', 'shopify_api_base_url'])
    .where('id', '=', storeId)
    .executeTakeFirst();
  if (!row) throw notFound('the store');
  if (!row.shop_domain || !row.shopify_access_token_encrypted) {
    throw new ShopifyNotConnectedError(`store "${row.name}" is not connected to Shopify: run \`pnpm dealdome shopify:connect --store ${row.id} …\``);
  }
  let accessToken: unknown;
  try {
    accessToken = decryptSettingValue(tokenContext(storeId), JSON.parse(row.shopify_access_token_encrypted.toString('utf8')), encryptionKey);
  } catch (err) {
    if (!(err instanceof SettingDecryptionError) && !(err instanceof SyntaxError)) throw err;
    throw new ShopifyNotConnectedError(
      `the Shopify access token of store "${row.name}" cannot be decrypted (altered, or sealed under another SETTINGS_ENCRYPTION_KEY): connect the store again`,
    );
  }
  if (typeof accessToken !== 'string') throw new ShopifyNotConnectedError(`the Shopify access token of store "${row.name}" is not a string: connect the store again`);
  return {
    storeId: row.id,
    storeName: row.name,
    shopDomain: row.shop_domain,
    accessToken,
    apiVersion: row.shopify_api_version ?? DEFAULT_SHOPIFY_API_VERSION,
    apiBaseUrl: row.shopify_api_base_url,
    currency: row.currency,
    timezone: row.timezone,
  };
}

export interface ShopifyClientSettings {
  /** SHOPIFY_API_BASE_URL: where every store's API is served unless the store names its own. */
  apiBaseUrl?: string | undefined;
  clock?: ShopifyClock;
  logger?: Logger;
}

/** Per API endpoint, the bucket's last report: a store's next client starts from it (one process; one round per store at a time). */
const buckets = new Map<string, ShopifyBucketMemory>();

/** A client for the store: its own base URL first, then SHOPIFY_API_BASE_URL, then the shop itself. */
export function shopifyClientFor(connection: ShopifyConnection, settings: ShopifyClientSettings = {}): ShopifyClient {
  const baseUrl = connection.apiBaseUrl ?? settings.apiBaseUrl;
  const key = `${baseUrl ?? connection.shopDomain}|${connection.shopDomain}`;
  let bucketMemory = buckets.get(key);
  if (!bucketMemory) {
    bucketMemory = {};
    buckets.set(key, bucketMemory);
  }
  return new ShopifyClient({
    bucketMemory,
    shopDomain: connection.shopDomain,
    accessToken: connection.accessToken,
    apiVersion: connection.apiVersion,
    ...(baseUrl && { baseUrl }),
    ...(settings.clock && { clock: settings.clock }),
    ...(settings.logger && { logger: settings.logger }),
  });
}
