'use client';

import { Area, Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatMoney, plotValue } from '../lib/money';
import { AD_PLATFORMS } from '../lib/types';
import type { PnlReport } from '../lib/types';

const COLORS: Record<string, string> = {
  meta: '#3b5bdb',
  tiktok: '#0ca678',
  google: '#f59f00',
  snapchat: '#fab005',
  pinterest: '#e03131',
  other: '#868e96',
  fixedCosts: '#ae3ec9',
  netRevenue: '#1c7ed6',
  netProfit: '#2f9e44',
};

// The tooltip shows the API's own strings, not the plotted numbers.
type Row = Record<string, string | number> & { period: string };

function rowsOf(report: PnlReport): Row[] {
  return report.rows.map((r) => {
    const row: Row = { period: r.period, netRevenue: plotValue(r.netRevenue), netProfit: plotValue(r.netProfit), fixedCosts: plotValue(r.fixedCosts) };
    row['label:netRevenue'] = r.netRevenue;
    row['label:netProfit'] = r.netProfit;
    row['label:fixedCosts'] = r.fixedCosts;
    for (const p of AD_PLATFORMS) {
      row[p] = plotValue(r.adSpendByPlatform[p] ?? '0.00');
      row[`label:${p}`] = r.adSpendByPlatform[p] ?? '0.00';
    }
    return row;
  });
}

function exactTooltip(currency: string) {
  return (_value: unknown, name: unknown, item: { dataKey?: unknown; payload?: Row }) => {
    const key = String(item.dataKey);
    const text = item.payload?.[`label:${key}`];
    return [typeof text === 'string' ? formatMoney(text, currency) : '', String(name)];
  };
}

const axisMoney = (currency: string) => (v: number) =>
  new Intl.NumberFormat('en-GB', { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 }).format(v);

export function RevenueProfitChart({ report }: { report: PnlReport }) {
  const data = rowsOf(report);
  return (
    <figure className="card chart" aria-label="Net revenue and net profit">
      <figcaption>Net revenue and net profit per {report.groupBy}</figcaption>
      <ResponsiveContainer width="100%" height={260}>
        <ComposedChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="period" tick={{ fontSize: 11 }} minTickGap={16} />
          <YAxis tickFormatter={axisMoney(report.currency)} width={64} tick={{ fontSize: 11 }} />
          <Tooltip formatter={exactTooltip(report.currency)} />
          <Legend />
          <Bar dataKey="netRevenue" name="Net revenue" fill={COLORS.netRevenue} isAnimationActive={false} />
          <Line dataKey="netProfit" name="Net profit" stroke={COLORS.netProfit} strokeWidth={2} dot={false} isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** Ad spend stacked by platform, with fixed costs as their own band behind the bars. */
export function CostsChart({ report }: { report: PnlReport }) {
  const data = rowsOf(report);
  const used = AD_PLATFORMS.filter((p) => report.rows.some((r) => (r.adSpendByPlatform[p] ?? '0.00') !== '0.00'));
  return (
    <figure className="card chart" aria-label="Ad spend by platform and fixed costs">
      <figcaption>Ad spend by platform, and fixed costs, per {report.groupBy}</figcaption>
      <ResponsiveContainer width="100%" height={260}>
        <ComposedChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="period" tick={{ fontSize: 11 }} minTickGap={16} />
          <YAxis tickFormatter={axisMoney(report.currency)} width={64} tick={{ fontSize: 11 }} />
          <Tooltip formatter={exactTooltip(report.currency)} />
          <Legend />
          <Area dataKey="fixedCosts" name="Fixed costs" type="stepAfter" fill={COLORS.fixedCosts} stroke={COLORS.fixedCosts} fillOpacity={0.25} isAnimationActive={false} />
          {used.map((p) => (
            <Bar key={p} dataKey={p} name={p} stackId="ads" fill={COLORS[p]} isAnimationActive={false} />
          ))}
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
}
