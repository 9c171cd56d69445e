import type { NextRequest } from 'next/server';

/**
 * finance-api, forwarded from this origin. The browser calls /api/v1/…; this server sends
 * the same request to DASHBOARD_API_BASE_URL/v1/… — read at request time, so one build
 * serves every installation — and streams the answer back (CSV files included). The
 * browser's own Authorization header is passed on as it is: this server holds no
 * credentials of its own and adds none. Only /v1 is reachable this way.
 */
export const dynamic = 'force-dynamic';

const REQUEST_HEADERS = ['authorization', 'content-type', 'accept', 'x-request-id'];
const ANSWER_HEADERS = ['content-type', 'content-disposition', 'x-next-cursor', 'link', 'x-request-id', 'retry-after', 'cache-control'];

function apiBase(): string | undefined {
  return process.env.DASHBOARD_API_BASE_URL?.replace(/\/+$/, '');
}

function problem(status: number, detail: string): Response {
  return Response.json({ type: 'about:blank', title: 'Bad Gateway', status, detail }, { status, headers: { 'content-type': 'application/problem+json' } });
}

async function forward(req: NextRequest, context: { params: Promise<{ path: string[] }> }): Promise<Response> {
  const base = apiBase();
  if (!base) return problem(502, 'The dashboard has no DASHBOARD_API_BASE_URL configured.');
  const { path } = await context.params;
  const target = `${base}/v1/${path.map(encodeURIComponent).join('/')}${req.nextUrl.search}`;

  const headers = new Headers();
  for (const name of REQUEST_HEADERS) {
    const value = req.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: req.method,
      headers,
      body: hasBody ? await req.arrayBuffer() : undefined,
      redirect: 'manual',
      cache: 'no-store',
    });
  } catch {
    return problem(502, 'The finance API cannot be reached.');
  }
  const answer = new Headers();
  for (const name of ANSWER_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) answer.set(name, value);
  }
  return new Response(upstream.body, { status: upstream.status, headers: answer });
}

export { forward as GET, forward as POST, forward as PUT, forward as PATCH, forward as DELETE };
