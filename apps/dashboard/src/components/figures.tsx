'use client';

import Decimal from 'decimal.js';
import { formatCount, formatMoney, formatRatio, percentChange } from '../lib/money';
import type { PnlFigures } from '../lib/types';

type Kind = 'money' | 'ratio' | 'percent' | 'count';

interface Figure {
  key: 'netRevenue' | 'netProfit' | 'marginPct' | 'roas' | 'poas' | 'orders';
  label: string;
  kind: Kind;
}

const FIGURES: Figure[] = [
  { key: 'netRevenue', label: 'Net revenue', kind: 'money' },
  { key: 'netProfit', label: 'Net profit', kind: 'money' },
  { key: 'marginPct', label: 'Margin', kind: 'percent' },
  { key: 'roas', label: 'ROAS', kind: 'ratio' },
  { key: 'poas', label: 'POAS', kind: 'ratio' },
  { key: 'orders', label: 'Orders', kind: 'count' },
];

function show(value: string | number | null, kind: Kind, currency: string): string {
  if (value === null) return '—';
  if (kind === 'count') return formatCount(Number(value));
  if (kind === 'money') return formatMoney(String(value), currency);
  if (kind === 'percent') return formatRatio(String(value), ' %');
  return formatRatio(String(value));
}

/** The change against the previous period: percent for amounts, points for the margin. */
function change(current: string | number | null, previous: string | number | null, kind: Kind): string | null {
  if (kind === 'percent') {
    if (current === null || previous === null) return null;
    return `${new Decimal(current).minus(new Decimal(previous)).toFixed(1)} pp`;
  }
  const pct = percentChange(current, previous);
  return pct === null ? null : `${pct} %`;
}

export function HeadlineFigures({ totals, previous, currency }: { totals: PnlFigures; previous: PnlFigures | undefined; currency: string }) {
  return (
    <section className="figures" aria-label="Headline figures">
      {FIGURES.map((f) => {
        const value = totals[f.key];
        const delta = previous ? change(value, previous[f.key], f.kind) : null;
        const direction = delta === null ? '' : delta.startsWith('-') ? 'down' : delta.startsWith('0.0') ? '' : 'up';
        return (
          <div key={f.key} className="figure card">
            <span className="label">{f.label}</span>
            <span className="value" data-testid={`figure-${f.key}`} data-value={value === null ? '' : String(value)}>
              {show(value, f.kind, currency)}
            </span>
            <span className={`delta ${direction}`} data-testid={`change-${f.key}`}>
              {previous === undefined ? '…' : delta === null ? 'no earlier figure' : `${delta.startsWith('-') ? '' : '+'}${delta} vs previous period`}
            </span>
          </div>
        );
      })}
    </section>
  );
}
