import { z } from 'zod';
import { groupings, platforms } from './pnl';
import type { PnlReport } from './pnl';

/**
 * Response schemas of the reports: they describe the JSON the API sends, so the
 * OpenAPI document can be generated from them. Amounts leave the system as
 * decimal strings with exactly 2 decimals, rounded half-up, possibly negative.
 */
export const reportMoney = z
  .string()
  .regex(/^-?\d+\.\d{2}$/)
  .meta({ description: 'A decimal string with exactly 2 decimals, rounded half-up', example: '1234.50' });

/** A ratio such as ROAS: a decimal string with 2 decimals, or null when its denominator is zero. */
export const reportRatio = reportMoney.nullable();

export const isoDateOutput = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).meta({ example: '2026-11-01' });

export const pnlFiguresSchema = z.object({
  revenue: reportMoney,
  discounts: reportMoney,
  refunds: reportMoney,
  netRevenue: reportMoney,
  cogs: reportMoney,
  shippingCosts: reportMoney,
  transactionFees: reportMoney,
  grossProfit: reportMoney,
  adSpend: reportMoney,
  adSpendByPlatform: z.record(z.enum(platforms), reportMoney),
  fixedCosts: reportMoney,
  netProfit: reportMoney,
  marginPct: reportRatio,
  roas: reportRatio,
  poas: reportRatio,
  breakEvenRoas: reportRatio,
  orders: z.number().int(),
});

/** The P&L of `profitAndLoss`, as GET /v1/reports/pnl answers it and as snapshots store it. */
export const pnlReportSchema = z.object({
  currency: z.string().length(3),
  storeId: z.uuid().nullable(),
  from: isoDateOutput,
  to: isoDateOutput,
  groupBy: z.enum(groupings),
  rows: z.array(pnlFiguresSchema.extend({ period: z.string().meta({ examples: ['2026-11-05', '2026-W45', '2026-11'] }) })),
  totals: pnlFiguresSchema,
}) satisfies z.ZodType<PnlReport>;
