'use client';

import { createContext, useContext, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { StoreOptions } from '../components/ui';
import { addDays, yesterday } from './dates';
import type { Page, Store } from './types';
import { useApi } from './use-api';
import type { Loaded } from './use-api';

export type GroupBy = 'day' | 'week' | 'month';

export interface Filters {
  /** '' means every store, in the reporting currency. */
  storeId: string;
  from: string;
  to: string;
  groupBy: GroupBy;
}

interface FiltersValue {
  filters: Filters;
  setFilters: (change: Partial<Filters>) => void;
  stores: Loaded<Page<Store>>;
  storeOf: (id: string | null) => Store | undefined;
}

const FiltersContext = createContext<FiltersValue | null>(null);

/** The store and date range chosen once and kept while moving between pages. */
export function FiltersProvider({ children }: { children: ReactNode }) {
  const to = yesterday();
  const [filters, set] = useState<Filters>({ storeId: '', from: addDays(to, -29), to, groupBy: 'day' });
  const stores = useApi<Page<Store>>('stores', (client) => client.get('/v1/stores', { limit: 200 }));
  const value = useMemo<FiltersValue>(
    () => ({
      filters,
      setFilters: (change) => set((current) => ({ ...current, ...change })),
      stores,
      storeOf: (id) => stores.data?.data.find((s) => s.id === id),
    }),
    [filters, stores],
  );
  return <FiltersContext.Provider value={value}>{children}</FiltersContext.Provider>;
}

export function useFilters(): FiltersValue {
  const value = useContext(FiltersContext);
  if (!value) throw new Error('useFilters outside FiltersProvider');
  return value;
}

/** The store picker and range inputs most pages share. */
export function FilterBar({ groupBy = false }: { groupBy?: boolean }) {
  const { filters, setFilters, stores } = useFilters();
  const presets = [7, 30, 90];
  return (
    <div className="filters">
      <label>
        Store
        <select name="store" value={filters.storeId} onChange={(e) => setFilters({ storeId: e.target.value })}>
          <option value="">All stores</option>
          <StoreOptions stores={stores.data?.data} withCurrency />
        </select>
      </label>
      <label>
        From
        <input type="date" name="from" value={filters.from} max={filters.to} onChange={(e) => e.target.value && setFilters({ from: e.target.value })} />
      </label>
      <label>
        To
        <input type="date" name="to" value={filters.to} min={filters.from} onChange={(e) => e.target.value && setFilters({ to: e.target.value })} />
      </label>
      <div className="presets" role="group" aria-label="Quick ranges">
        {presets.map((days) => (
          <button
            key={days}
            type="button"
            className="secondary"
            onClick={() => {
              const end = yesterday();
              setFilters({ from: addDays(end, -(days - 1)), to: end });
            }}
          >
            {days}d
          </button>
        ))}
      </div>
      {groupBy && (
        <label>
          Per
          <select name="groupBy" value={filters.groupBy} onChange={(e) => setFilters({ groupBy: e.target.value as GroupBy })}>
            <option value="day">day</option>
            <option value="week">week</option>
            <option value="month">month</option>
          </select>
        </label>
      )}
    </div>
  );
}
