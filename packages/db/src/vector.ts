import type { ColumnType } from 'kysely';
import pgvector from 'pgvector';

/**
 * pgvector columns. Reads come back as number arrays (the pool's type parser,
 * see database.ts); writes take the text form `[1,2,3]` that `toVector` makes or
 * the binary form of `toVectorBinary`, so a vector is never silently written as a
 * JSON array or a float string.
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

/**
 * A vector in pgvector's binary form, as `vector_recv` reads it: int16 dimensions,
 * int16 0 (unused), then each value as a big-endian float4. pg sends a Buffer
 * parameter in binary format, so PostgreSQL takes the floats as they are instead of
 * parsing 1,536 decimal numbers, and the worker skips formatting them: writing a
 * batch of embeddings costs a small fraction of the text form's CPU on both sides.
 * Each value is rounded once, to the nearest float4; the text form rounds a double
 * twice (to 9 digits, then to float4) and can land one float4 step away.
 */
export function toVectorBinary(values: ArrayLike<number>): Buffer {
  const buffer = Buffer.allocUnsafe(4 + 4 * values.length);
  buffer.writeInt16BE(values.length, 0);
  buffer.writeInt16BE(0, 2);
  for (let i = 0; i < values.length; i++) {
    const value = Math.fround(values[i]!);
    // A double beyond float4's range would become Infinity, which pgvector refuses.
    if (!Number.isFinite(value)) throw new TypeError('a vector holds finite float4 numbers only');
    buffer.writeFloatBE(value, 4 + 4 * i);
  }
  return buffer;
}

export function parseVector(text: string): Vector {
  return pgvector.fromSql(text) as Vector;
}

export const EMBEDDING_DIMENSIONS = 1536;

/** How kysely-codegen types a `vector` column (see .kysely-codegenrc.json): written as toVector's text or toVectorBinary's Buffer. */
export type VectorColumn = ColumnType<Vector, string | Buffer, string | Buffer>;
