import { createHash, timingSafeEqual } from 'node:crypto';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { GatewayDeps } from './context';
import { recordUpdate } from './inbox';
import type { UpdateProcessor } from './processor';
import type { IncomingUpdate } from './telegram';

const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/** Equal-length digests compared in constant time: neither the secret nor its length leaks through timing. */
function sameSecret(given: string | undefined, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

function isUpdate(body: unknown): body is IncomingUpdate {
  return typeof body === 'object' && body !== null && Number.isSafeInteger((body as { update_id?: unknown }).update_id);
}

/**
 * The webhook endpoint at the path of TELEGRAM_WEBHOOK_URL. A request without the
 * secret token gets 401 before its body is read. An update is recorded, answered
 * 200 at once (Telegram holds back later updates while one is unanswered) and
 * handled in the background; a failure to record it answers 500, so Telegram
 * delivers it again.
 */
export function createWebhookApp(deps: GatewayDeps, processor: UpdateProcessor, path: string, secret: string): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const log = deps.logger.child({ intake: 'webhook' });

  app.post(
    path,
    (req: Request, res: Response, next: NextFunction) => {
      if (sameSecret(req.get(SECRET_HEADER), secret)) return next();
      log.warn({ ip: req.ip }, 'webhook call without the right secret token; refused');
      res.status(401).json({ ok: false, error: 'unauthorized' });
    },
    express.json({ limit: '1mb' }),
    async (req: Request, res: Response) => {
      const body: unknown = req.body;
      if (!isUpdate(body)) {
        res.status(400).json({ ok: false, error: 'not a Telegram update' });
        return;
      }
      try {
        const outcome = await recordUpdate(deps.db, body);
        if (outcome !== 'processed') void processor.schedule(body, outcome);
        res.status(200).json({ ok: true });
      } catch (err) {
        log.error({ err, updateId: body.update_id }, 'recording the update failed; Telegram will deliver it again');
        res.status(500).json({ ok: false, error: 'not recorded' });
      }
    },
  );

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ ok: false, error: 'not found' });
  });
  // Malformed JSON and anything unexpected: a status, never internals.
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err.type === 'entity.parse.failed' ? 400 : err.status === 413 ? 413 : 500;
    if (status === 500) log.error({ err }, 'webhook request failed');
    res.status(status).json({ ok: false, error: status === 500 ? 'internal error' : err.type ?? 'bad request' });
  });
  return app;
}
