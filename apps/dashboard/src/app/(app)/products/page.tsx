'use client';

import Decimal from 'decimal.js';
import Link from 'next/link';
import { useState } from 'react';
import { CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CsvButton, Empty, ErrorNote, Loading, PageHeader, useAction } from '../../../components/ui';
import { yesterday } from '../../../lib/dates';
import { FilterBar, useFilters } from '../../../lib/filters';
import { formatCount, formatMoney, formatRatio, plotValue } from '../../../lib/money';
import { useSession } from '../../../lib/session';
import type { Page, ProductCost, ProductPerformance, ProductReport } from '../../../lib/types';
import { useApi } from '../../../lib/use-api';

type Row = ProductReport['rows'][number];
type SortKey = 'name' | 'units' | 'revenue' | 'adSpend' | 'roas' | 'profit';

const COLUMNS: { key: SortKey; label: string; numeric: boolean }[] = [
  { key: 'name', label: 'Product', numeric: false },
  { key: 'units', label: 'Units', numeric: true },
  { key: 'revenue', label: 'Revenue', numeric: true },
  { key: 'adSpend', label: 'Ad spend', numeric: true },
  { key: 'roas', label: 'ROAS', numeric: true },
  { key: 'profit', label: 'Profit', numeric: true },
];

/** Sorts on the exact values: decimal strings compared as decimals, a missing ROAS last. */
function compare(a: Row, b: Row, key: SortKey): number {
  if (key === 'name') return a.name.localeCompare(b.name);
  if (key === 'units') return a.units - b.units;
  const x = a[key];
  const y = b[key];
  if (x === null || y === null) return x === y ? 0 : x === null ? -1 : 1;
  return new Decimal(x).comparedTo(new Decimal(y));
}

export default function ProductsPage() {
  const { filters } = useFilters();
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'profit', descending: true });
  const [selected, setSelected] = useState<Row>();
  const query = { from: filters.from, to: filters.to, storeId: filters.storeId || undefined, sortBy: 'profit', limit: 200 };
  const report = useApi<ProductReport>(`products:${JSON.stringify(query)}`, (c) => c.get('/v1/reports/products', query));

  const rows = [...(report.data?.rows ?? [])].sort((a, b) => (sort.descending ? -1 : 1) * compare(a, b, sort.key));
  return (
    <>
      <PageHeader title="Products">
        <CsvButton path="/v1/reports/products" query={query} name="products.csv" />
      </PageHeader>
      <FilterBar />
      <ErrorNote error={report.error} />
      {report.loading && <Loading what="product performance" />}
      {report.data && rows.length === 0 && (
        <Empty title="No products in this range">
          Products come from Shopify (<code>pnpm dealdome shopify:connect</code>) or from the API (<code>POST /v1/products</code>). Once they
          sell, units, revenue and profit appear here; attribute ad spend to a product (its SKU in the <Link href="/ad-spend">ad-spend</Link>{' '}
          CSV) to see its ROAS.
        </Empty>
      )}
      {rows.length > 0 && report.data && (
        <div className={`table-wrap ${report.loading ? 'stale' : ''}`}>
          <table data-testid="products-table">
            <thead>
              <tr>
                {COLUMNS.map((c) => (
                  <th key={c.key} className={c.numeric ? 'num' : ''} aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                    <button type="button" onClick={() => setSort((s) => ({ key: c.key, descending: s.key === c.key ? !s.descending : c.numeric }))}>
                      {c.label}
                      {sort.key === c.key ? (sort.descending ? ' ▼' : ' ▲') : ''}
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.productId} className={selected?.productId === r.productId ? 'selected' : ''} onClick={() => setSelected(r)} style={{ cursor: 'pointer' }}>
                  <td>
                    {r.name} <span className="muted">{r.sku}</span>
                  </td>
                  <td className="num">{formatCount(r.units)}</td>
                  <td className="num">{formatMoney(r.revenue, r.currency)}</td>
                  <td className="num">{formatMoney(r.adSpend, r.currency)}</td>
                  <td className="num">{formatRatio(r.roas)}</td>
                  <td className="num" data-testid="product-profit">
                    {formatMoney(r.profit, r.currency)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {rows.length > 0 && !selected && <p className="muted">Pick a product to see its trend and cost history.</p>}
      {selected && <ProductDetail key={selected.productId} product={selected} />}
    </>
  );
}

function ProductDetail({ product }: { product: Row }) {
  const { filters } = useFilters();
  const query = { from: filters.from, to: filters.to, productId: product.productId, limit: 200 };
  const trend = useApi<Page<ProductPerformance>>(`trend:${JSON.stringify(query)}`, (c) => c.get('/v1/product-performance', query));
  const points = [...(trend.data?.data ?? [])]
    .sort((a, b) => a.date.localeCompare(b.date))
    .map((p) => ({ date: p.date, revenue: plotValue(p.revenue), adSpend: plotValue(p.adSpend), label: p }));
  const currency = trend.data?.data[0]?.currency;
  return (
    <section className="charts">
      <figure className="card chart" aria-label={`Trend of ${product.name}`}>
        <figcaption>
          {product.name}: revenue and ad spend per day{currency ? ` (${currency})` : ''}
        </figcaption>
        <ErrorNote error={trend.error} />
        {trend.loading && <Loading what="the trend" />}
        {trend.data && points.length === 0 && <p className="muted">No sales recorded for this product in the range.</p>}
        {points.length > 0 && currency && (
          <ResponsiveContainer width="100%" height={240}>
            <ComposedChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="date" tick={{ fontSize: 11 }} minTickGap={16} />
              <YAxis width={56} tick={{ fontSize: 11 }} />
              <Tooltip
                formatter={(_v: unknown, name: unknown, item: { dataKey?: unknown; payload?: (typeof points)[number] }) => {
                  const p = item.payload?.label;
                  const exact = item.dataKey === 'revenue' ? p?.revenue : p?.adSpend;
                  return [exact ? formatMoney(exact, currency) : '', String(name)];
                }}
              />
              <Legend />
              <Line dataKey="revenue" name="Revenue" stroke="#1c7ed6" dot={false} isAnimationActive={false} />
              <Line dataKey="adSpend" name="Ad spend" stroke="#e03131" dot={false} isAnimationActive={false} />
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </figure>
      <CostHistory productId={product.productId} />
    </section>
  );
}

function CostHistory({ productId }: { productId: string }) {
  const { canWrite } = useSession();
  const costs = useApi<{ data: ProductCost[] }>(`costs:${productId}`, (c) => c.get(`/v1/products/${productId}/costs`));
  const { client } = useSession();
  const action = useAction();
  const [costPrice, setCostPrice] = useState('');
  const [effectiveFrom, setEffectiveFrom] = useState(yesterday());
  return (
    <div className="card">
      <h2>Cost history</h2>
      <ErrorNote error={costs.error} />
      {costs.loading && <Loading what="costs" />}
      {costs.data && costs.data.data.length === 0 && <p className="muted">No cost recorded: its sales are costed at zero until one is.</p>}
      {costs.data && costs.data.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>From</th>
              <th className="num">Unit cost</th>
            </tr>
          </thead>
          <tbody>
            {costs.data.data.map((c) => (
              <tr key={`${c.effectiveFrom}-${c.createdAt}`}>
                <td>{c.effectiveFrom}</td>
                <td className="num">{formatMoney(c.costPrice, c.currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canWrite && (
        <form
          className="inline"
          aria-label="Add a cost"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              await client.post(`/v1/products/${productId}/costs`, { costPrice, effectiveFrom });
              setCostPrice('');
              costs.reload();
            });
          }}
        >
          <label>
            Unit cost
            <input name="costPrice" inputMode="decimal" required pattern="\d+(\.\d{1,4})?" value={costPrice} onChange={(e) => setCostPrice(e.target.value)} />
          </label>
          <label>
            Valid from
            <input type="date" name="effectiveFrom" required value={effectiveFrom} onChange={(e) => setEffectiveFrom(e.target.value)} />
          </label>
          <button type="submit" disabled={action.busy}>
            Add cost
          </button>
          <ErrorNote error={action.error} />
        </form>
      )}
    </div>
  );
}
