import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { AppError, chunkTranscript, parseTranscript, transcriptDuration } from '@dealdome/domain';
import { UnrecoverableError } from 'bullmq';
import { sql } from 'kysely';
import type { EmbeddingBatcher } from './batcher';
import { rowsToEmbed, writeVectorsFromCache } from './entities';

export type IngestResult = { videoId: string; chunks: number; embedded: number };

/**
 * A transcript becomes chunks, the chunks vectors, the video `ready`. Each step is
 * idempotent (chunks are keyed by video and index; only chunks without a vector of
 * the current model are embedded), so a retried or repeated job finishes the work
 * without doing any twice. A video without a duration is given its transcript's (the
 * last cue's end; none for plain text). A transcript that cannot be parsed marks the
 * video `failed` with the reason, and the job is not retried; a job that fails on every
 * attempt is marked by failVideosWhenIngestGivesUp (video-failures.ts).
 */
export async function ingestTranscript(db: Database, batcher: EmbeddingBatcher, videoId: string, logger: Logger): Promise<IngestResult> {
  const video = await db.selectFrom('videos').select(['id', 'transcript_format', 'transcript', 'status']).where('id', '=', videoId).executeTakeFirst();
  if (!video) throw new UnrecoverableError(`no video ${videoId}`);

  let chunks: ReturnType<typeof chunkTranscript>;
  let duration: string | null;
  try {
    const cues = parseTranscript(video.transcript_format as 'txt' | 'srt' | 'vtt', video.transcript);
    duration = transcriptDuration(cues);
    chunks = chunkTranscript(cues);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    await db.updateTable('videos').set({ status: 'failed', error: err.message, updated_at: new Date() }).where('id', '=', videoId).execute();
    logger.warn({ videoId, reason: err.message }, 'the transcript could not be read; the video is marked failed');
    throw new UnrecoverableError(err.message);
  }

  await db.transaction().execute(async (trx) => {
    if (chunks.length > 0) {
      await trx
        .insertInto('chunks')
        .values(
          chunks.map((c) => ({
            video_id: videoId,
            chunk_index: c.index,
            content: c.content,
            token_count: c.tokenCount,
            start_seconds: c.startSeconds,
            end_seconds: c.endSeconds,
          })),
        )
        .onConflict((oc) => oc.columns(['video_id', 'chunk_index']).doNothing())
        .execute();
    }
    await trx
      .updateTable('videos')
      .set({
        status: 'processing',
        error: null,
        // A duration the video was given (by the API's caller) stays; one without gets its transcript's.
        ...(duration !== null && { duration_seconds: sql<string>`coalesce(duration_seconds, ${duration}::numeric)` }),
        updated_at: new Date(),
      })
      .where('id', '=', videoId)
      .execute();
  });

  const ids = (await db.selectFrom('chunks').select('id').where('video_id', '=', videoId).execute()).map((r) => r.id);
  const rows = ids.length ? await rowsToEmbed(db, 'chunk', ids, batcher.model) : [];
  const keys = rows.length ? await batcher.ensureCached(rows.map((r) => r.text)) : [];
  await writeVectorsFromCache(db, 'chunk', batcher.model, rows.map((r, i) => ({ id: r.id, key: keys[i]! })));
  await db.updateTable('videos').set({ status: 'ready', updated_at: new Date() }).where('id', '=', videoId).execute();
  logger.info({ videoId, chunks: ids.length, embedded: rows.length }, 'transcript ingested');
  return { videoId, chunks: ids.length, embedded: rows.length };
}
