import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { invalid, notFound } from './errors';
import { decodeCursor, toPage } from './pagination';
import type { Page, PageQuery } from './pagination';
import { currency, dateToMonth, isoDate, isoMonth, money, monthToDate, presentMoney, uuid } from './values';

/**
 * Fixed costs: rent, software, salaries. A cost runs monthly from its start month
 * through its end month (both included; no end month: still running). A cost without
 * a store is shared by every store. Months travel as "YYYY-MM" and are stored as the
 * first day of the month.
 */
// The database has no year 0; a month this far from today is a typo anyway.
const month = isoMonth.refine((m) => m >= '1900-01', 'must be 1900-01 or later');

const fields = {
  name: z.string().trim().min(1).max(200),
  category: z.string().trim().min(1).max(100),
  amount: money,
  currency,
  storeId: uuid.nullable().optional(),
  startMonth: month,
  endMonth: month.nullable().optional(),
};

const endNotBeforeStart = (c: { startMonth?: string; endMonth?: string | null }) =>
  c.startMonth === undefined || c.endMonth === undefined || c.endMonth === null || c.endMonth >= c.startMonth;
const endMessage = { message: 'must not be before `startMonth`', path: ['endMonth'] };

export const fixedCostInput = z.object(fields).refine(endNotBeforeStart, endMessage);
/** A patch is checked against the stored cost too: see updateFixedCost. */
export const fixedCostPatch = z.object(fields).partial().refine(endNotBeforeStart, endMessage);
export const fixedCostFilters = z.object({
  /** A store's own costs, or "shared" for the costs every store shares. */
  storeId: z
    .string()
    .refine((v) => v === 'shared' || uuid.safeParse(v).success, 'expected a store id or "shared"')
    .optional(),
  /** Costs running in that month. */
  activeIn: month.optional(),
});

export interface FixedCost {
  id: string;
  storeId: string | null;
  name: string;
  category: string;
  amount: string;
  currency: string;
  startMonth: string;
  endMonth: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const columns = ['id', 'store_id', 'name', 'category', 'amount', 'currency', 'start_month', 'end_month', 'created_at', 'updated_at'] as const;
type Row = {
  id: string;
  store_id: string | null;
  name: string;
  category: string;
  amount: string;
  currency: string;
  start_month: string;
  end_month: string | null;
  created_at: Date;
  updated_at: Date;
};

const present = (r: Row): FixedCost => ({
  id: r.id,
  storeId: r.store_id,
  name: r.name,
  category: r.category,
  amount: presentMoney(r.amount),
  currency: r.currency,
  startMonth: dateToMonth(r.start_month),
  endMonth: r.end_month === null ? null : dateToMonth(r.end_month),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The store must exist, share-locked so it is not deleted under the cost being written. */
async function checkStore(trx: Database, storeId: string | null): Promise<void> {
  if (storeId === null) return;
  const store = await trx.selectFrom('stores').select('id').where('id', '=', storeId).forShare().executeTakeFirst();
  if (!store) throw invalid({ storeId: ['no such store'] }, 'The store does not exist.');
}

/** Should the foreign key fire anyway (a race the lock above rules out), it is still a 400. */
function foreignKey(err: unknown): never {
  if ((err as { code?: string }).code === '23503') throw invalid({ storeId: ['no such store'] }, 'The store does not exist.');
  throw err;
}

export async function createFixedCost(db: Database, input: z.infer<typeof fixedCostInput>): Promise<FixedCost> {
  return db.transaction().execute(async (trx) => {
    const storeId = input.storeId ?? null;
    await checkStore(trx, storeId);
    const row = await trx
      .insertInto('fixed_costs')
      .values({
        store_id: storeId,
        name: input.name,
        category: input.category,
        amount: input.amount,
        currency: input.currency,
        start_month: monthToDate(input.startMonth),
        end_month: input.endMonth ? monthToDate(input.endMonth) : null,
      })
      .returning(columns)
      .executeTakeFirstOrThrow()
      .catch(foreignKey);
    return present(row);
  });
}

export async function getFixedCost(db: Database, id: string): Promise<FixedCost> {
  const row = await db.selectFrom('fixed_costs').select(columns).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('the fixed cost');
  return present(row);
}

/** Oldest start month first; within a month, by id (stable, so pages never skip or repeat). */
export async function listFixedCosts(db: Database, filters: z.infer<typeof fixedCostFilters>, page: PageQuery): Promise<Page<FixedCost>> {
  const after = decodeCursor(page.cursor);
  if (after && !isoDate.safeParse(after.key).success) throw invalid({ cursor: ['is not a cursor this API issued'] });
  let query = db.selectFrom('fixed_costs').select(columns).orderBy('start_month').orderBy('id').limit(page.limit + 1);
  if (filters.storeId === 'shared') query = query.where('store_id', 'is', null);
  else if (filters.storeId) query = query.where('store_id', '=', filters.storeId);
  if (filters.activeIn) {
    const month = monthToDate(filters.activeIn);
    query = query.where('start_month', '<=', month).where((eb) => eb.or([eb('end_month', 'is', null), eb('end_month', '>=', month)]));
  }
  if (after) query = query.where((eb) => eb(eb.refTuple('start_month', 'id'), '>', eb.tuple(after.key, after.id)));
  return toPage(await query.execute(), page.limit, present, (r) => [r.start_month, r.id]);
}

/** A patch is checked as the whole cost it produces: ending a cost before it starts is refused. */
export async function updateFixedCost(db: Database, id: string, patch: z.infer<typeof fixedCostPatch>): Promise<FixedCost> {
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('fixed_costs').select(['start_month', 'end_month']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!current) throw notFound('the fixed cost');
    const startMonth = patch.startMonth ?? dateToMonth(current.start_month);
    const endMonth = patch.endMonth !== undefined ? patch.endMonth : current.end_month === null ? null : dateToMonth(current.end_month);
    if (endMonth !== null && endMonth < startMonth) {
      const field = patch.endMonth !== undefined ? 'endMonth' : 'startMonth';
      const message = field === 'endMonth' ? `must not be before \`startMonth\` (${startMonth})` : `must not be after \`endMonth\` (${endMonth})`;
      throw invalid({ [field]: [message] });
    }
    if (patch.storeId !== undefined) await checkStore(trx, patch.storeId);
    const row = await trx
      .updateTable('fixed_costs')
      .set({
        ...(patch.storeId !== undefined && { store_id: patch.storeId }),
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.category !== undefined && { category: patch.category }),
        ...(patch.amount !== undefined && { amount: patch.amount }),
        ...(patch.currency !== undefined && { currency: patch.currency }),
        ...(patch.startMonth !== undefined && { start_month: monthToDate(patch.startMonth) }),
        ...(patch.endMonth !== undefined && { end_month: patch.endMonth === null ? null : monthToDate(patch.endMonth) }),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .returning(columns)
      .executeTakeFirstOrThrow()
      .catch(foreignKey);
    return present(row);
  });
}

export async function deleteFixedCost(db: Database, id: string): Promise<void> {
  const result = await db.deleteFrom('fixed_costs').where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('the fixed cost');
}

export interface FixedCostFact {
  id: string;
  storeId: string | null;
  amount: string;
  currency: string;
  /** First day of the start month, YYYY-MM-DD. */
  startMonth: string;
  /** First day of the end month (the cost runs through that whole month), or null. */
  endMonth: string | null;
}

/**
 * The costs running on at least one day of [from, to] (YYYY-MM-DD, both included),
 * for the P&L. `storeId` undefined: every cost, shared or not; a store id: that
 * store's own costs only; null: only the shared costs.
 */
export async function fixedCostsInRange(db: Database, range: { from: string; to: string; storeId?: string | null }): Promise<FixedCostFact[]> {
  // A cost ending in month M runs through M's last day, so it overlaps when M >= the month of `from`.
  const fromMonth = monthToDate(dateToMonth(range.from));
  let query = db
    .selectFrom('fixed_costs')
    .select(['id', 'store_id', 'amount', 'currency', 'start_month', 'end_month'])
    .where('start_month', '<=', range.to)
    .where((eb) => eb.or([eb('end_month', 'is', null), eb('end_month', '>=', fromMonth)]))
    .orderBy('start_month')
    .orderBy('id');
  if (range.storeId === null) query = query.where('store_id', 'is', null);
  else if (range.storeId !== undefined) query = query.where('store_id', '=', range.storeId);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    storeId: r.store_id,
    amount: presentMoney(r.amount),
    currency: r.currency,
    startMonth: r.start_month,
    endMonth: r.end_month,
  }));
}
