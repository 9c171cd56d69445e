import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express from 'express';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { selectEmbeddingProvider } from '@dealdome/ai';
import { encryptionKeys } from '@dealdome/config';
import type { Platform } from '@dealdome/queues';
import type { AuthConfig } from '@dealdome/domain';
import { ADMIN_QUEUES_PATH, adminQueues } from './http/admin-queues';
import { Api } from './http/api';
import { guards } from './http/auth';
import { docsPage } from './http/docs';
import { httpMetrics } from './http/metrics';
import { assertEveryRouteDocumented } from './http/openapi';
import { errorHandler, notFoundHandler, sendProblem } from './http/problem';
import { apiTokenRoutes } from './routes/api-tokens';
import { authRoutes } from './routes/auth';
import { adSpendRoutes } from './routes/ad-spend';
import { dailyFinancialsRoutes } from './routes/daily-financials';
import { fixedCostRoutes } from './routes/fixed-costs';
import { fxRateRoutes } from './routes/fx-rates';
import { knowledgeRoutes } from './routes/knowledge';
import { memoryRoutes } from './routes/memories';
import { notificationRoutes } from './routes/notifications';
import { openApiRoutes } from './routes/openapi';
import { productRoutes } from './routes/products';
import { reportRoutes } from './routes/reports';
import { scheduledTaskRoutes } from './routes/scheduled-tasks';
import { settingsRoutes } from './routes/settings';
import { shopifyWebhookBody, shopifyWebhookRoutes } from './routes/shopify-webhooks';
import { storeRoutes } from './routes/stores';
import { videoRoutes } from './routes/videos';
import type { Env } from './env';
import { version } from '../package.json';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

export function authConfig(env: Env): AuthConfig {
  return {
    jwtSecret: env.JWT_SECRET,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
  };
}

/** A body must be of the route's media type (JSON unless the route declares another); anything else is refused before it is parsed. */
function requireBodyType(api: Api): RequestHandler {
  return (req, res, next) => {
    const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
    const expected = api.bodyTypeAt(req.path);
    if (hasBody && !req.is(expected)) {
      sendProblem(res, 415, `Send the body as ${expected}.`, { code: 'unsupported_media_type' });
      return;
    }
    next();
  };
}

function holdsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 64 || value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, v]) => key.includes('\u0000') || holdsNul(v, depth + 1));
}

/**
 * PostgreSQL text cannot hold NUL characters, and no field of this API has a use for
 * them: a JSON body or query carrying one is refused here, once for every route.
 */
const refuseNulCharacters: RequestHandler = (req, res, next) => {
  if (holdsNul(req.query) || holdsNul(req.body)) {
    sendProblem(res, 400, 'The request contains a NUL character (\\u0000), which no field accepts.', { code: 'invalid_request' });
    return;
  }
  next();
};

const API_INFO = {
  title: 'DealDome finance API',
  version,
  description:
    "Stores, products, costs, ad spend, daily figures, exchange rates and the P&L of the DealDome shops, and search over the transcripts of the team's videos.\n\n" +
    'Send `Authorization: Bearer …` with an access token from `POST /v1/auth/login` or an API token. ' +
    'Amounts are decimal strings (`"1234.50"`) with their currency. Lists take `limit` and `cursor` and answer `{data, nextCursor}`; ' +
    'lists and reports answer `?format=csv` with a CSV file. Every error is `application/problem+json`.',
};

export function createApp(platform: Platform, env: Env): express.Express {
  const { database, logger } = platform;
  const db = database.db;
  const config = authConfig(env);
  const api = new Api(guards(db, config), API_INFO);
  // Built once: it says in the log which provider embeds, and it must match the embedding-worker's.
  const embeddings = selectEmbeddingProvider(env, logger);
  const loginLimits = {
    perEmail: env.LOGIN_RATE_LIMIT_MAX,
    perAddress: env.LOGIN_RATE_LIMIT_IP_MAX,
    windowSeconds: env.LOGIN_RATE_LIMIT_WINDOW_SECONDS,
    redis: platform.redis,
    prefix: env.QUEUE_PREFIX,
  };
  authRoutes(api, db, config, loginLimits);
  apiTokenRoutes(api, db);
  storeRoutes(api, db);
  productRoutes(api, db, platform.producer, embeddings);
  fixedCostRoutes(api, db);
  adSpendRoutes(api, db);
  dailyFinancialsRoutes(api, db);
  fxRateRoutes(api, db);
  settingsRoutes(api, db, encryptionKeys(env));
  reportRoutes(api, db, platform.reads);
  knowledgeRoutes(api, db, embeddings);
  videoRoutes(api, db, platform.producer);
  memoryRoutes(api, db);
  notificationRoutes(api, db, platform.producer);
  shopifyWebhookRoutes(api, db, platform.producer, env.SHOPIFY_WEBHOOK_SECRET, logger);
  scheduledTaskRoutes(api, db);
  openApiRoutes(api);

  const app = express();
  app.disable('x-powered-by');
  // Express would hash every answer body (reports and CSV files included) for an ETag
  // that no client of this API sends back; that hash was a measurable share of each request.
  app.disable('etag');
  app.set('trust proxy', env.TRUST_PROXY_HOPS);
  app.use(httpMetrics(platform.registry));
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    }),
  );
  app.use(helmet());
  app.use(
    cors({ origin: env.CORS_ORIGINS, credentials: false, exposedHeaders: ['x-request-id', 'x-next-cursor', 'link', 'content-disposition'] }),
  );
  app.use(docsPage());
  // Before the API's body checks and parsers: the board parses its own requests.
  // helmet's default policy serves it as it is (scripts and styles are its own
  // files; the inline styles and its web font stylesheet are allowed by the default style-src).
  app.use(ADMIN_QUEUES_PATH, adminQueues({ db, config, producer: platform.producer, limits: loginLimits }));
  // Before the JSON parser: a webhook's signature is over its raw bytes.
  app.use(shopifyWebhookBody);
  app.use(requireBodyType(api));
  app.use(express.json({ limit: '1mb', strict: true }));
  app.use(refuseNulCharacters);
  app.use(api.router);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));

  assertEveryRouteDocumented(app, api.operations);
  // Built now, so a schema the document cannot describe stops start-up rather than the first request for it.
  api.document();
  return app;
}
