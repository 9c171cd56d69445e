'use client';

import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { ApiClient } from './api';
import type { Me, Role } from './types';

type Status = 'loading' | 'signed-in' | 'signed-out';

interface SessionValue {
  status: Status;
  client: ApiClient;
  user: Extract<Me, { kind: 'user' }> | null;
  role: Role | null;
  /** Members and admins change finance records; viewers only read. */
  canWrite: boolean;
  isAdmin: boolean;
  login: (email: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>('loading');
  const [user, setUser] = useState<SessionValue['user']>(null);
  const client = useMemo(
    () =>
      new ApiClient(() => {
        setUser(null);
        setStatus('signed-out');
      }),
    [],
  );

  const loadMe = useCallback(async () => {
    const me = await client.get<Me>('/v1/me');
    if (me.kind !== 'user') throw new Error('An API token cannot sign in to the dashboard.');
    setUser(me);
    setStatus('signed-in');
  }, [client]);

  useEffect(() => {
    if (!client.signedIn) {
      setStatus('signed-out');
      return;
    }
    loadMe().catch(() => setStatus('signed-out'));
  }, [client, loadMe]);

  const value = useMemo<SessionValue>(
    () => ({
      status,
      client,
      user,
      role: user?.role ?? null,
      canWrite: user?.role === 'admin' || user?.role === 'member',
      isAdmin: user?.role === 'admin',
      login: async (email, password) => {
        await client.login(email, password);
        await loadMe();
      },
      logout: async () => {
        await client.logout();
        setUser(null);
        setStatus('signed-out');
      },
    }),
    [status, client, user, loadMe],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}
