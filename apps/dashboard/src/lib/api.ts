import type { TokenPair } from './types';

/**
 * The browser's client of finance-api. Every call goes to this dashboard's own origin
 * under /api/v1/…, which the Next server forwards to DASHBOARD_API_BASE_URL (see
 * src/app/api/v1/[...path]/route.ts): the browser needs neither the API's address nor
 * CORS, and holds nothing but the signed-in user's own tokens.
 */

export interface Problem {
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: Record<string, string[]>;
  [extra: string]: unknown;
}

/** An answer other than 2xx, with the API's problem details when it sent them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(describeProblem(status, problem));
    this.name = 'ApiError';
  }
}

/** A message a person can act on: the API's `detail`, then each field's complaint. */
export function describeProblem(status: number, problem: Problem): string {
  const head = problem.detail ?? problem.title ?? `The API answered ${status}.`;
  const fields = Object.entries(problem.errors ?? {}).map(([field, messages]) => `${field}: ${messages.join(', ')}`);
  return fields.length > 0 ? `${head} (${fields.join('; ')})` : head;
}

interface Session {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms at which the access token stops working. */
  expiresAt: number;
}

// Per tab, and gone when the tab closes: a refresh token works once, so two tabs sharing
// one would revoke each other's login the first time both refreshed.
const STORAGE_KEY = 'dealdome.session';
// Refresh this long before the access token expires, so a request never races its expiry.
const EARLY_MS = 30_000;

export type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function problemOf(res: Response): Promise<Problem> {
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      return (await res.json()) as Problem;
    } catch {
      // a broken body: the status says enough
    }
  }
  return { status: res.status, detail: res.status === 502 ? 'The finance API cannot be reached.' : undefined };
}

export class ApiClient {
  private session: Session | null = null;
  private refreshing: Promise<boolean> | null = null;

  constructor(private readonly onSignedOut: () => void) {
    if (typeof window !== 'undefined') {
      const kept = window.sessionStorage.getItem(STORAGE_KEY);
      if (kept) this.session = JSON.parse(kept) as Session;
    }
  }

  get signedIn(): boolean {
    return this.session !== null;
  }

  async login(email: string, password: string): Promise<void> {
    const res = await fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    if (!res.ok) throw new ApiError(res.status, await problemOf(res));
    this.keep((await res.json()) as TokenPair);
  }

  async logout(): Promise<void> {
    const refreshToken = this.session?.refreshToken;
    this.forget();
    // Ends the login on the server too; signed out here whatever it answers.
    if (refreshToken) {
      await fetch('/api/v1/auth/logout', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken }),
      }).catch(() => undefined);
    }
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>('GET', withQuery(path, query));
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('POST', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('PATCH', path, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('PUT', path, body);
  }

  delete(path: string): Promise<void> {
    return this.json<void>('DELETE', path);
  }

  /** Sends a body as it is (a CSV file, say) with its media type. */
  async upload<T>(path: string, body: Blob | string, contentType: string): Promise<T> {
    const res = await this.send('POST', path, { body, headers: { 'content-type': contentType } });
    return (await res.json()) as T;
  }

  /** The same list or report as CSV (`?format=csv`), saved by the browser under the API's file name. */
  async download(path: string, query: Query, fallbackName: string): Promise<void> {
    const res = await this.send('GET', withQuery(path, { ...query, format: 'csv' }), {});
    const disposition = res.headers.get('content-disposition') ?? '';
    const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
    const url = URL.createObjectURL(await res.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: { body?: string; headers: Record<string, string> } = { headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['content-type'] = 'application/json';
    }
    const res = await this.send(method, path, init);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  private async send(method: string, path: string, init: { body?: BodyInit; headers?: Record<string, string> }): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      if (!this.session) throw this.signedOutError();
      if (this.session.expiresAt - Date.now() < EARLY_MS && !(await this.refresh())) throw this.signedOutError();
      const token = this.session?.accessToken;
      if (!token) throw this.signedOutError();
      const res = await fetch(`/api${path}`, { method, body: init.body, headers: { ...init.headers, authorization: `Bearer ${token}` } });
      // An access token can end early (a password reset); one refresh decides whether the login still stands.
      if (res.status === 401 && attempt === 0) {
        if (await this.refresh()) continue;
        throw this.signedOutError();
      }
      if (!res.ok) throw new ApiError(res.status, await problemOf(res));
      return res;
    }
  }

  /** One refresh at a time: the refresh token works once, so concurrent callers share the first's result. */
  private refresh(): Promise<boolean> {
    this.refreshing ??= this.rotate().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async rotate(): Promise<boolean> {
    const refreshToken = this.session?.refreshToken;
    if (!refreshToken) return false;
    const res = await fetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken }),
    });
    if (!res.ok) {
      this.forget();
      return false;
    }
    this.keep((await res.json()) as TokenPair);
    return true;
  }

  private keep(pair: TokenPair): void {
    this.session = { accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresAt: Date.now() + pair.expiresIn * 1000 };
    window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this.session));
  }

  private forget(): void {
    const had = this.session !== null;
    this.session = null;
    window.sessionStorage.removeItem(STORAGE_KEY);
    if (had) this.onSignedOut();
  }

  private signedOutError(): ApiError {
    return new ApiError(401, { status: 401, detail: 'Your session has ended; sign in again.' });
  }
}
