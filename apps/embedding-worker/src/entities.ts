import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';

/** What gets an embedding, and the text each row is embedded by. */
export const embeddedKinds = ['product', 'memory', 'chunk'] as const;
export type EmbeddedKind = (typeof embeddedKinds)[number];

const sources: Record<EmbeddedKind, { table: string; text: RawBuilder<string>; searched: RawBuilder<boolean> }> = {
  // A chunk is searched once its video is ready; until then its ingest job embeds it.
  chunk: { table: 'chunks', text: sql<string>`content`, searched: sql<boolean>`video_id IN (SELECT id FROM videos WHERE status = 'ready')` },
  // Superseded memories are history: never recalled, so never re-embedded.
  memory: { table: 'memories', text: sql<string>`content`, searched: sql<boolean>`superseded_at IS NULL` },
  // A product is found by its name and what its description says.
  product: { table: 'products', text: sql<string>`name || coalesce(E'\n' || nullif(description, ''), '')`, searched: sql<boolean>`true` },
};

/**
 * The rows of `kind` that search would compare and that lack a vector of `model`
 * (none yet, or one of another model), by id: what a backfill queues.
 */
export async function rowsMissingVector(db: Database, kind: EmbeddedKind, model: string): Promise<string[]> {
  const { table, searched } = sources[kind];
  const { rows } = await sql<{ id: string }>`
    SELECT id FROM ${sql.table(table)} WHERE ${searched} AND embedding_model IS DISTINCT FROM ${model} ORDER BY id`.execute(db);
  return rows.map((r) => r.id);
}

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

/**
 * Copies each row's vector from embedding_cache (by the key of its text) with the
 * model that made it, in one statement; the vectors never leave the database. Rows
 * whose text changed since it was read keep waiting for the next job (their key no
 * longer matches), as does a row whose cache entry is gone.
 */
export async function writeVectorsFromCache(
  db: Database,
  kind: EmbeddedKind,
  model: string,
  rows: readonly { id: string; key: string }[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const { table, text } = sources[kind];
  const result = await sql`
    UPDATE ${sql.table(table)} AS t SET embedding = c.embedding, embedding_model = c.model
    FROM unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.key)}::text[]) AS v(id, k)
    JOIN embedding_cache c ON c.model = ${model} AND c.text_sha256 = decode(v.k, 'hex')
    WHERE t.id = v.id AND encode(sha256(convert_to(${text}, 'UTF8')), 'hex') = v.k`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
