import express from 'express';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '@dealdome/config';

/** RFC 9457 problem details, the only error shape the API answers with. */
function problem(status: number, title: string, detail?: string) {
  return { type: 'about:blank', title, status, ...(detail !== undefined && { detail }) };
}

export function createApp(logger: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb' }));

  const notFound: RequestHandler = (req, res) => {
    res.status(404).type('application/problem+json').json(problem(404, 'Not Found', `no route for ${req.method} ${req.path}`));
  };
  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    const status = (err as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // express.json() and friends report malformed requests with a 4xx status.
      res.status(status).type('application/problem+json').json(problem(status, 'Bad Request', (err as Error).message));
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'unhandled error');
    res.status(500).type('application/problem+json').json(problem(500, 'Internal Server Error'));
  };
  app.use(notFound);
  app.use(onError);
  return app;
}
