/** The one free-port probe, kept beside the private PostgreSQL server that needs it too (packages/db cannot import testkit). */
export { freePort } from '@dealdome/db/private-postgres';

/** Polls `url` every 200 ms until it answers 200 (a service's /readyz), for at most `timeoutMs`. */
export async function waitForReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs} ms`);
}
