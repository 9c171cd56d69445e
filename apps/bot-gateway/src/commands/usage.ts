import { teamTimeZone, todayIn, usageBetween } from '@dealdome/domain';
import type { UsageFigures } from '@dealdome/domain';
import { esc, groupDigits } from '../html';
import { addMonths, firstOfMonth } from '../time';
import type { Command } from './registry';

/** Cost to the cent, or to a hundredth of a cent while it is below a dollar. */
function dollars(cost: string): string {
  const [whole = '0', fraction = ''] = cost.split('.');
  const digits = whole === '0' ? 4 : 2;
  return `$${groupDigits(whole)}.${fraction.padEnd(digits, '0').slice(0, digits)}`;
}

const line = (name: string, f: UsageFigures) =>
  `${name}: ${groupDigits(String(f.inputTokens + f.cacheReadTokens + f.cacheWriteTokens))} in / ${groupDigits(String(f.outputTokens))} out tokens · ${dollars(f.costUsd)} (${f.replies} repl${f.replies === 1 ? 'y' : 'ies'})`;

export const usageCommands: Command[] = [
  {
    name: 'usage',
    description: 'tokens and cost of the agents this month, per agent and per person',
    handle: async (ctx) => {
      const zone = await teamTimeZone(ctx.db);
      const from = firstOfMonth(todayIn(zone));
      const report = await usageBetween(ctx.db, { from, to: addMonths(from, 1), timeZone: zone });
      const month = from.slice(0, 7);
      if (report.total.replies === 0) {
        await ctx.reply(`No agent replies in ${month} yet.`);
        return;
      }
      const capitalized = (agent: string) => agent.charAt(0).toUpperCase() + agent.slice(1);
      await ctx.reply(
        [
          `<b>Agent usage in ${month}</b> (${esc(zone)})`,
          ...report.byAgent.map((r) => line(capitalized(r.agent), r)),
          '',
          '<b>Per person</b>',
          ...report.byPerson.map((r) => line(esc(r.displayName ?? 'no one (system)'), r)),
          '',
          line('<b>Total</b>', report.total),
        ].join('\n'),
      );
    },
  },
];
