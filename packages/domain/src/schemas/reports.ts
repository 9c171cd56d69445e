import { z } from 'zod';
import { groupings, platforms } from '../reports/pnl';
import type { PnlReport } from '../reports/pnl';
import { currencyOutput, dateOutput, idOutput, money2Output } from './common';
import type { Wire } from './common';

const ratio = money2Output.nullable();

export const pnlFiguresOutput = z
  .object({
    revenue: money2Output,
    discounts: money2Output,
    refunds: money2Output,
    netRevenue: money2Output.meta({ description: 'revenue − discounts − refunds' }),
    cogs: money2Output,
    shippingCosts: money2Output,
    transactionFees: money2Output,
    grossProfit: money2Output.meta({ description: 'netRevenue − cogs − shippingCosts − transactionFees' }),
    adSpend: money2Output,
    // Every platform is always present, zero or not.
    adSpendByPlatform: z.object(Object.fromEntries(platforms.map((p) => [p, money2Output]))),
    fixedCosts: money2Output,
    netProfit: money2Output.meta({ description: 'grossProfit − adSpend − fixedCosts' }),
    marginPct: ratio.meta({ description: 'netProfit ÷ netRevenue × 100; null when netRevenue is zero' }),
    roas: ratio.meta({ description: 'netRevenue ÷ adSpend; null without ad spend' }),
    poas: ratio.meta({ description: 'grossProfit ÷ adSpend; null without ad spend' }),
    breakEvenRoas: ratio.meta({ description: 'netRevenue ÷ grossProfit; null when grossProfit ≤ 0' }),
    orders: z.number().int(),
  })
  .meta({ id: 'PnlFigures' });

export const pnlRowOutput = z
  .object({
    period: z.string().meta({ description: 'A day, an ISO week or a month', examples: ['2026-11-05', '2026-W45', '2026-11'] }),
    ...pnlFiguresOutput.shape,
  })
  .meta({ id: 'PnlRow' });

export const pnlReportOutput = z
  .object({
    currency: currencyOutput,
    storeId: idOutput.nullable().meta({ description: 'null: every store' }),
    from: dateOutput,
    to: dateOutput,
    groupBy: z.enum(groupings),
    rows: z.array(pnlRowOutput).meta({ description: 'One per period the range touches, empty or not' }),
    totals: pnlFiguresOutput,
  })
  .meta({ id: 'PnlReport', description: 'Profit and loss over a date range' }) satisfies z.ZodType<Wire<PnlReport>>;
