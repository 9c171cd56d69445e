'use client';

import { useCallback, useEffect, useState } from 'react';
import type { ApiClient } from './api';
import { useSession } from './session';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load(client)` whenever `key` changes (and on reload()); an answer that arrives
 * after a newer request started is dropped, so quick changes of store or range never
 * show the figures of an older selection. A null key loads nothing.
 */
export function useApi<T>(key: string | null, load: (client: ApiClient) => Promise<T>): Loaded<T> {
  const { client } = useSession();
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean; key: string | null }>({ loading: key !== null, key });
  const [version, setVersion] = useState(0);

  useEffect(() => {
    if (key === null) return;
    let current = true;
    setState((s) => ({ ...s, loading: true, error: undefined, key }));
    load(client).then(
      (data) => current && setState({ data, loading: false, key }),
      (error: unknown) => current && setState({ error: error instanceof Error ? error : new Error(String(error)), loading: false, key }),
    );
    return () => {
      current = false;
    };
    // `load` is re-created every render; `key` names what it loads.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, client, version]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
