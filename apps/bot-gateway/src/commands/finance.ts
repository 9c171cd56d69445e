import { AppError, formatPnl, profitAndLoss, teamTimeZone, todayIn } from '@dealdome/domain';
import { esc } from '../html';
import { pnlRanges, resolvePnlRange } from '../time';
import type { PnlRange } from '../time';
import type { Command } from './registry';

const DEFAULT_RANGE: PnlRange = 'yesterday';

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
