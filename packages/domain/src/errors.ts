/**
 * The one error type the domain throws. `status` is the HTTP status the API maps it
 * to; `code` is stable for clients; field errors name what was wrong with the input.
 */
export type FieldErrors = Record<string, string[]>;

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fieldErrors?: FieldErrors,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

// Refusals never say which part was wrong: no hint for someone guessing credentials.
export const unauthorized = () => new AppError(401, 'unauthorized', 'Authentication is required or has failed.');
export const forbidden = () => new AppError(403, 'forbidden', 'You are not allowed to do this.');
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} was not found.`);
export const conflict = (message: string) => new AppError(409, 'conflict', message);
export const invalid = (fieldErrors: FieldErrors, message = 'The request is not valid.') =>
  new AppError(400, 'invalid_request', message, fieldErrors);
export const unprocessable = (message: string, fieldErrors?: FieldErrors) =>
  new AppError(422, 'unprocessable', message, fieldErrors);
