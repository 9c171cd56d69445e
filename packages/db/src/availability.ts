/**
 * Whether an error from a database call means PostgreSQL cannot serve right now (it is
 * restarting, unreachable, refusing connections) rather than that the statement was
 * wrong: callers answer "try again shortly" (finance-api's 503) instead of a bug's 500,
 * and job handlers let BullMQ retry. Meant for errors raised by database calls: node-pg
 * passes socket errors through unwrapped, so a bare ECONNREFUSED is taken as the
 * database's.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08') || SOCKET_ERRORS.has(code))) return true;
  return typeof message === 'string' && DRIVER_MESSAGES.some((pattern) => pattern.test(message));
}

/** admin_shutdown, crash_shutdown, cannot_connect_now (starting up, shutting down), too_many_connections; class 08 is connection_exception. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** What node-pg and pg-pool say, without a code, when the connection is lost or cannot be had in time. */
const DRIVER_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
];
