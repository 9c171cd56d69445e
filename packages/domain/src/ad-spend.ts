import { randomUUID } from 'node:crypto';
import type { Database } from '@dealdome/db';
import { CsvError, parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import { z } from 'zod';
import { AppError, invalid, notFound, unprocessable } from './errors';
import type { FieldErrors } from './errors';
import { decodeCursor, toPage } from './pagination';
import type { Page, PageQuery } from './pagination';
import { currency, Decimal, isoDate, money, presentMoney, uuid } from './values';

/** Where the money went. `platforms` (the same list) is exported by the P&L report. */
export const adPlatforms = ['meta', 'tiktok', 'google', 'snapchat', 'pinterest', 'other'] as const;
export type AdPlatform = (typeof adPlatforms)[number];

export const MAX_AD_CAMPAIGN_LENGTH = 300;

// An empty campaign is no campaign.
const campaign = z
  .string()
  .trim()
  .max(MAX_AD_CAMPAIGN_LENGTH)
  .transform((v) => (v === '' ? null : v))
  .nullable()
  .optional();

export const adSpendInput = z.object({
  storeId: uuid,
  date: isoDate,
  platform: z.enum(adPlatforms),
  amount: money,
  currency,
  campaign,
  productId: uuid.nullable().optional(),
});
export const adSpendPatch = adSpendInput.partial();
export const adSpendFilters = z
  .object({
    storeId: uuid.optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    platform: z.enum(adPlatforms).optional(),
    productId: uuid.optional(),
    importBatchId: uuid.optional(),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, { message: 'must not be after `to`', path: ['from'] });

export interface AdSpendEntry {
  id: string;
  storeId: string;
  date: string;
  platform: AdPlatform;
  amount: string;
  currency: string;
  campaign: string | null;
  productId: string | null;
  importBatchId: string | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const columns = [
  'id',
  'store_id',
  'date',
  'platform',
  'amount',
  'currency',
  'campaign',
  'product_id',
  'import_batch_id',
  'created_by',
  'created_at',
  'updated_at',
] as const;
type Row = {
  id: string;
  store_id: string;
  date: string;
  platform: string;
  amount: string;
  currency: string;
  campaign: string | null;
  product_id: string | null;
  import_batch_id: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
};

const present = (r: Row): AdSpendEntry => ({
  id: r.id,
  storeId: r.store_id,
  date: r.date,
  platform: r.platform as AdPlatform,
  amount: presentMoney(r.amount),
  currency: r.currency,
  campaign: r.campaign,
  productId: r.product_id,
  importBatchId: r.import_batch_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const currencyMismatch = (given: string, storeCurrency: string) =>
  unprocessable(`the entry's currency ${given} differs from its store's currency ${storeCurrency}; ad spend is recorded in the store's currency`, {
    currency: [`must be ${storeCurrency}, the store's currency (got ${given})`],
  });

/**
 * The store must exist and keep its currency, the product must be the store's:
 * both rows are share-locked until the transaction ends, so neither changes under
 * the entry being written.
 */
async function checkEntry(trx: Database, entry: { storeId: string; currency: string; productId: string | null }): Promise<void> {
  const store = await trx.selectFrom('stores').select('currency').where('id', '=', entry.storeId).forShare().executeTakeFirst();
  if (!store) throw invalid({ storeId: ['no such store'] });
  if (store.currency !== entry.currency) throw currencyMismatch(entry.currency, store.currency);
  if (entry.productId === null) return;
  const product = await trx.selectFrom('products').select('store_id').where('id', '=', entry.productId).forShare().executeTakeFirst();
  if (!product) throw invalid({ productId: ['no such product'] });
  if (product.store_id !== entry.storeId) {
    throw unprocessable('the product belongs to another store', { productId: ['is not a product of this store'] });
  }
}

export async function createAdSpend(db: Database, input: z.infer<typeof adSpendInput>, createdBy: string | null): Promise<AdSpendEntry> {
  return db.transaction().execute(async (trx) => {
    const productId = input.productId ?? null;
    await checkEntry(trx, { storeId: input.storeId, currency: input.currency, productId });
    const row = await trx
      .insertInto('ad_spend_entries')
      .values({
        store_id: input.storeId,
        date: input.date,
        platform: input.platform,
        amount: input.amount,
        currency: input.currency,
        campaign: input.campaign ?? null,
        product_id: productId,
        created_by: createdBy,
      })
      .returning(columns)
      .executeTakeFirstOrThrow();
    return present(row);
  });
}

export async function getAdSpend(db: Database, id: string): Promise<AdSpendEntry> {
  const row = await db.selectFrom('ad_spend_entries').select(columns).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('the ad-spend entry');
  return present(row);
}

/** Newest day first; within a day, by id (stable, so pages never skip or repeat). */
export async function listAdSpend(db: Database, filters: z.infer<typeof adSpendFilters>, page: PageQuery): Promise<Page<AdSpendEntry>> {
  const after = decodeCursor(page.cursor);
  if (after && !isoDate.safeParse(after.key).success) throw invalid({ cursor: ['is not a cursor this API issued'] });
  let query = db
    .selectFrom('ad_spend_entries')
    .select(columns)
    .orderBy('date', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
  if (filters.storeId) query = query.where('store_id', '=', filters.storeId);
  if (filters.from) query = query.where('date', '>=', filters.from);
  if (filters.to) query = query.where('date', '<=', filters.to);
  if (filters.platform) query = query.where('platform', '=', filters.platform);
  if (filters.productId) query = query.where('product_id', '=', filters.productId);
  if (filters.importBatchId) query = query.where('import_batch_id', '=', filters.importBatchId);
  if (after) query = query.where((eb) => eb(eb.refTuple('date', 'id'), '<', eb.tuple(after.key, after.id)));
  return toPage(await query.execute(), page.limit, present, (r) => [r.date, r.id]);
}

/** A patch is checked as the whole entry it produces: moving it to another store needs that store's currency and products. */
export async function updateAdSpend(db: Database, id: string, patch: z.infer<typeof adSpendPatch>): Promise<AdSpendEntry> {
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('ad_spend_entries').select(['store_id', 'currency', 'product_id']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!current) throw notFound('the ad-spend entry');
    await checkEntry(trx, {
      storeId: patch.storeId ?? current.store_id,
      currency: patch.currency ?? current.currency,
      productId: patch.productId !== undefined ? patch.productId : current.product_id,
    });
    const row = await trx
      .updateTable('ad_spend_entries')
      .set({
        ...(patch.storeId !== undefined && { store_id: patch.storeId }),
        ...(patch.date !== undefined && { date: patch.date }),
        ...(patch.platform !== undefined && { platform: patch.platform }),
        ...(patch.amount !== undefined && { amount: patch.amount }),
        ...(patch.currency !== undefined && { currency: patch.currency }),
        ...(patch.campaign !== undefined && { campaign: patch.campaign }),
        ...(patch.productId !== undefined && { product_id: patch.productId }),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .returning(columns)
      .executeTakeFirstOrThrow();
    return present(row);
  });
}

export async function deleteAdSpend(db: Database, id: string): Promise<void> {
  const result = await db.deleteFrom('ad_spend_entries').where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('the ad-spend entry');
}

export interface AdSpendFact {
  storeId: string;
  date: string;
  platform: AdPlatform;
  amount: string;
  currency: string;
  productId: string | null;
}

/** Every entry of a date range (both ends included), for one store or all: what the P&L sums. */
export async function adSpendInRange(db: Database, range: { from: string; to: string; storeId?: string }): Promise<AdSpendFact[]> {
  let query = db
    .selectFrom('ad_spend_entries')
    .select(['store_id', 'date', 'platform', 'amount', 'currency', 'product_id'])
    .where('date', '>=', range.from)
    .where('date', '<=', range.to)
    .orderBy('date')
    .orderBy('store_id')
    .orderBy('id');
  if (range.storeId) query = query.where('store_id', '=', range.storeId);
  const rows = await query.execute();
  return rows.map((r) => ({
    storeId: r.store_id,
    date: r.date,
    platform: r.platform as AdPlatform,
    amount: presentMoney(r.amount),
    currency: r.currency,
    productId: r.product_id,
  }));
}

// ---------------------------------------------------------------- CSV import

export const MAX_AD_SPEND_IMPORT_ROWS = 50_000;
/** Bad rows listed in one refusal; the count of all of them is always given. */
export const MAX_AD_SPEND_REPORTED_ROWS = 1_000;
const INSERT_CHUNK = 1_000;

const importColumns = ['date', 'platform', 'amount', 'currency', 'campaign', 'sku', 'store'] as const;
type AdSpendImportColumn = (typeof importColumns)[number];
const requiredColumns: AdSpendImportColumn[] = ['date', 'platform', 'amount', 'currency'];

/**
 * A bad row: `row` is the row number a spreadsheet shows for it, the header being
 * row 1 (so the first data row is row 2); a quoted cell spanning lines is still one row.
 */
export interface AdSpendImportRowError {
  row: number;
  errors: FieldErrors;
}

/** The file was read but some rows are wrong: nothing was stored. */
export class AdSpendImportRejected extends AppError {
  constructor(
    readonly rows: AdSpendImportRowError[],
    readonly badRows: number,
  ) {
    const listed = badRows > rows.length ? `; the first ${rows.length} are listed` : '';
    super(
      422,
      'import_rejected',
      `${badRows} ${badRows === 1 ? 'row has' : 'rows have'} errors${listed}; nothing was imported. ` +
        'Row numbers are those a spreadsheet shows: the header is row 1, the first data row is row 2.',
    );
    this.name = 'AdSpendImportRejected';
  }
}

export interface AdSpendImportResult {
  importBatchId: string;
  imported: number;
  /** The file's one currency; null when its rows span stores of different currencies. */
  currency: string | null;
  /** Sum per platform in `currency`; null when the file spans currencies (see totalsByCurrency). */
  totalsByPlatform: Partial<Record<AdPlatform, string>> | null;
  totalsByCurrency: Record<string, Partial<Record<AdPlatform, string>>>;
}

interface ParsedRow {
  row: number;
  errors: FieldErrors;
  date: string;
  platform: AdPlatform;
  amount: string;
  currency: string;
  campaign: string | null;
  sku: string | null;
  storeRef: string | null;
}

/** A cell value quoted in a message, cut short so a huge cell never makes a huge answer. */
const quote = (value: string) => JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);

function fileProblem(message: string, errors: FieldErrors): AppError {
  return new AppError(422, 'invalid_file', message, errors);
}

function readRecords(csv: string): string[][] {
  if (csv.trim() === '') throw fileProblem('The file is empty: send a header row and at least one data row.', { file: ['is empty'] });
  try {
    // One header row plus one more than allowed: enough to know the file is too long.
    return parse(csv, { bom: true, relax_column_count: true, skip_empty_lines: false, to: MAX_AD_SPEND_IMPORT_ROWS + 2 });
  } catch (err) {
    if (err instanceof CsvError) throw fileProblem(`The file is not valid CSV: ${err.message}`, { file: [err.message] });
    throw err;
  }
}

function readHeader(header: string[], hasStoreQuery: boolean): Map<AdSpendImportColumn, number> {
  const positions = new Map<AdSpendImportColumn, number>();
  const problems: string[] = [];
  header.forEach((name, index) => {
    const column = name.trim().toLowerCase() as AdSpendImportColumn;
    if (!importColumns.includes(column)) return; // other columns of an export are ignored
    if (positions.has(column)) problems.push(`column "${column}" appears more than once`);
    positions.set(column, index);
  });
  for (const column of requiredColumns) if (!positions.has(column)) problems.push(`missing required column "${column}"`);
  if (problems.length > 0) {
    const hint = header.length === 1 && /[;\t]/.test(header[0] ?? '') ? ' Separate columns with commas (",").' : '';
    throw fileProblem(`The header row does not name the columns this import needs (${requiredColumns.join(', ')}).${hint}`, { columns: problems });
  }
  if (!positions.has('store') && !hasStoreQuery) throw invalid({ storeId: ['is required unless the file has a "store" column'] });
  return positions;
}

function readRow(cells: string[], rowNumber: number, positions: Map<AdSpendImportColumn, number>, width: number): ParsedRow {
  const errors: FieldErrors = {};
  const add = (column: string, message: string) => (errors[column] ??= []).push(message);
  const cell = (column: AdSpendImportColumn) => {
    const index = positions.get(column);
    return index === undefined ? '' : (cells[index] ?? '').trim();
  };
  if (cells.length !== width) add('(row)', `has ${cells.length} cells where the header has ${width}`);

  const date = cell('date');
  const dateCheck = isoDate.safeParse(date);
  if (date === '') add('date', 'is empty');
  else if (!dateCheck.success) dateCheck.error.issues.forEach((i) => add('date', `${quote(date)} ${i.message}`));

  const platform = cell('platform').toLowerCase();
  if (!(adPlatforms as readonly string[]).includes(platform)) {
    add('platform', `${platform === '' ? 'is empty' : quote(cell('platform'))}; expected one of ${adPlatforms.join(', ')}`);
  }

  const amount = cell('amount');
  if (amount === '') add('amount', 'is empty');
  else if (amount.startsWith('-')) add('amount', `${quote(amount)} is negative; spend is never below zero`);
  else if (/\d[,\s']\d/.test(amount)) add('amount', `${quote(amount)}: use "." as the decimal mark and no thousands separator, such as "1234.50"`);
  else if (!money.safeParse(amount).success) add('amount', `${quote(amount)} is not a decimal amount with at most 4 decimals, such as "1234.50"`);

  const code = cell('currency').toUpperCase();
  const currencyCheck = currency.safeParse(code);
  if (code === '') add('currency', 'is empty');
  else if (!currencyCheck.success) currencyCheck.error.issues.forEach((i) => add('currency', `${quote(cell('currency'))} ${i.message}`));

  const campaignText = cell('campaign');
  if (campaignText.length > MAX_AD_CAMPAIGN_LENGTH) add('campaign', `is longer than ${MAX_AD_CAMPAIGN_LENGTH} characters`);

  const sku = cell('sku');
  const storeRef = cell('store');
  return {
    row: rowNumber,
    errors,
    date,
    platform: platform as AdPlatform,
    amount,
    currency: code,
    campaign: campaignText === '' ? null : campaignText,
    sku: sku === '' ? null : sku,
    storeRef: storeRef === '' ? null : storeRef,
  };
}

const isUuid = (value: string) => uuid.safeParse(value).success;

/**
 * Imports an ads-manager CSV all or nothing: every row is checked first (values,
 * store, currency against the store's, SKU against the store's products); one bad
 * row refuses the file with every bad row named, otherwise all rows are stored in
 * one transaction under one import batch id.
 */
export async function importAdSpendCsv(
  db: Database,
  csv: string,
  options: { storeId?: string; createdBy: string | null },
): Promise<AdSpendImportResult> {
  // PostgreSQL text cannot hold NUL; a file carrying one is not a spreadsheet export.
  if (csv.includes('\u0000')) throw fileProblem('The file contains NUL characters; send the CSV as exported.', { file: ['contains NUL characters'] });
  const records = readRecords(csv);
  const [header, ...body] = records;
  if (!header) throw fileProblem('The file is empty: send a header row and at least one data row.', { file: ['is empty'] });
  const positions = readHeader(header, options.storeId !== undefined);
  // A blank line keeps its row number (a spreadsheet shows it too) but is no entry.
  const rows = body
    .map((cells, index) => ({ cells, rowNumber: index + 2 }))
    .filter(({ cells }) => cells.some((c) => c.trim() !== ''));
  if (body.length > MAX_AD_SPEND_IMPORT_ROWS) {
    throw fileProblem(`The file has more than ${MAX_AD_SPEND_IMPORT_ROWS} rows; split it into smaller files.`, { file: [`has more than ${MAX_AD_SPEND_IMPORT_ROWS} rows`] });
  }
  if (rows.length === 0) throw fileProblem('The file has a header row but no data rows.', { file: ['has no data rows'] });
  const parsed = rows.map(({ cells, rowNumber }) => readRow(cells, rowNumber, positions, header.length));

  return db.transaction().execute(async (trx) => {
    // Stores: the one of ?storeId plus those the store column names (by id or shop domain).
    const refs = [...new Set(parsed.map((r) => r.storeRef).filter((r): r is string => r !== null))];
    const ids = [...new Set([...(options.storeId ? [options.storeId] : []), ...refs.filter(isUuid)])];
    const domains = [...new Set(refs.filter((r) => !isUuid(r)).map((r) => r.toLowerCase()))];
    const stores =
      ids.length + domains.length === 0
        ? []
        : await trx
            .selectFrom('stores')
            .select(['id', 'shop_domain', 'currency'])
            .where((eb) =>
              eb.or([
                ...(ids.length > 0 ? [eb('id', '=', sql<string>`any(${ids}::uuid[])`)] : []),
                ...(domains.length > 0 ? [eb('shop_domain', '=', sql<string>`any(${domains}::text[])`)] : []),
              ]),
            )
            .forShare()
            .execute();
    const byId = new Map(stores.map((s) => [s.id, s]));
    const byDomain = new Map(stores.filter((s) => s.shop_domain !== null).map((s) => [s.shop_domain!, s]));
    if (options.storeId && !byId.has(options.storeId)) throw invalid({ storeId: ['no such store'] });

    const storeOf = (r: ParsedRow) => {
      if (r.storeRef === null) return options.storeId ? byId.get(options.storeId) : undefined;
      return isUuid(r.storeRef) ? byId.get(r.storeRef) : byDomain.get(r.storeRef.toLowerCase());
    };

    // Products: every (store, SKU) pair the file names, in one query.
    const pairs = parsed.flatMap((r) => {
      const store = storeOf(r);
      return store && r.sku !== null ? [{ storeId: store.id, sku: r.sku }] : [];
    });
    // Both lists may match more pairs than asked for; the map below picks the exact ones.
    const products =
      pairs.length === 0
        ? []
        : await trx
            .selectFrom('products')
            .select(['id', 'store_id', 'sku'])
            .where('store_id', '=', sql<string>`any(${[...new Set(pairs.map((p) => p.storeId))]}::uuid[])`)
            .where('sku', '=', sql<string>`any(${[...new Set(pairs.map((p) => p.sku))]}::text[])`)
            .forShare()
            .execute();
    const productKey = (storeId: string, sku: string) => `${storeId}\u0000${sku}`;
    const productIds = new Map(products.map((p) => [productKey(p.store_id, p.sku), p.id]));

    const values = parsed.map((r) => {
      const add = (column: string, message: string) => (r.errors[column] ??= []).push(message);
      const store = storeOf(r);
      if (!store) {
        if (r.storeRef !== null) add('store', `${quote(r.storeRef)} is neither the id nor the shop domain of a store`);
        else add('store', 'is empty and no ?storeId was given');
      } else if (!r.errors.currency && r.currency !== store.currency) {
        add('currency', `is ${r.currency}, but the store's currency is ${store.currency}`);
      }
      const productId = store && r.sku !== null ? productIds.get(productKey(store.id, r.sku)) : undefined;
      if (store && r.sku !== null && productId === undefined) add('sku', `${quote(r.sku)} is not a product SKU of this store`);
      return {
        store_id: store?.id ?? '',
        date: r.date,
        platform: r.platform,
        amount: r.amount,
        currency: r.currency,
        campaign: r.campaign,
        product_id: productId ?? null,
        created_by: options.createdBy,
      };
    });

    const bad = parsed.filter((r) => Object.keys(r.errors).length > 0);
    if (bad.length > 0) {
      throw new AdSpendImportRejected(
        bad.slice(0, MAX_AD_SPEND_REPORTED_ROWS).map((r) => ({ row: r.row, errors: r.errors })),
        bad.length,
      );
    }

    const importBatchId = randomUUID();
    for (let i = 0; i < values.length; i += INSERT_CHUNK) {
      await trx
        .insertInto('ad_spend_entries')
        .values(values.slice(i, i + INSERT_CHUNK).map((v) => ({ ...v, import_batch_id: importBatchId })))
        .execute();
    }

    const sums = new Map<string, Map<AdPlatform, Decimal>>();
    for (const v of values) {
      const perPlatform = sums.get(v.currency) ?? new Map<AdPlatform, Decimal>();
      sums.set(v.currency, perPlatform);
      perPlatform.set(v.platform, (perPlatform.get(v.platform) ?? new Decimal(0)).plus(v.amount));
    }
    const totalsByCurrency = Object.fromEntries(
      [...sums].map(([code, perPlatform]) => [
        code,
        Object.fromEntries(adPlatforms.filter((p) => perPlatform.has(p)).map((p) => [p, presentMoney(perPlatform.get(p)!.toFixed())])),
      ]),
    );
    const only = sums.size === 1 ? [...sums.keys()][0]! : null;
    return {
      importBatchId,
      imported: values.length,
      currency: only,
      totalsByPlatform: only === null ? null : totalsByCurrency[only]!,
      totalsByCurrency,
    };
  });
}
