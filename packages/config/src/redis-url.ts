import { z } from 'zod';

/**
 * REDIS_URL names one of three Redis set-ups. This is the one place it is read; every
 * service and the CLI connect through packages/queues' createRedis, which builds the
 * matching ioredis client from what this returns.
 *
 *   redis://[[user]:password@]host[:port][/db]                        one server (ioredis's own URL form)
 *   redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/master-name[/db][?sentinelPassword=…]
 *   redis+cluster://[[user]:password@]host[:port][,host[:port]…]
 *
 * `rediss`, `rediss+sentinel` and `rediss+cluster` are the same over TLS. In the
 * sentinel form the hosts are the sentinels (port 26379 unless given) and the user and
 * password are the data nodes'; sentinels that require a password of their own take it
 * as `sentinelPassword` (percent-encoded). In the cluster form the hosts are any of the
 * cluster's nodes (port 6379 unless given), from which the client learns the rest.
 * Cluster has only database 0, so a database there is an error, not ignored.
 */
export interface RedisEndpoint {
  host: string;
  port: number;
}

interface Credentials {
  username?: string;
  password?: string;
  tls: boolean;
}

export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | ({ mode: 'sentinel'; sentinels: RedisEndpoint[]; masterName: string; db: number; sentinelPassword?: string } & Credentials)
  | ({ mode: 'cluster'; nodes: RedisEndpoint[] } & Credentials);

export class RedisUrlError extends Error {
  override name = 'RedisUrlError';
}

const FORM = /^(rediss?)(?:\+(sentinel|cluster))?:\/\/(.*)$/is;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RedisUrlError(`the ${what} is not valid percent-encoding`);
  }
}

function endpoint(text: string, defaultPort: number): RedisEndpoint {
  // host, host:port, [v6], [v6]:port
  const match = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d*))?$/.exec(text);
  const host = match?.[1] ?? '';
  if (!match || !(HOSTNAME.test(host) || IPV6.test(host))) throw new RedisUrlError('an entry of the host list is not host[:port]');
  const port = match[2] === undefined || match[2] === '' ? defaultPort : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RedisUrlError('a port in the host list is not between 1 and 65535');
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port };
}

/** Parses REDIS_URL; errors say what is wrong without repeating the URL (it may hold a password). */
export function parseRedisUrl(value: string): RedisTarget {
  const form = FORM.exec(value.trim());
  if (!form) {
    throw new RedisUrlError('expected redis:// or rediss:// (one server), redis+sentinel:// or redis+cluster:// (see the README, "Scaling out")');
  }
  const scheme = form[1]!.toLowerCase();
  const topology = form[2]?.toLowerCase() as 'sentinel' | 'cluster' | undefined;
  const rest = form[3]!;
  if (!topology) {
    try {
      new URL(value.trim());
    } catch {
      throw new RedisUrlError(`not a valid ${scheme}:// URL`);
    }
    return { mode: 'standalone', url: value.trim() };
  }

  const queryAt = rest.indexOf('?');
  const beforeQuery = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? '' : rest.slice(queryAt + 1));
  const pathAt = beforeQuery.indexOf('/');
  const authority = pathAt < 0 ? beforeQuery : beforeQuery.slice(0, pathAt);
  const path = (pathAt < 0 ? '' : beforeQuery.slice(pathAt + 1)).split('/').filter((p) => p !== '');
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? undefined : authority.slice(0, at);
  const hostList = authority.slice(at + 1);

  const credentials: Credentials = { tls: scheme === 'rediss' };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), 'user name');
    const password = colon < 0 ? undefined : decode(userinfo.slice(colon + 1), 'password');
    if (username) credentials.username = username;
    if (password) credentials.password = password;
  }
  if (hostList === '') throw new RedisUrlError(`a ${topology} URL needs at least one host`);
  const endpoints = hostList.split(',').map((h) => endpoint(h.trim(), topology === 'sentinel' ? 26379 : 6379));

  if (topology === 'cluster') {
    if (path.length > 0) throw new RedisUrlError('Redis Cluster has only database 0: a cluster URL takes no path');
    if ([...query.keys()].length > 0) throw new RedisUrlError('a cluster URL takes no query parameters');
    return { mode: 'cluster', nodes: endpoints, ...credentials };
  }

  const [name, db, ...extra] = path;
  if (!name) throw new RedisUrlError('a sentinel URL names the master after the hosts: redis+sentinel://host:26379/<master-name>');
  if (extra.length > 0 || (db !== undefined && !/^\d{1,5}$/.test(db))) {
    throw new RedisUrlError('a sentinel URL\'s path is /<master-name> or /<master-name>/<database number>');
  }
  const unknown = [...query.keys()].filter((k) => k !== 'sentinelPassword');
  if (unknown.length > 0) throw new RedisUrlError(`a sentinel URL takes only the sentinelPassword query parameter, not ${unknown.join(', ')}`);
  const sentinelPassword = query.get('sentinelPassword') ?? undefined;
  return {
    mode: 'sentinel',
    sentinels: endpoints,
    masterName: decode(name, 'master name'),
    db: db === undefined ? 0 : Number(db),
    ...credentials,
    ...(sentinelPassword ? { sentinelPassword } : {}),
  };
}

/** REDIS_URL in the environment schema: one of the forms above, checked at start-up like every variable. */
export const envRedisUrl = () =>
  z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.string({ message: 'required: redis://, redis+sentinel:// or redis+cluster://' }).superRefine((value, ctx) => {
      try {
        parseRedisUrl(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
  );

/**
 * The part of a key Redis Cluster hashes: the text between the first "{" and the first
 * "}" after it when that is not empty; otherwise (undefined) the whole key.
 */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return key.slice(open + 1, close);
}

/**
 * On Redis Cluster every key of the platform starts with QUEUE_PREFIX, and BullMQ's
 * scripts touch several keys of a queue at once, which Cluster allows only within one
 * hash slot. A prefix holding a complete hash tag ("{dealdome}") puts every key in its
 * slot; without one the first multi-key script fails with CROSSSLOT. Says what is wrong,
 * or undefined when the prefix suits the target.
 */
export function queuePrefixProblem(target: RedisTarget, prefix: string): string | undefined {
  if (target.mode !== 'cluster' || hashTag(prefix) !== undefined) return undefined;
  return `QUEUE_PREFIX must hold a {hash tag} on Redis Cluster, e.g. "{${prefix.replace(/[{}]/g, '') || 'dealdome'}}", so that every key of a queue lands in one hash slot`;
}
