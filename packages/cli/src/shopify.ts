import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { z } from 'zod';
import { createLogger, encryptionKeys, encryptionKeysEnv, parseEnv, shopifyEnv } from '@dealdome/config';
import type { DatabaseHandle } from '@dealdome/db';
import { connectShopifyStore, findStoreId, shopifyApiVersion, shopifyClientFor, shopifyConnection, syncShopifyOrders } from '@dealdome/domain';
import type { ShopifySyncProgress } from '@dealdome/domain';
import { wholeNumber } from './options';

/**
 * `pnpm dealdome shopify:connect` and `shopify:backfill`: give a store its Admin API
 * access, and read its order history into the finance tables with a progress bar.
 */

const cliShopifyEnv = z.object({ ...encryptionKeysEnv, ...shopifyEnv });

export function registerShopifyCommands(
  program: Command,
  out: (line: string) => void,
  withDatabase: <T>(run: (handle: DatabaseHandle) => Promise<T>) => Promise<T>,
): void {
  program
    .command('shopify:connect')
    .description("store a shop's Admin API access token (encrypted with SETTINGS_ENCRYPTION_KEY) and API version; the store needs its shop domain")
    .requiredOption('--store <id|domain>', 'the store, by id or shop domain')
    .option('--token <token>', 'the Admin API access token (default: SHOPIFY_ACCESS_TOKEN, which keeps it out of the shell history)')
    .option('--api-version <version>', 'Admin API version', '2025-10')
    .option('--api-base-url <url>', "where this store's Admin API is served, when not at the shop domain")
    .action(async (options: { store: string; token?: string; apiVersion: string; apiBaseUrl?: string }) => {
      const env = parseEnv('dealdome', cliShopifyEnv);
      const accessToken = options.token ?? process.env.SHOPIFY_ACCESS_TOKEN;
      if (!accessToken) throw new Error('give the access token with --token or SHOPIFY_ACCESS_TOKEN');
      const version = shopifyApiVersion.safeParse(options.apiVersion);
      if (!version.success) throw new Error(`--api-version: ${version.error.issues[0]!.message}`);
      const line = await withDatabase(async ({ db }) => {
        const storeId = await findStoreId(db, options.store);
        await connectShopifyStore(db, storeId, { accessToken, apiVersion: version.data, ...(options.apiBaseUrl !== undefined && { apiBaseUrl: options.apiBaseUrl }) }, encryptionKeys(env));
        const connection = await shopifyConnection(db, storeId, encryptionKeys(env));
        // Proves the token before anyone relies on it.
        const client = shopifyClientFor(connection, { apiBaseUrl: env.SHOPIFY_API_BASE_URL });
        const { data } = await client.query<{ shop: { name: string; currencyCode: string } }>('{ shop { name currencyCode } }');
        const warning = data.shop.currencyCode === connection.currency ? '' : ` — warning: the shop sells in ${data.shop.currencyCode}, the store is kept in ${connection.currency}`;
        return `connected ${connection.shopDomain} (${data.shop.name}) to store ${connection.storeName}, API ${connection.apiVersion}${warning}`;
      });
      out(line);
    });

  program
    .command('shopify:backfill')
    .description("read a store's orders changed in the last N days into the finance tables (Shopify shows 60 days unless the app has read_all_orders)")
    .requiredOption('--store <id|domain>', 'the store, by id or shop domain')
    .option('--days <n>', 'how far back', '90')
    .option('--rewrite', 'write orders again even when Shopify reports them unchanged (after a change to how orders are counted)')
    .action(async (options: { store: string; days: string; rewrite?: boolean }) => {
      const days = wholeNumber(options.days, '--days', 1, 3660);
      const env = parseEnv('dealdome', cliShopifyEnv);
      const logger = createLogger('dealdome-cli', { level: 'warn' });
      const result = await withDatabase(async ({ db }) => {
        const storeId = await findStoreId(db, options.store);
        const connection = await shopifyConnection(db, storeId, encryptionKeys(env));
        const client = shopifyClientFor(connection, { apiBaseUrl: env.SHOPIFY_API_BASE_URL, logger });
        const since = new Date(Date.now() - days * 86_400_000);
        const span = Math.max(1, Date.now() - since.getTime());
        // The bar follows the orders' updatedAt through the window: Shopify sends them oldest change first.
        const bar = new SingleBar({
          format: `${connection.shopDomain} {bar} {percentage}% | {read} orders read, {written} written | {points} points | ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 50,
        });
        bar.start(span, 0, { read: 0, written: 0, points: 0 });
        const interrupt = new AbortController();
        const stop = () => interrupt.abort(new Error('interrupted; run the backfill again to go on from where it stopped'));
        process.once('SIGINT', stop);
        try {
          return await syncShopifyOrders(db, {
            storeId,
            client,
            since,
            logger,
            signal: interrupt.signal,
            rewrite: options.rewrite ?? false,
            onProgress: (progress: ShopifySyncProgress) => {
              const at = progress.cursor ? Date.parse(progress.cursor) - since.getTime() : 0;
              bar.update(Math.min(span, Math.max(0, at)), { read: progress.read, written: progress.written, points: Math.round(progress.pointsUsed) });
            },
          });
        } finally {
          process.off('SIGINT', stop);
          bar.stop();
        }
      });
      out(`read ${result.read} orders, wrote ${result.written}, rebuilt ${result.days.length} store-days (${result.days[0] ?? '-'} … ${result.days[result.days.length - 1] ?? '-'})`);
      out(`Shopify: ${result.requests} requests, ${result.pointsUsed} points, ${result.throttled} throttled, ${Math.round(result.waitedMs / 1000)} s waiting for the bucket`);
      if (result.unmatchedLines) out(`${result.unmatchedLines} order lines match no product (by variant or SKU): they count no cost of goods`);
    });
}
