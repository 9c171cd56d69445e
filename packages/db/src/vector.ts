import type { ColumnType } from 'kysely';
import pgvector from 'pgvector';

/**
 * pgvector columns. Reads come back as number arrays (the pool's type parser,
 * see database.ts); writes take the text form `[1,2,3]` that `toVector` makes,
 * so a vector is never silently written as a JSON array or a float string.
 */
export type Vector = number[];

export function toVector(values: readonly number[]): string {
  for (const v of values) {
    if (!Number.isFinite(v)) throw new TypeError('a vector holds finite numbers only');
  }
  // pgvector keeps 4-byte floats, which 9 significant digits restore exactly; the
  // 17 of a JS double would only make the text (and PostgreSQL's parsing) longer.
  return pgvector.toSql(values.map((v) => Number(v.toPrecision(9)))) as string;
}

export function parseVector(text: string): Vector {
  return pgvector.fromSql(text) as Vector;
}

export const EMBEDDING_DIMENSIONS = 1536;

/** How kysely-codegen types a `vector` column (see .kysely-codegenrc.json). */
export type VectorColumn = ColumnType<Vector, string, string>;
