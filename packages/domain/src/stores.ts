import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { conflict, notFound } from './errors';
import { decodeCursor, toPage } from './pagination';
import type { Page, PageQuery } from './pagination';
import { currency, timeZone } from './values';

export const storeInput = z.object({
  name: z.string().trim().min(1).max(200),
  shopDomain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, 'expected a shop domain such as "nordic-home.myshopify.com"')
    .nullable()
    .optional(),
  currency,
  timezone: timeZone,
});
export const storePatch = storeInput.partial();

export interface Store {
  id: string;
  name: string;
  shopDomain: string | null;
  currency: string;
  timezone: string;
  createdAt: Date;
  updatedAt: Date;
}

const columns = ['id', 'name', 'shop_domain', 'currency', 'timezone', 'created_at', 'updated_at'] as const;
type Row = { id: string; name: string; shop_domain: string | null; currency: string; timezone: string; created_at: Date; updated_at: Date };

const present = (r: Row): Store => ({
  id: r.id,
  name: r.name,
  shopDomain: r.shop_domain,
  currency: r.currency,
  timezone: r.timezone,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

function uniqueDomain(err: unknown): never {
  if ((err as { constraint?: string }).constraint === 'stores_shop_domain_key') throw conflict('another store has this shop domain');
  throw err;
}

export async function createStore(db: Database, input: z.infer<typeof storeInput>): Promise<Store> {
  const row = await db
    .insertInto('stores')
    .values({ name: input.name, shop_domain: input.shopDomain ?? null, currency: input.currency, timezone: input.timezone })
    .returning(columns)
    .executeTakeFirstOrThrow()
    .catch(uniqueDomain);
  return present(row);
}

export async function getStore(db: Database, id: string): Promise<Store> {
  const row = await db.selectFrom('stores').select(columns).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('the store');
  return present(row);
}

export async function listStores(db: Database, page: PageQuery): Promise<Page<Store>> {
  const after = decodeCursor(page.cursor);
  let query = db.selectFrom('stores').select(columns).orderBy('name').orderBy('id').limit(page.limit + 1);
  if (after) query = query.where((eb) => eb(eb.refTuple('name', 'id'), '>', eb.tuple(after.key, after.id)));
  return toPage(await query.execute(), page.limit, present, (r) => [r.name, r.id]);
}

export async function updateStore(db: Database, id: string, patch: z.infer<typeof storePatch>): Promise<Store> {
  const row = await db
    .updateTable('stores')
    .set({
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.shopDomain !== undefined && { shop_domain: patch.shopDomain }),
      ...(patch.currency !== undefined && { currency: patch.currency }),
      ...(patch.timezone !== undefined && { timezone: patch.timezone }),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirst()
    .catch(uniqueDomain);
  if (!row) throw notFound('the store');
  return present(row);
}

/** A store with finance history cannot be deleted (the schema restricts it); say so plainly. */
export async function deleteStore(db: Database, id: string): Promise<void> {
  try {
    const result = await db.deleteFrom('stores').where('id', '=', id).executeTakeFirst();
    if (result.numDeletedRows === 0n) throw notFound('the store');
  } catch (err) {
    if ((err as { code?: string }).code === '23503') throw conflict('the store has finance records; it cannot be deleted');
    throw err;
  }
}
