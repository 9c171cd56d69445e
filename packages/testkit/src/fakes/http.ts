import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** A fake's HTTP server: listening on loopback, closable even with long polls open. */
export interface LoopbackServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 (port 0 picks a free one). A handler that throws answers
 * 500 with the error's message, so a bug in a fake shows up in the failing test
 * instead of as a hung request.
 */
export async function listenOnLoopback(handler: RequestHandler, port = 0, host = '127.0.0.1'): Promise<LoopbackServer> {
  const server = http.createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, 500, { error: `fake server failed: ${(err as Error).message}` });
    });
  });
  // Long polls hold requests for seconds; the defaults would cut them off or keep them alive past close().
  server.requestTimeout = 0;
  // Kept alive like the real APIs (a short timeout would make every client open a connection per request).
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Starts a fake: its server listens first, then `build` makes the fake on it, and
 * every request goes to `route` with that fake (a request that arrives in between
 * answers 500 instead of reaching a half-made object).
 */
export async function startFake<F>(
  options: { port?: number; host?: string },
  build: (server: LoopbackServer) => F,
  route: (fake: F, req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<F> {
  const started: { fake?: F } = {};
  const server = await listenOnLoopback(
    async (req, res) => {
      if (started.fake === undefined) throw new Error('not started yet');
      await route(started.fake, req, res);
    },
    options.port ?? 0,
    options.host,
  );
  started.fake = build(server);
  return started.fake;
}

export async function readBody(req: IncomingMessage, limitBytes = 64 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limitBytes) throw new Error(`request body over ${limitBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** Resolves after `ms`, or at once when the signal aborts (a client gone, a server closing). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Aborts when the client goes away before the response is finished. */
export function clientGone(req: IncomingMessage, res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  req.on('aborted', () => controller.abort());
  return controller.signal;
}

/** Headers as a plain object, minus those that carry credentials. */
export function headersWithoutSecrets(req: IncomingMessage, secretNames: string[]): Record<string, string> {
  const secret = new Set(secretNames.map((n) => n.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || secret.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Waits for a recorded item that matches, looking at those already recorded first. */
export class Recorder<T> {
  private readonly items: T[] = [];
  private readonly waiters = new Set<{ predicate: (item: T) => boolean; resolve: (item: T) => void }>();

  get all(): readonly T[] {
    return this.items;
  }

  push(item: T): void {
    this.items.push(item);
    for (const waiter of this.waiters) {
      if (waiter.predicate(item)) {
        this.waiters.delete(waiter);
        waiter.resolve(item);
      }
    }
  }

  clear(): void {
    this.items.length = 0;
  }

  waitFor(predicate: (item: T) => boolean, timeoutMs: number, describe: (items: readonly T[]) => string): Promise<T> {
    const found = this.items.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`nothing matched within ${timeoutMs} ms; ${describe(this.items)}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
