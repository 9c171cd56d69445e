'use client';

import { useState } from 'react';
import { CsvButton, Empty, ErrorNote, Loading, PageHeader, useAction } from '../../../components/ui';
import { addDays, yesterday } from '../../../lib/dates';
import { useFilters } from '../../../lib/filters';
import { useSession } from '../../../lib/session';
import type { FxRate, Page } from '../../../lib/types';
import { useApi } from '../../../lib/use-api';

export default function StoresPage() {
  const { isAdmin } = useSession();
  const { stores } = useFilters();
  if (!isAdmin) return <Empty title="Admins only">Stores and exchange rates are kept by an admin.</Empty>;
  return (
    <>
      <PageHeader title="Stores">
        <CsvButton path="/v1/stores" query={{ limit: 200 }} name="stores.csv" />
      </PageHeader>
      <AddStore onAdded={stores.reload} />
      <ErrorNote error={stores.error} />
      {stores.loading && <Loading what="stores" />}
      {stores.data && stores.data.data.length === 0 && (
        <Empty title="No stores yet">Add your first store above: its currency is the one its figures are kept in.</Empty>
      )}
      {stores.data && stores.data.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Shop domain</th>
                <th>Currency</th>
                <th>Time zone</th>
              </tr>
            </thead>
            <tbody>
              {stores.data.data.map((s) => (
                <tr key={s.id}>
                  <td>{s.name}</td>
                  <td>{s.shopDomain ?? '—'}</td>
                  <td>{s.currency}</td>
                  <td>{s.timezone}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <FxRates />
    </>
  );
}

function AddStore({ onAdded }: { onAdded: () => void }) {
  const { client } = useSession();
  const action = useAction();
  const [form, setForm] = useState({ name: '', shopDomain: '', currency: 'EUR', timezone: 'Europe/Amsterdam' });
  return (
    <form
      className="inline card"
      aria-label="Add a store"
      onSubmit={(e) => {
        e.preventDefault();
        void action
          .run(async () => {
            await client.post('/v1/stores', { ...form, shopDomain: form.shopDomain || null });
            setForm((f) => ({ ...f, name: '', shopDomain: '' }));
          })
          .then((ok) => ok && onAdded());
      }}
    >
      <label>
        Name
        <input name="name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
      </label>
      <label>
        Shop domain
        <input name="shopDomain" placeholder="name.myshopify.com" value={form.shopDomain} onChange={(e) => setForm({ ...form, shopDomain: e.target.value })} />
      </label>
      <label>
        Currency
        <input name="currency" required pattern="[A-Z]{3}" maxLength={3} size={4} value={form.currency} onChange={(e) => setForm({ ...form, currency: e.target.value.toUpperCase() })} />
      </label>
      <label>
        Time zone
        <input name="timezone" required value={form.timezone} onChange={(e) => setForm({ ...form, timezone: e.target.value })} />
      </label>
      <button type="submit" disabled={action.busy}>
        Add store
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}

function FxRates() {
  const { client } = useSession();
  const to = yesterday();
  const query = { from: addDays(to, -13), to, limit: 200 };
  const rates = useApi<Page<FxRate>>(`fx:${JSON.stringify(query)}`, (c) => c.get('/v1/fx-rates', query));
  const action = useAction();
  const [form, setForm] = useState({ date: to, currency: 'USD', rate: '' });
  return (
    <>
      <PageHeader title="Exchange rates">
        <CsvButton path="/v1/fx-rates" query={query} name="fx-rates.csv" />
      </PageHeader>
      <p className="muted">1 unit of a store&apos;s currency in the reporting currency; a day without its rate uses the latest of the 7 days before.</p>
      <form
        className="inline card"
        aria-label="Set an exchange rate"
        onSubmit={(e) => {
          e.preventDefault();
          void action
            .run(async () => {
              await client.put(`/v1/fx-rates/${form.date}/${form.currency}`, { rate: form.rate });
            })
            .then((ok) => ok && rates.reload());
        }}
      >
        <label>
          Date
          <input type="date" name="date" required value={form.date} onChange={(e) => setForm({ ...form, date: e.target.value })} />
        </label>
        <label>
          Currency
          <input name="currency" required pattern="[A-Z]{3}" maxLength={3} size={4} value={form.currency} onChange={(e) => setForm({ ...form, currency: e.target.value.toUpperCase() })} />
        </label>
        <label>
          Rate
          <input name="rate" inputMode="decimal" required value={form.rate} onChange={(e) => setForm({ ...form, rate: e.target.value })} />
        </label>
        <button type="submit" disabled={action.busy}>
          Set rate
        </button>
        <ErrorNote error={action.error} />
      </form>
      <ErrorNote error={rates.error} />
      {rates.loading && <Loading what="exchange rates" />}
      {rates.data && rates.data.data.length === 0 && (
        <Empty title="No exchange rates in the last two weeks">Stores in another currency than the reporting one need a rate for each day they report.</Empty>
      )}
      {rates.data && rates.data.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Date</th>
                <th>Currency</th>
                <th className="num">Rate</th>
                <th>Source</th>
              </tr>
            </thead>
            <tbody>
              {rates.data.data.map((r) => (
                <tr key={`${r.date}-${r.currency}`}>
                  <td>{r.date}</td>
                  <td>
                    1 {r.currency} = … {r.baseCurrency}
                  </td>
                  <td className="num">{r.rate}</td>
                  <td>{r.source}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
