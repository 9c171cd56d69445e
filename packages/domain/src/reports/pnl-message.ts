import { escapeHtml } from '../delivery';
import type { PnlFigures } from './pnl';

/**
 * The P&L as a Telegram message (Telegram HTML), shared by /pnl in the gateway and
 * the scheduler's daily digest so both say the same figures the same way.
 */

/** 1234567.5 → "1,234,567.50": grouping for a decimal string, without a float. */
export function groupDigits(decimal: string): string {
  const negative = decimal.startsWith('-');
  const [whole = '0', fraction] = (negative ? decimal.slice(1) : decimal).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${fraction !== undefined ? `.${fraction}` : ''}`;
}

/**
 * The report's figures as a message. Amounts are the report's own strings, only
 * grouped: no float on the way. `scope` says whose figures they are (a store's name,
 * or all stores).
 */
export function formatPnl(
  label: string,
  range: { from: string; to: string },
  currency: string,
  totals: PnlFigures,
  scope = 'all stores',
): string {
  const money = (value: string) => `${groupDigits(value)} ${currency}`;
  const days = range.from === range.to ? range.from : `${range.from} – ${range.to}`;
  const platforms = Object.entries(totals.adSpendByPlatform)
    .filter(([, amount]) => amount !== '0.00')
    .map(([platform, amount]) => `${platform} ${groupDigits(amount)}`);
  const ratio = (name: string, value: string | null, suffix = '') => `${name} ${value === null ? '—' : `${groupDigits(value)}${suffix}`}`;
  return [
    `<b>P&amp;L ${escapeHtml(label)}</b> (${days}, ${escapeHtml(scope)}, ${escapeHtml(currency)})`,
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
