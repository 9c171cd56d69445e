import type { Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import type { RedisReply } from 'rate-limit-redis';
import { isCluster } from '@dealdome/queues';
import type { RedisConnection } from '@dealdome/queues';
import { sendProblem } from './problem';

export interface LoginLimits {
  perEmail: number;
  perAddress: number;
  windowSeconds: number;
  redis: RedisConnection;
  prefix: string;
}

/** Where a request carries a password attempt, and how to tell that it succeeded. */
export interface PasswordAttempt {
  /** The email the password was given for; undefined when the request carries none. */
  emailOf: (req: Request, res: Response) => string | undefined;
  /** Requests that make no attempt at all (nothing to count). */
  skip?: (req: Request, res: Response) => boolean;
  /** Default: the answer is below 400. */
  succeeded?: (req: Request, res: Response) => boolean;
}

/**
 * The store's way to Redis. It loads its Lua scripts with SCRIPT LOAD, which names no
 * key: on a Redis Cluster that reaches one node picked at random, while the EVALSHA
 * after it goes to the node holding the key's slot, which answers NOSCRIPT — and again
 * after the store reloads. On a Cluster the scripts are therefore loaded on every master
 * (a master added or promoted later answers NOSCRIPT once, and the store's reload
 * reaches it too).
 */
function sendCommandTo(redis: RedisConnection) {
  return async (command: string, ...args: string[]): Promise<RedisReply> => {
    if (isCluster(redis) && command.toUpperCase() === 'SCRIPT' && args[0]?.toUpperCase() === 'LOAD') {
      const [sha] = await Promise.all(redis.nodes('master').map((node) => node.call(command, ...args)));
      return sha as RedisReply;
    }
    return redis.call(command, ...args) as Promise<RedisReply>;
  };
}

/**
 * Two limits on failed password attempts, both shared by every replica through Redis:
 * per client address (one machine guessing many accounts) and per email (many
 * machines guessing one). Every place that takes a password counts into the same
 * buckets (the Redis keys, not the limiter objects, are what is shared), so trying
 * passwords at a second door buys no extra guesses.
 */
export function loginLimiters(limits: LoginLimits, attempt: PasswordAttempt): RequestHandler[] {
  const make = (name: string, limit: number, key?: (req: Request, res: Response) => string) =>
    rateLimit({
      windowMs: limits.windowSeconds * 1000,
      limit,
      // Only failures count: a team member signing in all day is never locked out.
      skipSuccessfulRequests: true,
      ...(attempt.succeeded && { requestWasSuccessful: attempt.succeeded }),
      ...(attempt.skip && { skip: attempt.skip }),
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      // Without a key generator the client address is used, IPv6 grouped by /56.
      ...(key && { keyGenerator: key }),
      store: new RedisStore({
        prefix: `${limits.prefix}:ratelimit:login-${name}:`,
        sendCommand: sendCommandTo(limits.redis),
      }),
      handler: (_req, res) => sendProblem(res, 429, 'Too many login attempts; try again later.', { code: 'rate_limited' }),
    });
  return [
    make('ip', limits.perAddress),
    make('email', limits.perEmail, (req, res) => attempt.emailOf(req, res)?.trim().toLowerCase() ?? '(none)'),
  ];
}
