import net from 'node:net';

/**
 * Tests never reach the internet: third-party APIs are faked on loopback. Any
 * attempt to connect elsewhere fails loudly instead of hanging or leaking data.
 * TEST_ALLOWED_HOSTS (comma-separated) admits a container host when testcontainers runs.
 */
const allowed = new Set(['localhost', ...(process.env.TEST_ALLOWED_HOSTS ?? '').split(',').filter(Boolean)]);
for (const url of [process.env.TEST_ADMIN_DATABASE_URL, process.env.TEST_REDIS_URL]) {
  if (url) allowed.add(new URL(url).hostname);
}

function isLoopback(host: string): boolean {
  if (allowed.has(host)) return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1' || host === '[::1]';
  return false;
}

type ConnectArgs = Parameters<net.Socket['connect']>;
// eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with apply() below
const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  // net.connect() hands Socket#connect its already-normalised [options, callback] pair.
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  let host: string | undefined;
  if (typeof first === 'object' && first !== null) {
    const options = first as { host?: string; path?: string };
    if (!options.path) host = options.host ?? 'localhost';
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    host = typeof args[1] === 'string' ? args[1] : 'localhost';
  }
  if (host !== undefined && !isLoopback(host)) {
    throw new Error(`tests may not open network connections beyond loopback (tried ${host})`);
  }
  return originalConnect.apply(this, args as ConnectArgs);
};
