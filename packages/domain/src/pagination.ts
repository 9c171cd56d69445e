import { z } from 'zod';
import { invalid } from './errors';

export const MAX_PAGE_SIZE = 200;

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  cursor: z.string().max(500).optional(),
});
export type PageQuery = z.infer<typeof pageQuery>;

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/**
 * Keyset pagination: the cursor is the (sort key, id) of the last row served,
 * opaque to clients. Pages never skip or repeat rows when rows are added between
 * requests, and cost the same at page 1 and page 1000.
 */
export function encodeCursor(key: string, id: string): string {
  return Buffer.from(JSON.stringify([key, id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): { key: string; id: string } | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((p) => typeof p === 'string')) {
      const [key, id] = parsed as [string, string];
      if (z.uuid().safeParse(id).success) return { key, id };
    }
  } catch {
    // fall through to the error below
  }
  throw invalid({ cursor: ['is not a cursor this API issued'] });
}

/** Trims the one extra row fetched to learn whether another page exists. */
export function toPage<R, T>(rows: R[], limit: number, present: (row: R) => T, keyOf: (row: R) => [string, string]): Page<T> {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    data: pageRows.map(present),
    nextCursor: more && last ? encodeCursor(...keyOf(last)) : null,
  };
}
