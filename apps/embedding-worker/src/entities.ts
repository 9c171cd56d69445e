import type { Database } from '@dealdome/db';
import { toVector } from '@dealdome/db';
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';

/** What gets an embedding, and the text each row is embedded by. */
export type EmbeddedKind = 'chunk' | 'memory' | 'product';

const sources: Record<EmbeddedKind, { table: string; text: RawBuilder<string> }> = {
  chunk: { table: 'chunks', text: sql<string>`content` },
  memory: { table: 'memories', text: sql<string>`content` },
  // A product is found by its name and what its description says.
  product: { table: 'products', text: sql<string>`name || coalesce(E'\n' || nullif(description, ''), '')` },
};

/**
 * The rows among `ids` whose vector is missing or was made by another model, with
 * their text. Switching models re-embeds rather than mixing vector spaces; rows
 * embedded by `model` already are left alone, so a repeated job is cheap.
 */
export async function rowsToEmbed(db: Database, kind: EmbeddedKind, ids: readonly string[], model: string): Promise<{ id: string; text: string }[]> {
  const { table, text } = sources[kind];
  const { rows } = await sql<{ id: string; text: string }>`
    SELECT id, ${text} AS text FROM ${sql.table(table)}
    WHERE id = ANY(${[...ids]}::uuid[]) AND embedding_model IS DISTINCT FROM ${model}
    ORDER BY id`.execute(db);
  return rows;
}

/** Writes the vectors with the model that made them, in one statement. */
export async function writeVectors(db: Database, kind: EmbeddedKind, model: string, rows: readonly { id: string; vector: readonly number[] }[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { table } = sources[kind];
  const result = await sql`
    UPDATE ${sql.table(table)} AS t SET embedding = v.e::vector, embedding_model = ${model}
    FROM unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => toVector(r.vector))}::text[]) AS v(id, e)
    WHERE t.id = v.id`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
