import {
  addProductCost,
  costInput,
  createProduct,
  dateRange,
  deleteProduct,
  getProduct,
  isoDate,
  listProductCosts,
  listProductPerformance,
  listProducts,
  pageQuery,
  performanceFilters,
  performanceInput,
  productCostListOutput,
  productFilters,
  productInput,
  productOutput,
  productPageOutput,
  productEmbeddingKey,
  productPatch,
  productPerformancePageOutput,
  productSearchQuery,
  searchProducts,
  updateProduct,
  upsertProductPerformance,
  uuid,
} from '@dealdome/domain';
import type { Product, ProductSearchHit, Wire } from '@dealdome/domain';
import type { EmbeddingProvider } from '@dealdome/ai';
import type { Database } from '@dealdome/db';
import { jobIds } from '@dealdome/queues';
import type { Producer } from '@dealdome/queues';
import type { Request } from 'express';
import { z } from 'zod';
import type { Api } from '../http/api';
import { actorId } from '../http/auth';

const idParam = z.object({ id: uuid });
const dayParam = z.object({ id: uuid, date: isoDate });

const productHitOutput = productOutput
  .extend({
    score: z.number().meta({ description: 'Reciprocal rank fusion: Σ 1/(60 + rank) over the sides that found the product; higher is better' }),
    vectorSimilarity: z.number().nullable().meta({ description: 'Cosine similarity to the query; null when only the word search found the product' }),
    textRank: z.number().int().min(1).nullable().meta({ description: 'Rank among the SKU and word matches (1 = best); null when nothing matched' }),
    matchedBy: z.enum(['vector', 'text', 'both']).meta({ description: 'Which side found the product: its meaning, its SKU or words, or both' }),
  })
  .meta({ id: 'ProductSearchHit' }) satisfies z.ZodType<Wire<ProductSearchHit>>;
const productSearchOutput = z
  .object({
    query: z.string(),
    model: z.string().meta({ description: 'The embedding model the query was compared with', example: 'text-embedding-3-small' }),
    hits: z.array(productHitOutput).meta({ description: 'Best first' }),
  })
  .meta({ id: 'ProductSearch', description: 'Products for a query, best first' });

/**
 * Queues the product's embedding, its row being committed. The job id carries the
 * key of its text, so an unchanged product adds nothing while its job is kept; a
 * finished job of that id is one whose text came back (renamed and renamed back)
 * and is replaced, or the add would be a no-op. The write stands when this fails:
 * the embedding-worker's start-up backfill embeds every product still without a
 * vector.
 */
async function queueEmbedding(producer: Producer, product: Product, req: Request): Promise<void> {
  const jobId = jobIds.embedProduct(product.id, productEmbeddingKey(product));
  try {
    const previous = await producer.queue('embeddings').getJob(jobId);
    if (previous && ((await previous.isCompleted()) || (await previous.isFailed()))) await previous.remove();
    await producer.enqueue('embeddings', 'embed', { kind: 'product', ids: [product.id] }, { jobId });
  } catch (err) {
    req.log.error({ err, productId: product.id }, 'queueing the product embedding failed; the embedding-worker backfills it when it starts');
  }
}

export function productRoutes(api: Api, db: Database, producer: Producer, embeddings: EmbeddingProvider): void {
  api.route({
    operationId: 'listProducts',
    method: 'get',
    path: '/v1/products',
    summary: 'List products, by name',
    description: '`q` matches name or SKU, case-insensitively.',
    tag: 'Products',
    guard: 'read',
    query: [productFilters, pageQuery],
    status: 200,
    response: productPageOutput,
    csv: { filename: 'products' },
    handle: ({ query }) => listProducts(db, query, query),
  });
  // Before /v1/products/:id, which would take "search" for an id.
  api.route({
    operationId: 'searchProducts',
    method: 'get',
    path: '/v1/products/search',
    summary: 'Search products by meaning, words and SKU',
    description:
      'Hybrid search, as for the transcripts: the products nearest to the query in meaning (the embedding of their name and ' +
      'description against the query\'s, same model) and those it names by SKU (whole, or its beginning: `NH-22` finds ' +
      '`NH-2291`) or shares words with, fused by reciprocal rank (k = 60). A product found only by meaning is kept when it is ' +
      'close enough, so an unrelated query answers few or no hits. `storeId` and `status` filter both sides. A product is ' +
      'embedded shortly after it is created or renamed; until then only its SKU and words find it, as when the query cannot be embedded.',
    tag: 'Products',
    guard: 'read',
    query: productSearchQuery,
    status: 200,
    response: productSearchOutput,
    csv: { filename: 'product-search', rows: (answer) => answer.hits, row: productHitOutput },
    handle: async ({ query }, { req, res }) => {
      const { model, hits } = await searchProducts(db, embeddings, query, {
        onEmbeddingFailure: (err) => req.log.warn({ err, model: embeddings.model }, 'embedding the query failed; searching its words only'),
        userId: actorId(res),
      });
      return { query: query.q, model, hits };
    },
  });
  api.route({
    operationId: 'createProduct',
    method: 'post',
    path: '/v1/products',
    summary: 'Create a product',
    description: "The currency must be the store's; SKUs are unique per store. The cost is recorded as the first entry of its history.",
    tag: 'Products',
    guard: 'write',
    body: productInput,
    status: 201,
    response: productOutput,
    problems: [409, 422],
    handle: async ({ body }, { req, res }) => {
      const product = await createProduct(db, body, actorId(res));
      await queueEmbedding(producer, product, req);
      return product;
    },
  });
  api.route({
    operationId: 'getProduct',
    method: 'get',
    path: '/v1/products/:id',
    summary: 'Get a product',
    tag: 'Products',
    guard: 'read',
    params: idParam,
    status: 200,
    response: productOutput,
    handle: ({ params }) => getProduct(db, params.id),
  });
  api.route({
    operationId: 'updateProduct',
    method: 'patch',
    path: '/v1/products/:id',
    summary: 'Change a product',
    description: 'The cost changes only through its history (POST /v1/products/{id}/costs). A new name or description is embedded anew for search.',
    tag: 'Products',
    guard: 'write',
    params: idParam,
    body: productPatch,
    status: 200,
    response: productOutput,
    problems: [409],
    handle: async ({ params, body }, { req }) => {
      const { product, needsEmbedding } = await updateProduct(db, params.id, body);
      if (needsEmbedding) await queueEmbedding(producer, product, req);
      return product;
    },
  });
  api.route({
    operationId: 'deleteProduct',
    method: 'delete',
    path: '/v1/products/:id',
    summary: 'Delete a product',
    tag: 'Products',
    guard: 'write',
    params: idParam,
    status: 204,
    handle: ({ params }) => deleteProduct(db, params.id),
  });

  api.route({
    operationId: 'listProductCosts',
    method: 'get',
    path: '/v1/products/:id/costs',
    summary: "A product's cost history, oldest first",
    tag: 'Products',
    guard: 'read',
    params: idParam,
    status: 200,
    response: productCostListOutput,
    csv: { filename: 'product-costs' },
    handle: async ({ params }) => ({ data: await listProductCosts(db, params.id) }),
  });
  api.route({
    operationId: 'addProductCost',
    method: 'post',
    path: '/v1/products/:id/costs',
    summary: 'Record a cost from a day on',
    description: "Replaces a cost recorded for the same day. Answers the whole history; the product's `costPrice` becomes the cost in effect today.",
    tag: 'Products',
    guard: 'write',
    params: idParam,
    body: costInput,
    status: 201,
    response: productCostListOutput,
    handle: async ({ params, body }, { res }) => ({ data: await addProductCost(db, params.id, body, actorId(res)) }),
  });

  api.route({
    operationId: 'putProductPerformance',
    method: 'put',
    path: '/v1/products/:id/performance/:date',
    summary: 'Record units sold and revenue of a product on a day',
    tag: 'Products',
    guard: 'write',
    params: dayParam,
    body: performanceInput,
    status: 204,
    handle: ({ params, body }) => upsertProductPerformance(db, params.id, params.date, body),
  });
  api.route({
    operationId: 'listProductPerformance',
    method: 'get',
    path: '/v1/product-performance',
    summary: 'Units, revenue, ad spend and ROAS per product per day',
    description: 'Ad spend is summed from the ad-spend entries attributed to the product.',
    tag: 'Products',
    guard: 'read',
    query: [dateRange, performanceFilters, pageQuery],
    status: 200,
    response: productPerformancePageOutput,
    csv: { filename: 'product-performance' },
    handle: ({ query }) => listProductPerformance(db, query, query, query),
  });
}
