import { createHash } from 'node:crypto';
import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { conflict, invalid, notFound, unprocessable } from './errors';
import { decodeCursor, toPage } from './pagination';
import type { Page, PageQuery } from './pagination';
import { anyTermQuery, QUERY_EMBED_TIMEOUT_MS, rankHybrid, recordSearch, relevanceFloor } from './search/hybrid';
import type { QueryEmbedder } from './search/hybrid';
import { currency, isoDate, money, presentMoney, uuid } from './values';

export type { QueryEmbedder } from './search/hybrid';

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
export const productSearchQuery = z.object({
  q: z.string().trim().min(1).max(200).meta({ description: 'Words, a description of the product, or a SKU (whole or its beginning)' }),
  storeId: uuid.optional(),
  status: z.enum(productStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(50).default(10),
});

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

export interface ProductUpdate {
  product: Product;
  /**
   * The product has no vector now: its name or description changed (which drops
   * the vector of the old text) or it was never embedded. Queue its `embed` job
   * once this is committed (see productEmbeddingKey).
   */
  needsEmbedding: boolean;
}

export async function updateProduct(db: Database, id: string, patch: z.infer<typeof productPatch>): Promise<ProductUpdate> {
  // SET sees the row as it was: the vector is kept only while the text it was made from is.
  const sameText = [
    ...(patch.name !== undefined ? [sql<boolean>`name = ${patch.name}`] : []),
    ...(patch.description !== undefined ? [sql<boolean>`description IS NOT DISTINCT FROM ${patch.description}::text`] : []),
  ];
  const kept = sameText.length ? sql.join(sameText, sql` AND `) : null;
  const row = await db
    .updateTable('products')
    .set({
      ...patch,
      updated_at: new Date(),
      ...(kept && { embedding: sql`CASE WHEN ${kept} THEN embedding END`, embedding_model: sql`CASE WHEN ${kept} THEN embedding_model END` }),
    })
    .where('id', '=', id)
    .returning([...columns, sql<boolean>`embedding IS NULL`.as('unembedded')])
    .executeTakeFirst()
    .catch(uniqueSku);
  if (!row) throw notFound('the product');
  return { product: present(row), needsEmbedding: row.unembedded };
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

/**
 * The key of the text a product is embedded by — its name, then its description on
 * the next line, as the embedding-worker reads it — as that worker's cache keys
 * texts (sha256, hex). With the product id it names the product's `embed` job, so
 * queueing an unchanged product again adds nothing.
 */
export function productEmbeddingKey(product: { name: string; description: string | null }): string {
  const text = product.description ? `${product.name}\n${product.description}` : product.name;
  return createHash('sha256').update(text).digest('hex');
}

export interface ProductSearchHit extends Product {
  /** Reciprocal rank fusion over the two sides (see search/hybrid.ts); higher is better. */
  score: number;
  /** Cosine similarity to the query; null when only the text side found the product (its vector is missing or below the relevance floor). */
  vectorSimilarity: number | null;
  /** Position among the text matches (1 = best); null when only the vector side found the product. */
  textRank: number | null;
  /** 'vector': by its meaning alone (at or above the model's relevance floor); 'text': by its SKU or words alone. */
  matchedBy: 'vector' | 'text' | 'both';
}

export interface ProductSearchResult {
  /** The model the query was embedded with, whose vectors it was compared to. */
  model: string;
  /** 'fulltext' when the query could not be embedded and its words alone were searched. */
  mode: 'hybrid' | 'fulltext';
  hits: ProductSearchHit[];
}

export interface ProductSearchOptions {
  /** How long embedding the query may take (retries included) before its words are searched alone; default 5 s. */
  embedTimeoutMs?: number;
  /** Told why the query could not be embedded (the search goes on with its words). */
  onEmbeddingFailure?: (err: unknown) => void;
  /** Who searched, recorded with the search in search_metrics. */
  userId?: string | null;
}

/** Letters and digits at both ends of a word: "(NH-2291)," is looked up as "nh-2291". */
const OUTER_PUNCTUATION = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu;
const SKU_LIKE = /[\p{N}\-_/.]/u;

/**
 * The SKUs the query may name, lower-cased: the whole query and each of its words
 * equal to a SKU, and as SKU beginnings the query when it is one word, or each word
 * that looks like part of a SKU (a digit or - _ / .) — "lamp for desk" should not
 * find every SKU starting with LAMP, "NH-22" should find NH-2291.
 */
function skuTerms(q: string): { exact: string[]; prefixes: string[] } {
  const whole = q.trim().toLowerCase();
  const words = whole
    .split(/\s+/)
    .map((w) => w.replace(OUTER_PUNCTUATION, ''))
    .filter(Boolean);
  const exact = [...new Set([whole, ...words])].slice(0, 32);
  const prefixes = [...new Set(words.length === 1 ? words : words.filter((w) => SKU_LIKE.test(w)))].filter((w) => w.length >= 2).slice(0, 8);
  return { exact, prefixes: prefixes.map((w) => `${w.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) };
}

/**
 * Hybrid product search (see search/hybrid.ts): the products nearest to the query
 * in meaning (their name and description embedded) and those it names by SKU or
 * shares words with, fused by reciprocal rank. The text side puts a SKU named whole
 * first, then word matches (name and SKU above description), then SKUs the query
 * begins; so a SKU is found however far its vector is. Filtered by store and status
 * on both sides. Every search writes a search_metrics row (target 'products').
 */
export async function searchProducts(
  db: Database,
  provider: QueryEmbedder,
  query: z.infer<typeof productSearchQuery>,
  options: ProductSearchOptions = {},
): Promise<ProductSearchResult> {
  const started = performance.now();
  let queryVector: number[] | null = null;
  try {
    [queryVector = null] = await provider.embed([query.q], { signal: AbortSignal.timeout(options.embedTimeoutMs ?? QUERY_EMBED_TIMEOUT_MS) });
  } catch (err) {
    options.onEmbeddingFailure?.(err);
  }
  const embeddingMs = performance.now() - started;
  const dbStarted = performance.now();
  const filters = [
    ...(query.storeId ? [sql<boolean>`p.store_id = ${query.storeId}`] : []),
    ...(query.status ? [sql<boolean>`p.status = ${query.status}`] : []),
  ];
  const filtered = filters.length ? sql`AND ${sql.join(filters, sql` AND `)}` : sql``;
  const tsquery = anyTermQuery(query.q);
  const sku = skuTerms(query.q);
  const skuExact = sql<boolean>`lower(p.sku) = ANY(${sku.exact}::text[])`;
  const words = sql`to_tsquery('english', ${tsquery}::text)`;

  const { vector, chosen, topSimilarity } = await rankHybrid(
    db,
    { queryVector, model: provider.model, limit: query.limit },
    {
      nearest: (queryVector, candidates) => sql<{ id: string; distance: number }>`
        SELECT p.id, p.embedding <=> ${queryVector}::vector AS distance
        FROM products p
        WHERE p.embedding_model = ${provider.model} ${filtered}
        ORDER BY distance
        LIMIT ${candidates}`,
      // Each arm can use its index: lower(sku) for the SKUs, the GIN index for the words.
      matching: (candidates) => sql<{ id: string }>`
        SELECT p.id
        FROM products p
        WHERE (${sql.join([skuExact, ...sku.prefixes.map((prefix) => sql<boolean>`lower(p.sku) LIKE ${prefix}`), sql<boolean>`p.tsv @@ ${words}`], sql` OR `)})
          ${filtered}
        ORDER BY ${skuExact} DESC, ts_rank_cd(p.tsv, ${words}) DESC NULLS LAST, p.name, p.id
        LIMIT ${candidates}`,
    },
  );

  const floor = relevanceFloor(provider.model);
  const rows = chosen.length ? await db.selectFrom('products').select(columns).where('id', 'in', chosen.map((c) => c.id)).execute() : [];
  const databaseMs = performance.now() - dbStarted;
  const byId = new Map(rows.map((r) => [r.id, r]));
  const hits = chosen.flatMap(({ id, ranked }): ProductSearchHit[] => {
    // A product deleted between the two reads is left out.
    const row = byId.get(id);
    if (!row) return [];
    // The vector side ranks every near product, but only one at or above the floor counts as found by its meaning.
    const similar = ranked.similarity !== null && ranked.similarity >= floor ? ranked.similarity : null;
    const matchedBy = similar === null ? 'text' : ranked.textRank === null ? 'vector' : 'both';
    return [{ ...present(row), score: ranked.score, vectorSimilarity: similar, textRank: ranked.textRank, matchedBy }];
  });
  await recordSearch(db, {
    target: 'products',
    query: query.q,
    model: vector === null ? null : provider.model,
    userId: options.userId ?? null,
    hits: hits.length,
    topScore: hits[0]?.score ?? null,
    topSimilarity,
    embeddingMs: vector === null ? null : embeddingMs,
    databaseMs,
    totalMs: performance.now() - started,
  });
  return { model: provider.model, mode: vector === null ? 'fulltext' : 'hybrid', hits };
}
