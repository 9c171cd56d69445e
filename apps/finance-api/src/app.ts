import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express from 'express';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Platform } from '@dealdome/queues';
import type { AuthConfig } from '@dealdome/domain';
import { guards } from './http/auth';
import { errorHandler, notFoundHandler, sendProblem } from './http/problem';
import { apiTokenRoutes } from './routes/api-tokens';
import { authRoutes } from './routes/auth';
import { adSpendRoutes } from './routes/ad-spend';
import { dailyFinancialsRoutes } from './routes/daily-financials';
import { fixedCostRoutes } from './routes/fixed-costs';
import { fxRateRoutes } from './routes/fx-rates';
import { productRoutes } from './routes/products';
import { reportRoutes } from './routes/reports';
import { settingsRoutes } from './routes/settings';
import { storeRoutes } from './routes/stores';
import type { Env } from './env';

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

/** Routes whose body is not JSON, with the one media type each takes. */
const NON_JSON_BODIES: Record<string, string> = { '/v1/ad-spend/import': 'text/csv' };

/** A body must be of the route's media type (JSON unless listed); anything else is refused before it is parsed. */
const requireBodyType: RequestHandler = (req, res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  const expected = NON_JSON_BODIES[req.path] ?? 'application/json';
  if (hasBody && !req.is(expected)) {
    sendProblem(res, 415, `Send the body as ${expected}.`, { code: 'unsupported_media_type' });
    return;
  }
  next();
};

export function createApp(platform: Platform, env: Env): express.Express {
  const { database, logger } = platform;
  const db = database.db;
  const config = authConfig(env);
  const guard = guards(db, config);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', env.TRUST_PROXY_HOPS);
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
  app.use(cors({ origin: env.CORS_ORIGINS, credentials: false, exposedHeaders: ['x-request-id'] }));
  app.use(requireBodyType);
  app.use(express.json({ limit: '1mb', strict: true }));

  app.use(
    authRoutes(
      db,
      config,
      { perEmail: env.LOGIN_RATE_LIMIT_MAX, perAddress: env.LOGIN_RATE_LIMIT_IP_MAX, windowSeconds: env.LOGIN_RATE_LIMIT_WINDOW_SECONDS, redis: platform.redis, prefix: env.QUEUE_PREFIX },
      guard.read,
    ),
  );
  app.use(apiTokenRoutes(db, guard.admin));
  app.use(storeRoutes(db, guard));
  app.use(productRoutes(db, guard));
  app.use(fixedCostRoutes(db, guard));
  app.use(adSpendRoutes(db, guard));
  app.use(dailyFinancialsRoutes(db, guard));
  app.use(fxRateRoutes(db, guard));
  app.use(settingsRoutes(db, guard, env.SETTINGS_ENCRYPTION_KEY));
  app.use(reportRoutes(db, guard));

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
