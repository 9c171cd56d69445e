'use client';

import { useState } from 'react';
import { Empty, ErrorNote, Loading, PageHeader, useAction } from '../../../components/ui';
import { useSession } from '../../../lib/session';
import type { ApiToken, CreatedApiToken, Page } from '../../../lib/types';
import { useApi } from '../../../lib/use-api';

const SCOPES = ['finance:read', 'finance:write', 'knowledge:read', 'admin'] as const;

export default function TokensPage() {
  const { isAdmin, client } = useSession();
  const list = useApi<Page<ApiToken>>(isAdmin ? 'api-tokens' : null, (c) => c.get('/v1/api-tokens', { limit: 200 }));
  const action = useAction();
  const revoke = useAction();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['finance:read']);
  const [created, setCreated] = useState<CreatedApiToken>();
  if (!isAdmin) return <Empty title="Admins only">API tokens are made and revoked by an admin.</Empty>;
  return (
    <>
      <PageHeader title="API tokens" />
      <p className="muted">For integrations and scripts: a token acts with its scopes, not as a person.</p>
      <form
        className="inline card"
        aria-label="Create an API token"
        onSubmit={(e) => {
          e.preventDefault();
          setCreated(undefined);
          void action
            .run(async () => {
              setCreated(await client.post<CreatedApiToken>('/v1/api-tokens', { name, scopes }));
              setName('');
            })
            .then((ok) => ok && list.reload());
        }}
      >
        <label>
          Name
          <input name="name" required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <fieldset className="inline" style={{ border: 'none', padding: 0, display: 'flex', gap: '0.6rem', flexWrap: 'wrap' }}>
          {SCOPES.map((s) => (
            <label key={s} style={{ flexDirection: 'row', alignItems: 'center' }}>
              <input
                type="checkbox"
                checked={scopes.includes(s)}
                onChange={(e) => setScopes((current) => (e.target.checked ? [...current, s] : current.filter((x) => x !== s)))}
              />
              {s}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={action.busy || scopes.length === 0}>
          Create token
        </button>
        <ErrorNote error={action.error} />
      </form>
      {created && (
        <div className="notice" role="status" data-testid="new-token">
          <strong>Copy this token now: it is shown once and never again.</strong>
          <div>
            <code>{created.token}</code>
          </div>
        </div>
      )}
      <ErrorNote error={list.error ?? revoke.error} />
      {list.loading && <Loading what="tokens" />}
      {list.data && list.data.data.length === 0 && <Empty title="No API tokens">Create one above for each integration, with only the scopes it needs.</Empty>}
      {list.data && list.data.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Prefix</th>
                <th>Scopes</th>
                <th>Last used</th>
                <th>State</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>
                    <code>{t.prefix}</code>
                  </td>
                  <td>{t.scopes.join(', ')}</td>
                  <td>{t.lastUsedAt?.slice(0, 16).replace('T', ' ') ?? 'never'}</td>
                  <td>{t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt < new Date().toISOString() ? 'expired' : 'active'}</td>
                  <td>
                    {!t.revokedAt && (
                      <button
                        type="button"
                        className="danger"
                        disabled={revoke.busy}
                        onClick={() => {
                          if (window.confirm(`Revoke ${t.name}? Anything using it stops working.`)) {
                            void revoke.run(() => client.delete(`/v1/api-tokens/${t.id}`)).then((ok) => ok && list.reload());
                          }
                        }}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
