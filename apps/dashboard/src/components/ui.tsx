'use client';

import { useState } from 'react';
import type { ReactNode } from 'react';
import type { Query } from '../lib/api';
import { useSession } from '../lib/session';
import type { Store } from '../lib/types';

/** The `<option>`s of a store picker, one per store the page has loaded. */
export function StoreOptions({ stores, withCurrency = false }: { stores: readonly Store[] | undefined; withCurrency?: boolean }) {
  return (
    <>
      {stores?.map((s) => (
        <option key={s.id} value={s.id}>
          {withCurrency ? `${s.name} (${s.currency})` : s.name}
        </option>
      ))}
    </>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function ErrorNote({ error }: { error: Error | string | undefined }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {typeof error === 'string' ? error : error.message}
    </p>
  );
}

export function Empty({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="empty" data-testid="empty-state">
      <strong>{title}</strong>
      <div>{children}</div>
    </div>
  );
}

/** Downloads what the page shows as CSV: the same request with ?format=csv. */
export function CsvButton({ path, query, name }: { path: string; query: Query; name: string }) {
  const { client } = useSession();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return (
    <span>
      <button
        type="button"
        className="secondary"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          setError(undefined);
          client
            .download(path, query, name)
            .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
            .finally(() => setBusy(false));
        }}
      >
        {busy ? 'Preparing CSV…' : 'Download CSV'}
      </button>
      {error && <ErrorNote error={error} />}
    </span>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      <div className="actions">{children}</div>
    </header>
  );
}

/** Runs a change and reports its failure as the API worded it. */
export function useAction(): { busy: boolean; error: string | undefined; run: (action: () => Promise<void>) => Promise<boolean>; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  return {
    busy,
    error,
    clear: () => setError(undefined),
    run: async (action) => {
      setBusy(true);
      setError(undefined);
      try {
        await action();
        return true;
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}
