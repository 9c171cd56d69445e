'use client';

import Link from 'next/link';
import { CostsChart, RevenueProfitChart } from '../../components/charts';
import { HeadlineFigures } from '../../components/figures';
import { CsvButton, Empty, ErrorNote, Loading, PageHeader } from '../../components/ui';
import { previousRange } from '../../lib/dates';
import { FilterBar, useFilters } from '../../lib/filters';
import type { PnlReport } from '../../lib/types';
import { useApi } from '../../lib/use-api';

export default function OverviewPage() {
  const { filters, stores } = useFilters();
  const query = { from: filters.from, to: filters.to, groupBy: filters.groupBy, storeId: filters.storeId || undefined };
  const before = previousRange(filters.from, filters.to);
  const previousQuery = { ...query, ...before, groupBy: 'month' };
  const report = useApi<PnlReport>(`pnl:${JSON.stringify(query)}`, (c) => c.get('/v1/reports/pnl', query));
  const previous = useApi<PnlReport>(`pnl-previous:${JSON.stringify(previousQuery)}`, (c) => c.get('/v1/reports/pnl', previousQuery));

  if (stores.data && stores.data.data.length === 0) {
    return (
      <>
        <PageHeader title="Overview" />
        <Empty title="No stores yet">
          Start by adding your first store under <Link href="/stores">Stores &amp; FX</Link> (an admin can), or connect Shopify with{' '}
          <code>pnpm dealdome shopify:connect</code>. Then log ad spend and fixed costs, and the profit appears here.
        </Empty>
      </>
    );
  }

  const data = report.data;
  const quiet = data && data.totals.orders === 0 && data.totals.revenue === '0.00' && data.totals.adSpend === '0.00';
  return (
    <>
      <PageHeader title="Overview">
        <CsvButton path="/v1/reports/pnl" query={query} name="pnl.csv" />
      </PageHeader>
      <FilterBar groupBy />
      <ErrorNote error={report.error} />
      {report.loading && <Loading what="the P&L" />}
      {data && (
        <div className={report.loading ? 'stale' : ''} data-testid="overview" data-currency={data.currency}>
          <p className="muted">
            {data.storeId ? 'One store' : 'All stores'}, {data.from} to {data.to}, in {data.currency}.
          </p>
          {quiet && (
            <Empty title="No sales or ad spend in this range">
              Pick a longer range, or record what happened: import ad spend as CSV under <Link href="/ad-spend">Ad spend</Link>, add your
              monthly costs under <Link href="/fixed-costs">Fixed costs</Link>, and connect Shopify for orders.
            </Empty>
          )}
          <HeadlineFigures totals={data.totals} previous={previous.data?.totals} currency={data.currency} />
          <ErrorNote error={previous.error && `The previous period could not be compared: ${previous.error.message}`} />
          <div className="charts">
            <RevenueProfitChart report={data} />
            <CostsChart report={data} />
          </div>
        </div>
      )}
    </>
  );
}
