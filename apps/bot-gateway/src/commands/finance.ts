import { AppError, profitAndLoss, teamTimeZone, todayIn } from '@dealdome/domain';
import type { PnlFigures } from '@dealdome/domain';
import { esc, groupDigits } from '../html';
import { pnlRanges, resolvePnlRange } from '../time';
import type { PnlRange } from '../time';
import type { Command } from './registry';

const DEFAULT_RANGE: PnlRange = 'yesterday';

/** The report's figures as a reply. Amounts are the report's own strings, only grouped: no float on the way. */
export function formatPnl(label: string, range: { from: string; to: string }, currency: string, totals: PnlFigures): string {
  const money = (value: string) => `${groupDigits(value)} ${currency}`;
  const days = range.from === range.to ? range.from : `${range.from} – ${range.to}`;
  const platforms = Object.entries(totals.adSpendByPlatform)
    .filter(([, amount]) => amount !== '0.00')
    .map(([platform, amount]) => `${platform} ${groupDigits(amount)}`);
  const ratio = (name: string, value: string | null, suffix = '') => `${name} ${value === null ? '—' : `${groupDigits(value)}${suffix}`}`;
  return [
    `<b>P&amp;L ${esc(label)}</b> (${days}, all stores, ${esc(currency)})`,
    `Revenue: ${money(totals.revenue)}`,
    `Discounts: ${money(totals.discounts)} · Refunds: ${money(totals.refunds)}`,
    `Net revenue: ${money(totals.netRevenue)}`,
    `COGS: ${money(totals.cogs)} · Shipping: ${money(totals.shippingCosts)} · Fees: ${money(totals.transactionFees)}`,
    `<b>Gross profit: ${money(totals.grossProfit)}</b>`,
    `Ad spend: ${money(totals.adSpend)}${platforms.length > 0 ? ` (${platforms.join(' · ')})` : ''}`,
    `Fixed costs: ${money(totals.fixedCosts)}`,
    `<b>Net profit: ${money(totals.netProfit)}</b>`,
    `${ratio('Margin', totals.marginPct, '%')} · ${ratio('ROAS', totals.roas)} · ${ratio('POAS', totals.poas)} · Orders ${totals.orders}`,
  ].join('\n');
}

export const financeCommands: Command[] = [
  {
    name: 'pnl',
    usage: `[${pnlRanges.join('|')}]`,
    description: `profit and loss of all stores in the reporting currency (default ${DEFAULT_RANGE})`,
    handle: async (ctx, args) => {
      const word = (args.trim().split(/\s+/)[0] ?? '').toLowerCase() || DEFAULT_RANGE;
      const range = pnlRanges.find((r) => r === word);
      if (!range) {
        await ctx.reply(`I know these periods: ${pnlRanges.join(', ')}. For example: /pnl 7d`);
        return;
      }
      const zone = await teamTimeZone(ctx.db);
      const days = resolvePnlRange(range, todayIn(zone));
      try {
        const report = await profitAndLoss(ctx.db, { ...days, groupBy: 'day' });
        await ctx.reply(formatPnl(range, days, report.currency, report.totals));
      } catch (err) {
        // A missing exchange rate names the currency and day: worth saying as it is.
        if (err instanceof AppError && err.status === 422) {
          await ctx.reply(`I cannot make that P&amp;L: ${esc(err.message)}`);
          return;
        }
        throw err;
      }
    },
  },
];
