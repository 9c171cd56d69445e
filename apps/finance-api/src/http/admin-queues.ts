import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import basicAuth from 'basic-auth';
import { Router } from 'express';
import type { Request, RequestHandler, Response } from 'express';
import { authenticate, hasScope, roleScopes, verifyCredentials } from '@dealdome/domain';
import type { AuthConfig, Principal } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { catalog, queueNames } from '@dealdome/queues';
import type { Producer } from '@dealdome/queues';
import { bearerOf } from './auth';
import { loginLimiters } from './login-limits';
import type { LoginLimits } from './login-limits';
import { sendProblem } from './problem';

export const ADMIN_QUEUES_PATH = '/admin/queues';

/** Makes a browser ask for the email and password; the realm names what they open. */
const CHALLENGE = 'Basic realm="DealDome queues"';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Where the board's page template and static files (@bull-board/ui) are: beside the
 * bundle in a built service (tsup.config.ts copies them there, the image has no
 * node_modules), else in node_modules. Bull Board would look them up from its own
 * location, which a bundle no longer has.
 */
function boardUiDirectory(): string {
  const bundled = path.join(__dirname, 'bull-board-ui');
  return existsSync(bundled) ? bundled : path.dirname(createRequire(__filename).resolve('@bull-board/ui/package.json'));
}

const basicOf = (res: Response) => res.locals.basicCredentials as basicAuth.BasicAuthResult | undefined;

/**
 * Who is asking: a person by HTTP Basic (email and password, for a browser, which
 * sends them with every request of the page), or anyone by `Authorization: Bearer`
 * (an access token or API token). Undefined when no credential works.
 */
async function callerOf(db: Database, config: AuthConfig, req: Request, res: Response): Promise<Principal | undefined> {
  const basic = basicOf(res);
  try {
    if (basic) {
      const user = await verifyCredentials(db, basic.name, basic.pass);
      res.locals.passwordAccepted = true;
      return { kind: 'user', user, scopes: roleScopes[user.role] };
    }
    const bearer = bearerOf(req);
    return bearer === undefined ? undefined : await authenticate(db, config, bearer);
  } catch (err) {
    if ((err as { status?: unknown }).status === 401) return undefined;
    throw err;
  }
}

/**
 * The gate of the board: a caller holding the admin scope (role admin, or an API
 * token given `admin`) passes; anyone else gets 401 with a Basic challenge, or 403.
 */
function adminGate(db: Database, config: AuthConfig): RequestHandler {
  return async (req, res, next) => {
    const caller = await callerOf(db, config, req, res);
    if (!caller) {
      res.set('WWW-Authenticate', CHALLENGE);
      sendProblem(res, 401, 'Sign in as an admin: HTTP Basic with your email and password, or a Bearer token.', { code: 'unauthorized' });
      return;
    }
    if (!hasScope(caller, 'admin')) {
      sendProblem(res, 403, 'The queue board is for admins.', { code: 'forbidden' });
      return;
    }
    // A browser sends Basic credentials with every request to this origin, including
    // ones another site's page makes it send (a form posted from elsewhere): a change
    // asked for from another site is refused. Sec-Fetch-Site comes from the browser
    // and a page cannot set it; clients that are not browsers do not send it.
    const site = req.get('sec-fetch-site');
    if (!SAFE_METHODS.has(req.method) && (site === 'cross-site' || site === 'same-site')) {
      sendProblem(res, 403, 'Changes to the queues are accepted only from the board itself.', { code: 'forbidden' });
      return;
    }
    next();
  };
}

export interface AdminQueuesOptions {
  db: Database;
  config: AuthConfig;
  producer: Producer;
  /** The failed-login limits of POST /v1/auth/login: a wrong Basic password counts in the same buckets. */
  limits: LoginLimits;
}

/**
 * Bull Board over every queue of the catalog, at /admin/queues, for admins: jobs by
 * state, their data, errors and logs; retry, promote and remove. Its queues are the
 * producer's, on the service's one Redis connection and QUEUE_PREFIX.
 */
export function adminQueues(options: AdminQueuesOptions): Router {
  const serverAdapter = new ExpressAdapter().setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({
    queues: queueNames.map(
      (name) =>
        new BullMQAdapter(options.producer.queue(name), {
          description: `jobs: ${Object.keys(catalog[name].jobs).join(', ')}`,
          // Said outright: fixing stuck work (retry, remove) is what the board is for.
          readOnlyMode: false,
          allowRetries: true,
        }),
    ),
    serverAdapter,
    options: { uiBasePath: boardUiDirectory(), uiConfig: { boardTitle: 'DealDome queues' } },
  });

  const router = Router();
  router.use((req, res, next) => {
    res.locals.basicCredentials = basicAuth(req);
    next();
  });
  router.use(
    loginLimiters(options.limits, {
      emailOf: (_req, res) => basicOf(res)?.name,
      // Only a password is a guess; a bearer token or no credential at all is not counted.
      skip: (_req, res) => basicOf(res) === undefined,
      // Judged by the password, not the answer: a board request that answers 4xx (a job
      // that is gone) is no failed login, and a member's right password is no guess.
      succeeded: (_req, res) => res.locals.passwordAccepted === true,
    }),
  );
  router.use(adminGate(options.db, options.config));
  router.use(serverAdapter.getRouter() as RequestHandler);
  return router;
}
