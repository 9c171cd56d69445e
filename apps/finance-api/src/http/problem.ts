import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { isDatabaseUnavailable } from '@dealdome/db';
import { QueueUnavailableError } from '@dealdome/queues';
import { AdSpendImportRejected, AppError } from '@dealdome/domain';
import type { FieldErrors } from '@dealdome/domain';
import { reportError } from '@dealdome/config';
import type { Logger } from '@dealdome/config';
import type { z } from 'zod';

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** RFC 9457 problem details, the only error shape the API answers with. */
export function sendProblem(
  res: Response,
  status: number,
  detail?: string,
  extra: { code?: string; errors?: FieldErrors; extensions?: Record<string, unknown> } = {},
): void {
  res
    .status(status)
    .type('application/problem+json')
    .json({
      type: 'about:blank',
      title: titles[status] ?? 'Error',
      status,
      ...(detail !== undefined && { detail }),
      ...(extra.code !== undefined && { code: extra.code }),
      ...(extra.errors !== undefined && { errors: extra.errors }),
      ...extra.extensions,
    });
}

/** What a client is told to wait before asking again while the database is away (a restart or failover takes seconds). */
const DATABASE_RETRY_AFTER_SECONDS = 5;

export function fieldErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.join('.') || '(body)';
    (errors[key] ??= []).push(issue.message);
  }
  return errors;
}

/** Members a refusal adds to the standard ones: a rejected CSV import lists its bad rows. */
function extensionsOf(err: AppError): Record<string, unknown> | undefined {
  return err instanceof AdSpendImportRejected ? { badRows: err.badRows, rows: err.rows } : undefined;
}

/** Parses input with its schema; a mismatch is a 400 naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new AppError(400, 'invalid_request', 'The request is not valid.', fieldErrors(result.error));
  return result.data;
}

export const notFoundHandler: RequestHandler = (req, res) =>
  sendProblem(res, 404, `No route for ${req.method} ${req.path}.`, { code: 'route_not_found' });

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    // Part of the answer is out (a CSV download that failed midway): only ending the connection is left.
    if (res.headersSent) {
      (req.log ?? logger).error({ err }, 'error after the answer started');
      reportError(err, { method: req.method, path: req.path });
      next(err);
      return;
    }
    if (err instanceof AppError) {
      sendProblem(res, err.status, err.message, { code: err.code, ...(err.fieldErrors && { errors: err.fieldErrors }), extensions: extensionsOf(err) });
      return;
    }
    // body-parser and friends mark malformed requests with a 4xx status and a type.
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const type = (err as { type?: string }).type;
      const detail =
        type === 'entity.parse.failed' ? 'The body is not valid JSON.' : type === 'entity.too.large' ? 'The body is too large.' : 'The request could not be read.';
      sendProblem(res, status, detail, { code: type?.replace(/\./g, '_') ?? 'bad_request' });
      return;
    }
    // An outage of the database or the queue is not a bug of the request: the client may simply ask again.
    if (err instanceof QueueUnavailableError) {
      (req.log ?? logger).warn({ err: { message: err.message } }, 'the job queue is unavailable; answering 503');
      res.setHeader('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      sendProblem(res, 503, 'The job queue cannot be reached right now. Try again in a few seconds.', { code: 'queue_unavailable' });
      return;
    }
    if (isDatabaseUnavailable(err)) {
      (req.log ?? logger).warn({ err: { message: (err as Error).message } }, 'the database is unavailable; answering 503');
      res.setHeader('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      sendProblem(res, 503, 'The database cannot be reached right now. Try again in a few seconds.', { code: 'database_unavailable' });
      return;
    }
    (req.log ?? logger).error({ err }, 'unhandled error');
    reportError(err, { method: req.method, path: req.path });
    sendProblem(res, 500, 'Something went wrong on our side.', { code: 'internal' });
  };
}
