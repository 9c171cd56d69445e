import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { isFinalFailure } from '@dealdome/queues';
import type { Job, Worker } from 'bullmq';

/** The longest provider or database message kept in videos.error. */
const MAX_REASON_LENGTH = 1000;

/**
 * The reason a video is marked `failed` with when its ingest job has no attempts
 * left: what the last attempt died of, and how many were made.
 */
export function ingestGaveUpReason(attempts: number, message: string): string {
  const clipped = message.length > MAX_REASON_LENGTH ? `${message.slice(0, MAX_REASON_LENGTH - 1)}…` : message;
  return `The transcript could not be ingested (gave up after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}): ${clipped}`;
}

/**
 * Settles the video of an `ingest-transcript` job that failed for good (see
 * isFinalFailure): a video still `pending` or `processing` becomes `failed` with
 * the reason, so a client polling for `ready` or `failed` stops. A video already
 * `ready` or `failed` (an unreadable transcript is marked by ingestTranscript itself,
 * with the line at fault) is left as it is. Returns whether a video was marked.
 */
export async function failVideoOfFinalIngestFailure(db: Database, job: Job | undefined, err: Error, logger: Logger): Promise<boolean> {
  if (!job || job.name !== 'ingest-transcript' || !isFinalFailure(job, err)) return false;
  const videoId = (job.data as { videoId?: unknown } | undefined)?.videoId;
  if (typeof videoId !== 'string') return false;
  const reason = ingestGaveUpReason(job.attemptsMade, err.message);
  const marked = await db
    .updateTable('videos')
    .set({ status: 'failed', error: reason, updated_at: new Date() })
    .where('id', '=', videoId)
    .where('status', 'in', ['pending', 'processing'])
    .executeTakeFirst();
  const done = Number(marked.numUpdatedRows) > 0;
  if (done) logger.warn({ videoId, jobId: job.id, attempts: job.attemptsMade, reason: err.message }, 'the ingest job gave up; the video is marked failed');
  return done;
}

/**
 * Listens to the embeddings worker's final failures of `ingest-transcript` and marks
 * their videos `failed` (failVideoOfFinalIngestFailure). Retries in between leave the
 * video `processing`: the next attempt may still finish it.
 */
export function failVideosWhenIngestGivesUp(worker: Worker, db: Database, logger: Logger): void {
  worker.on('failed', (job, err) => {
    failVideoOfFinalIngestFailure(db, job, err, logger).catch((markErr: unknown) => {
      logger.error(
        { videoId: (job?.data as { videoId?: unknown } | undefined)?.videoId, err: { message: markErr instanceof Error ? markErr.message : String(markErr) } },
        'the ingest job gave up, but its video could not be marked failed',
      );
    });
  });
}
