import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { conflict, invalid, notFound, unprocessable } from './errors';
import { decodeCursor, toPage } from './pagination';
import type { Page, PageQuery } from './pagination';
import { currency, isoDate, money, presentMoney, uuid } from './values';

export const productStatuses = ['testing', 'winning', 'paused', 'killed'] as const;

export const productInput = z.object({
  storeId: uuid,
  sku: z.string().trim().min(1).max(100),
  name: z.string().trim().min(1).max(300),
  description: z.string().max(5000).nullable().optional(),
  costPrice: money,
  currency,
  status: z.enum(productStatuses).default('testing'),
  /** The day the first cost takes effect (default: today, UTC). */
  costEffectiveFrom: isoDate.optional(),
});
// The cost changes only through its history (POST /costs), so it is not patchable.
export const productPatch = z
  .object({
    sku: z.string().trim().min(1).max(100),
    name: z.string().trim().min(1).max(300),
    description: z.string().max(5000).nullable(),
    status: z.enum(productStatuses),
  })
  .partial();
export const productFilters = z.object({
  storeId: uuid.optional(),
  status: z.enum(productStatuses).optional(),
  q: z.string().trim().max(200).optional(),
});
export const costInput = z.object({ costPrice: money, effectiveFrom: isoDate });

export interface Product {
  id: string;
  storeId: string;
  sku: string;
  name: string;
  description: string | null;
  costPrice: string;
  currency: string;
  status: (typeof productStatuses)[number];
  createdAt: Date;
  updatedAt: Date;
}

export interface ProductCost {
  costPrice: string;
  currency: string;
  effectiveFrom: string;
  createdAt: Date;
}

const columns = ['id', 'store_id', 'sku', 'name', 'description', 'cost_price', 'currency', 'status', 'created_at', 'updated_at'] as const;
type Row = {
  id: string;
  store_id: string;
  sku: string;
  name: string;
  description: string | null;
  cost_price: string;
  currency: string;
  status: string;
  created_at: Date;
  updated_at: Date;
};

const present = (r: Row): Product => ({
  id: r.id,
  storeId: r.store_id,
  sku: r.sku,
  name: r.name,
  description: r.description,
  costPrice: presentMoney(r.cost_price),
  currency: r.currency,
  status: r.status as Product['status'],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const today = () => new Date().toISOString().slice(0, 10);

function uniqueSku(err: unknown): never {
  if ((err as { constraint?: string }).constraint === 'products_store_id_sku_key') throw conflict('the store already has a product with this SKU');
  throw err;
}

export async function createProduct(db: Database, input: z.infer<typeof productInput>, createdBy: string | null): Promise<Product> {
  return db.transaction().execute(async (trx) => {
    const store = await trx.selectFrom('stores').select('currency').where('id', '=', input.storeId).executeTakeFirst();
    if (!store) throw invalid({ storeId: ['no such store'] });
    if (store.currency !== input.currency) {
      throw unprocessable(`the product's currency ${input.currency} differs from its store's currency ${store.currency}`, {
        currency: [`must be ${store.currency}, the store's currency`],
      });
    }
    const row = await trx
      .insertInto('products')
      .values({
        store_id: input.storeId,
        sku: input.sku,
        name: input.name,
        description: input.description ?? null,
        cost_price: input.costPrice,
        currency: input.currency,
        status: input.status,
      })
      .returning(columns)
      .executeTakeFirstOrThrow()
      .catch(uniqueSku);
    await trx
      .insertInto('product_costs')
      .values({ product_id: row.id, cost_price: input.costPrice, currency: input.currency, effective_from: input.costEffectiveFrom ?? today(), created_by: createdBy })
      .execute();
    return present(row);
  });
}

export async function getProduct(db: Database, id: string): Promise<Product> {
  const row = await db.selectFrom('products').select(columns).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('the product');
  return present(row);
}

export async function listProducts(db: Database, filters: z.infer<typeof productFilters>, page: PageQuery): Promise<Page<Product>> {
  const after = decodeCursor(page.cursor);
  let query = db.selectFrom('products').select(columns).orderBy('name').orderBy('id').limit(page.limit + 1);
  if (filters.storeId) query = query.where('store_id', '=', filters.storeId);
  if (filters.status) query = query.where('status', '=', filters.status);
  if (filters.q) {
    const pattern = `%${filters.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([eb('name', 'ilike', pattern), eb('sku', 'ilike', pattern)]));
  }
  if (after) query = query.where((eb) => eb(eb.refTuple('name', 'id'), '>', eb.tuple(after.key, after.id)));
  return toPage(await query.execute(), page.limit, present, (r) => [r.name, r.id]);
}

export async function updateProduct(db: Database, id: string, patch: z.infer<typeof productPatch>): Promise<Product> {
  const row = await db
    .updateTable('products')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirst()
    .catch(uniqueSku);
  if (!row) throw notFound('the product');
  return present(row);
}

export async function deleteProduct(db: Database, id: string): Promise<void> {
  const result = await db.deleteFrom('products').where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('the product');
}

/**
 * Records a cost from a day on (replacing one recorded for that same day). The
 * product's current cost is the one in effect today.
 */
export async function addProductCost(db: Database, productId: string, input: z.infer<typeof costInput>, createdBy: string | null): Promise<ProductCost[]> {
  return db.transaction().execute(async (trx) => {
    const product = await trx.selectFrom('products').select(['currency']).where('id', '=', productId).forUpdate().executeTakeFirst();
    if (!product) throw notFound('the product');
    await trx
      .insertInto('product_costs')
      .values({ product_id: productId, cost_price: input.costPrice, currency: product.currency, effective_from: input.effectiveFrom, created_by: createdBy })
      .onConflict((oc) => oc.columns(['product_id', 'effective_from']).doUpdateSet({ cost_price: input.costPrice, created_by: createdBy, created_at: new Date() }))
      .execute();
    const current = await costOn(trx, productId, today());
    if (current) await trx.updateTable('products').set({ cost_price: current, updated_at: new Date() }).where('id', '=', productId).execute();
    return listProductCosts(trx, productId);
  });
}

export async function listProductCosts(db: Database, productId: string): Promise<ProductCost[]> {
  const rows = await db
    .selectFrom('product_costs')
    .select(['cost_price', 'currency', 'effective_from', 'created_at'])
    .where('product_id', '=', productId)
    .orderBy('effective_from')
    .execute();
  if (rows.length === 0) {
    const exists = await db.selectFrom('products').select('id').where('id', '=', productId).executeTakeFirst();
    if (!exists) throw notFound('the product');
  }
  return rows.map((r) => ({ costPrice: presentMoney(r.cost_price), currency: r.currency, effectiveFrom: r.effective_from, createdAt: r.created_at }));
}

/**
 * The unit cost valid on a day: the latest recorded on or before it. A sale dated
 * before the first recorded cost is costed at that first cost rather than at zero.
 */
export async function costOn(db: Database, productId: string, date: string): Promise<string | undefined> {
  const base = db.selectFrom('product_costs').select('cost_price').where('product_id', '=', productId).limit(1);
  const inEffect = await base.where('effective_from', '<=', date).orderBy('effective_from', 'desc').executeTakeFirst();
  if (inEffect) return inEffect.cost_price;
  return (await base.orderBy('effective_from', 'asc').executeTakeFirst())?.cost_price;
}
