import { z } from 'zod';

/**
 * Response schemas: the JSON the API sends, described in zod so the OpenAPI document
 * is generated from them. They are not parsed on the way out (every response would
 * pay for it); the API's tests check real responses against the document instead.
 * A schema with an `id` becomes a named component of the document.
 */

/** A domain type as JSON carries it: dates become ISO 8601 strings. */
export type Wire<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export const idOutput = z.uuid();
export const dateOutput = z.iso.date().meta({ example: '2026-11-05' });
export const dateTimeOutput = z.iso.datetime().meta({ example: '2026-11-05T09:30:00.000Z' });
export const monthOutput = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
  .meta({ example: '2026-11' });
export const currencyOutput = z
  .string()
  .regex(/^[A-Z]{3}$/)
  .meta({ description: 'ISO 4217 code', example: 'EUR' });
/** A stored amount or rate: exact, as a string, with 2 decimals unless it holds more. */
export const decimalOutput = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/)
  .meta({ description: 'An exact decimal as a string', example: '1234.50' });
/** A computed figure, rounded half-up to exactly 2 decimals at output. */
export const money2Output = z
  .string()
  .regex(/^-?\d+\.\d{2}$/)
  .meta({ description: 'A decimal string with exactly 2 decimals, rounded half-up', example: '1234.50' });

/** RFC 9457 problem details: every error the API answers, as application/problem+json. */
export const problemOutput = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    code: z.string().optional().meta({ description: 'Stable machine-readable reason, such as "invalid_request"' }),
    errors: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .meta({ description: 'What was wrong with each field of the input, by field name' }),
  })
  .meta({ id: 'Problem', description: 'Problem details (RFC 9457)' });

/** A page of a list: `nextCursor` is passed back as `?cursor=` for the next one, null on the last. */
export function pageOutput<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      data: z.array(item),
      nextCursor: z.string().nullable().meta({ description: 'Pass as ?cursor= for the next page; null on the last page' }),
    })
    .meta({ id, description: 'One page of the list' });
}

/** A list served whole, without pages. */
export function listOutput<T extends z.ZodType>(item: T, id: string) {
  return z.object({ data: z.array(item) }).meta({ id, description: 'The whole list' });
}
