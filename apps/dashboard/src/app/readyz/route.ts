/**
 * Readiness: this server is configured and serves pages. It does not follow
 * finance-api's health — the API has its own /readyz, and a dashboard taken out of
 * rotation while the API restarts could not even show that the API is down.
 */
export const dynamic = 'force-dynamic';

export function GET(): Response {
  const configured = Boolean(process.env.DASHBOARD_API_BASE_URL);
  return Response.json({ status: configured ? 'ok' : 'unconfigured' }, { status: configured ? 200 : 503 });
}
