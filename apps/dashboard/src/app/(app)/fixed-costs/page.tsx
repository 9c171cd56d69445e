'use client';

import { useState } from 'react';
import { CsvButton, Empty, ErrorNote, Loading, PageHeader, StoreOptions, useAction } from '../../../components/ui';
import { currentMonth } from '../../../lib/dates';
import { useFilters } from '../../../lib/filters';
import { formatMoney } from '../../../lib/money';
import { useSession } from '../../../lib/session';
import type { FixedCost, Page } from '../../../lib/types';
import { useApi } from '../../../lib/use-api';

interface Draft {
  name: string;
  category: string;
  amount: string;
  currency: string;
  storeId: string;
  startMonth: string;
  endMonth: string;
}

export default function FixedCostsPage() {
  const { canWrite } = useSession();
  const { storeOf } = useFilters();
  const [editing, setEditing] = useState<string>();
  const query = { limit: 200 };
  const list = useApi<Page<FixedCost>>('fixed-costs', (c) => c.get('/v1/fixed-costs', query));
  return (
    <>
      <PageHeader title="Fixed costs">
        <CsvButton path="/v1/fixed-costs" query={query} name="fixed-costs.csv" />
      </PageHeader>
      <p className="muted">Monthly costs (software, salaries, rent): each month&apos;s amount is spread over its days in the P&amp;L.</p>
      {canWrite && <CostForm title="Add a fixed cost" submitLabel="Add fixed cost" onSaved={list.reload} />}
      <ErrorNote error={list.error} />
      {list.loading && <Loading what="fixed costs" />}
      {list.data && list.data.data.length === 0 && (
        <Empty title="No fixed costs yet">
          Add what the business pays every month whatever it sells — tools, wages, rent — so that net profit tells the truth.
        </Empty>
      )}
      {list.data && list.data.data.length > 0 && (
        <div className="table-wrap">
          <table data-testid="fixed-costs-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Category</th>
                <th>Store</th>
                <th className="num">Per month</th>
                <th>From</th>
                <th>Until</th>
                {canWrite && <th />}
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((c) =>
                editing === c.id ? (
                  <tr key={c.id}>
                    <td colSpan={canWrite ? 7 : 6}>
                      <CostForm
                        title={`Edit ${c.name}`}
                        submitLabel="Save"
                        cost={c}
                        onSaved={() => {
                          setEditing(undefined);
                          list.reload();
                        }}
                        onCancel={() => setEditing(undefined)}
                      />
                    </td>
                  </tr>
                ) : (
                  <tr key={c.id}>
                    <td>{c.name}</td>
                    <td>{c.category}</td>
                    <td>{c.storeId ? (storeOf(c.storeId)?.name ?? c.storeId) : 'shared'}</td>
                    <td className="num">{formatMoney(c.amount, c.currency)}</td>
                    <td>{c.startMonth}</td>
                    <td>{c.endMonth ?? 'running'}</td>
                    {canWrite && (
                      <td>
                        <button type="button" className="secondary" onClick={() => setEditing(c.id)}>
                          Edit
                        </button>{' '}
                        {c.endMonth === null && <EndButton cost={c} onEnded={list.reload} />}
                      </td>
                    )}
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** Ends a running cost with the current month: its past stays in the P&L, its future does not. */
function EndButton({ cost, onEnded }: { cost: FixedCost; onEnded: () => void }) {
  const { client } = useSession();
  const action = useAction();
  const month = currentMonth() < cost.startMonth ? cost.startMonth : currentMonth();
  return (
    <>
      <button
        type="button"
        className="danger"
        disabled={action.busy}
        onClick={() => void action.run(() => client.patch(`/v1/fixed-costs/${cost.id}`, { endMonth: month })).then((ok) => ok && onEnded())}
      >
        End after {month}
      </button>
      <ErrorNote error={action.error} />
    </>
  );
}

function CostForm({
  title,
  submitLabel,
  cost,
  onSaved,
  onCancel,
}: {
  title: string;
  submitLabel: string;
  cost?: FixedCost;
  onSaved: () => void;
  onCancel?: () => void;
}) {
  const { client } = useSession();
  const { stores, storeOf } = useFilters();
  const action = useAction();
  const [draft, setDraft] = useState<Draft>({
    name: cost?.name ?? '',
    category: cost?.category ?? '',
    amount: cost?.amount ?? '',
    currency: cost?.currency ?? 'EUR',
    storeId: cost?.storeId ?? '',
    startMonth: cost?.startMonth ?? currentMonth(),
    endMonth: cost?.endMonth ?? '',
  });
  const set = (change: Partial<Draft>) => setDraft((d) => ({ ...d, ...change }));
  return (
    <form
      className="inline card"
      aria-label={title}
      onSubmit={(e) => {
        e.preventDefault();
        const body = { ...draft, storeId: draft.storeId || null, endMonth: draft.endMonth || null };
        void action
          .run(async () => {
            if (cost) await client.patch(`/v1/fixed-costs/${cost.id}`, body);
            else await client.post('/v1/fixed-costs', body);
            if (!cost) set({ name: '', amount: '' });
          })
          .then((ok) => ok && onSaved());
      }}
    >
      <label>
        Name
        <input name="name" required value={draft.name} onChange={(e) => set({ name: e.target.value })} />
      </label>
      <label>
        Category
        <input name="category" required value={draft.category} onChange={(e) => set({ category: e.target.value })} placeholder="software" />
      </label>
      <label>
        Store
        <select name="storeId" value={draft.storeId} onChange={(e) => set({ storeId: e.target.value, currency: storeOf(e.target.value)?.currency ?? draft.currency })}>
          <option value="">shared by every store</option>
          <StoreOptions stores={stores.data?.data} />
        </select>
      </label>
      <label>
        Per month
        <input name="amount" inputMode="decimal" required pattern="\d+(\.\d{1,2})?" value={draft.amount} onChange={(e) => set({ amount: e.target.value })} />
      </label>
      <label>
        Currency
        <input name="currency" required pattern="[A-Z]{3}" maxLength={3} size={4} value={draft.currency} onChange={(e) => set({ currency: e.target.value.toUpperCase() })} />
      </label>
      <label>
        From month
        <input type="month" name="startMonth" required value={draft.startMonth} onChange={(e) => set({ startMonth: e.target.value })} />
      </label>
      <label>
        Until month
        <input type="month" name="endMonth" value={draft.endMonth} onChange={(e) => set({ endMonth: e.target.value })} />
      </label>
      <button type="submit" disabled={action.busy}>
        {submitLabel}
      </button>
      {onCancel && (
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      )}
      <ErrorNote error={action.error} />
    </form>
  );
}
