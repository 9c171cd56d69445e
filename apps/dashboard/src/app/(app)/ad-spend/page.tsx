'use client';

import { useState } from 'react';
import { CsvButton, Empty, ErrorNote, Loading, PageHeader, StoreOptions, useAction } from '../../../components/ui';
import { ApiError } from '../../../lib/api';
import { yesterday } from '../../../lib/dates';
import { FilterBar, useFilters } from '../../../lib/filters';
import { formatMoney } from '../../../lib/money';
import { useSession } from '../../../lib/session';
import { AD_PLATFORMS } from '../../../lib/types';
import type { AdSpendEntry, AdSpendImport, AdSpendImportProblem, Page } from '../../../lib/types';
import { useApi } from '../../../lib/use-api';

export default function AdSpendPage() {
  const { filters, storeOf, stores } = useFilters();
  const { canWrite } = useSession();
  const [cursor, setCursor] = useState<string>();
  const query = { from: filters.from, to: filters.to, storeId: filters.storeId || undefined, limit: 100, cursor };
  const list = useApi<Page<AdSpendEntry>>(`ad-spend:${JSON.stringify(query)}`, (c) => c.get('/v1/ad-spend', query));
  const noStores = stores.data?.data.length === 0;

  return (
    <>
      <PageHeader title="Ad spend">
        <CsvButton path="/v1/ad-spend" query={query} name="ad-spend.csv" />
      </PageHeader>
      <FilterBar />
      {canWrite && !noStores && <AddAdSpend onAdded={list.reload} />}
      {canWrite && !noStores && <ImportAdSpend onImported={list.reload} />}
      <ErrorNote error={list.error} />
      {list.loading && <Loading what="ad spend" />}
      {list.data && list.data.data.length === 0 && (
        <Empty title="No ad spend in this range">
          {noStores
            ? 'Add a store first (Stores & FX); ad spend belongs to a store.'
            : 'Export the daily spend from your ads manager as CSV and import it above, or add an entry by hand. Columns: date, platform, amount, currency (campaign and sku optional).'}
        </Empty>
      )}
      {list.data && list.data.data.length > 0 && (
        <div className="table-wrap">
          <table data-testid="ad-spend-table">
            <thead>
              <tr>
                <th>Date</th>
                <th>Store</th>
                <th>Platform</th>
                <th>Campaign</th>
                <th className="num">Amount</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((e) => (
                <tr key={e.id}>
                  <td>{e.date}</td>
                  <td>{storeOf(e.storeId)?.name ?? e.storeId}</td>
                  <td>{e.platform}</td>
                  <td>{e.campaign ?? ''}</td>
                  <td className="num">{formatMoney(e.amount, e.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="actions">
        {cursor && (
          <button type="button" className="secondary" onClick={() => setCursor(undefined)}>
            First page
          </button>
        )}
        {list.data?.nextCursor && (
          <button type="button" className="secondary" onClick={() => setCursor(list.data?.nextCursor ?? undefined)}>
            Next page
          </button>
        )}
      </div>
    </>
  );
}

/** The store a new entry goes to: the one picked above, else the first. */
function useDefaultStore() {
  const { filters, stores } = useFilters();
  return filters.storeId || stores.data?.data[0]?.id || '';
}

function AddAdSpend({ onAdded }: { onAdded: () => void }) {
  const { client } = useSession();
  const { stores, storeOf } = useFilters();
  const defaultStore = useDefaultStore();
  const [storeId, setStoreId] = useState('');
  const store = storeOf(storeId || defaultStore);
  const [form, setForm] = useState({ date: yesterday(), platform: 'meta', amount: '', campaign: '' });
  const action = useAction();
  const [added, setAdded] = useState<string>();
  return (
    <form
      className="inline card"
      aria-label="Add ad spend"
      onSubmit={(e) => {
        e.preventDefault();
        if (!store) return;
        setAdded(undefined);
        void action
          .run(async () => {
            const entry = await client.post<AdSpendEntry>('/v1/ad-spend', { ...form, storeId: store.id, currency: store.currency, campaign: form.campaign || null });
            setAdded(`Added ${formatMoney(entry.amount, entry.currency)} of ${entry.platform} on ${entry.date}.`);
            setForm((f) => ({ ...f, amount: '', campaign: '' }));
          })
          .then((ok) => ok && onAdded());
      }}
    >
      <label>
        Store
        <select name="storeId" value={store?.id ?? ''} onChange={(e) => setStoreId(e.target.value)}>
          <StoreOptions stores={stores.data?.data} />
        </select>
      </label>
      <label>
        Date
        <input type="date" name="date" required value={form.date} onChange={(e) => setForm({ ...form, date: e.target.value })} />
      </label>
      <label>
        Platform
        <select name="platform" value={form.platform} onChange={(e) => setForm({ ...form, platform: e.target.value })}>
          {AD_PLATFORMS.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
      </label>
      <label>
        Amount ({store?.currency ?? '…'})
        <input name="amount" inputMode="decimal" required pattern="\d+(\.\d{1,2})?" value={form.amount} onChange={(e) => setForm({ ...form, amount: e.target.value })} />
      </label>
      <label>
        Campaign
        <input name="campaign" value={form.campaign} onChange={(e) => setForm({ ...form, campaign: e.target.value })} />
      </label>
      <button type="submit" disabled={action.busy || !store}>
        Add ad spend
      </button>
      <ErrorNote error={action.error} />
      {added && (
        <p className="muted" role="status">
          {added}
        </p>
      )}
    </form>
  );
}

function ImportAdSpend({ onImported }: { onImported: () => void }) {
  const { client } = useSession();
  const { stores, storeOf } = useFilters();
  const defaultStore = useDefaultStore();
  const [storeId, setStoreId] = useState('');
  const [file, setFile] = useState<File>();
  const [result, setResult] = useState<AdSpendImport>();
  const [refusal, setRefusal] = useState<{ message: string; rows: NonNullable<AdSpendImportProblem['rows']> }>();
  const action = useAction();
  const store = storeOf(storeId || defaultStore);
  return (
    <form
      className="inline card"
      aria-label="Import ad spend CSV"
      onSubmit={(e) => {
        e.preventDefault();
        if (!file || !store) return;
        setResult(undefined);
        setRefusal(undefined);
        void action
          .run(async () => {
            try {
              setResult(await client.upload<AdSpendImport>(`/v1/ad-spend/import?storeId=${store.id}`, file, 'text/csv'));
            } catch (err) {
              const rows = err instanceof ApiError ? (err.problem as AdSpendImportProblem).rows : undefined;
              if (err instanceof ApiError && rows) {
                setRefusal({ message: err.message, rows });
                return;
              }
              throw err;
            }
          })
          .then((ok) => ok && onImported());
      }}
    >
      <label>
        Store
        <select name="importStoreId" value={store?.id ?? ''} onChange={(e) => setStoreId(e.target.value)}>
          <StoreOptions stores={stores.data?.data} />
        </select>
      </label>
      <label>
        CSV file
        <input type="file" name="file" accept=".csv,text/csv" required onChange={(e) => setFile(e.target.files?.[0])} />
      </label>
      <button type="submit" disabled={action.busy || !file}>
        {action.busy ? 'Importing…' : 'Import CSV'}
      </button>
      <ErrorNote error={action.error} />
      {result && (
        <p role="status" className="muted">
          Imported {result.imported} entries.
        </p>
      )}
      {refusal && (
        <div className="error" role="alert" data-testid="import-errors" style={{ width: '100%' }}>
          <p>{refusal.message} Nothing was imported; fix these rows and import the file again.</p>
          <table>
            <thead>
              <tr>
                <th>Row</th>
                <th>Problems</th>
              </tr>
            </thead>
            <tbody>
              {refusal.rows.map((r) => (
                <tr key={r.row}>
                  <td>{r.row}</td>
                  <td style={{ whiteSpace: 'normal' }}>
                    {Object.entries(r.errors)
                      .map(([column, messages]) => `${column}: ${messages.join(', ')}`)
                      .join('; ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </form>
  );
}
