import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { AppError, invalid, notFound, unprocessable } from '../errors';
import { decodeCursor, toPage } from '../pagination';
import type { Page, PageQuery } from '../pagination';
import { dateTimeOutput, decimalOutput, idOutput, pageOutput } from '../schemas/common';
import type { Wire } from '../schemas/common';
import { parseTranscript, TRANSCRIPT_FORMATS } from './transcripts';
import type { TranscriptFormat } from './transcripts';

/**
 * Videos of the knowledge base: a title, where to watch it and its transcript. A
 * video is stored `pending`; the embedding-worker's ingest job cuts the transcript
 * into chunks and embeds them (`processing`), then marks it `ready`, or `failed`
 * with the reason. Transcripts arrive as uploads in Telegram or through the API.
 * Through the API (createVideo) the transcript is read before anything is stored, so
 * an unreadable one is refused with the line at fault instead of becoming a failed
 * video. Both ways store through storeVideo, which holds every transcript to
 * MAX_TRANSCRIPT_CHARACTERS.
 */

export const videoSources = ['upload', 'telegram', 'api', 'cli'] as const;
export type VideoSource = (typeof videoSources)[number];
export const videoStatuses = ['pending', 'processing', 'ready', 'failed'] as const;
export type VideoStatus = (typeof videoStatuses)[number];

/**
 * About ten hours of captions, and a body that still fits the API's 1 MB JSON limit
 * (a transcript mostly outside ASCII reaches that limit first).
 */
export const MAX_TRANSCRIPT_CHARACTERS = 500_000;
export const MAX_VIDEO_TITLE_LENGTH = 200;

/** What chunks.start_seconds and videos.duration_seconds hold: NUMERIC(10,3). */
const SECONDS = /^\d{1,7}(\.\d{1,3})?$/;

export const newVideoInput = z.object({
  title: z.string().trim().min(1, 'is empty').max(MAX_VIDEO_TITLE_LENGTH),
  url: z
    .url({ protocol: /^https?$/, message: 'expected an http or https URL' })
    .max(2000)
    .nullable()
    .optional()
    .meta({ description: 'Where the video is watched; search hits link into it at their passage', example: 'https://www.youtube.com/watch?v=abc' }),
  durationSeconds: z
    .union([z.number(), z.string()])
    .transform(String)
    .pipe(z.string().regex(SECONDS, 'expected seconds, at least 0, with at most 3 decimals, such as 754.5 or "754.5"'))
    .nullable()
    .optional()
    .meta({ description: 'Length of the video in seconds, with up to 3 decimals, as a number or a decimal string', example: '754.5' }),
  source: z.enum(videoSources).default('api').meta({ description: 'Where the transcript came from' }),
  format: z
    .enum(TRANSCRIPT_FORMATS)
    .optional()
    .meta({ description: 'When left out: "vtt" if the text starts with WEBVTT, "srt" if it starts with an SRT cue, otherwise "txt"' }),
  transcript: z
    .string()
    .max(MAX_TRANSCRIPT_CHARACTERS, `is longer than ${MAX_TRANSCRIPT_CHARACTERS} characters`)
    .refine((t) => t.trim() !== '', 'is empty')
    .meta({ description: `Plain text (paragraphs), SubRip (SRT) or WebVTT; at most ${MAX_TRANSCRIPT_CHARACTERS} characters` }),
});
export type NewVideo = z.output<typeof newVideoInput>;

export const videoFilters = z.object({
  status: z.enum(videoStatuses).optional(),
});

export interface Video {
  id: string;
  title: string;
  url: string | null;
  durationSeconds: string | null;
  source: VideoSource;
  format: TranscriptFormat;
  status: VideoStatus;
  error: string | null;
  chunkCount: number;
  embeddedChunkCount: number;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const videoOutput = z
  .object({
    id: idOutput,
    title: z.string(),
    url: z.string().nullable(),
    durationSeconds: decimalOutput.nullable().meta({ example: '754.500' }),
    source: z.enum(videoSources),
    format: z.enum(TRANSCRIPT_FORMATS).meta({ description: 'How the transcript was read' }),
    status: z.enum(videoStatuses).meta({ description: 'pending → processing → ready; failed with `error` when the transcript could not be ingested' }),
    error: z.string().nullable(),
    chunkCount: z.number().int().min(0).meta({ description: 'Passages the transcript was cut into' }),
    embeddedChunkCount: z.number().int().min(0).meta({ description: 'Of those, the ones with a vector' }),
    createdBy: idOutput.nullable().meta({ description: 'The person who added it; null when a machine did' }),
    createdAt: dateTimeOutput,
    updatedAt: dateTimeOutput,
  })
  .meta({ id: 'Video', description: 'A video of the knowledge base and how far its transcript is ingested' }) satisfies z.ZodType<Wire<Video>>;
export const videoPageOutput = pageOutput(videoOutput, 'VideoPage');

const looksLikeTiming = (line: string) => /^\s*\d/.test(line) && line.includes('-->');

/**
 * The format a transcript is written in, from its first lines: a WebVTT header, an
 * SRT cue (a timing line, or a cue number over one), or else plain text. A file
 * whose first cue is garbled is still recognised, so reading it names the line.
 */
export function detectTranscriptFormat(text: string): TranscriptFormat {
  const [first = '', second = ''] = text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/, 50)
    .filter((line) => line.trim() !== '');
  if (/^WEBVTT(?:[ \t]|$)/.test(first)) return 'vtt';
  if (looksLikeTiming(first) || (/^\d+$/.test(first.trim()) && looksLikeTiming(second))) return 'srt';
  return 'txt';
}

type VideoRow = {
  id: string;
  title: string;
  url: string | null;
  duration_seconds: string | null;
  source: string;
  transcript_format: string;
  status: string;
  error: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  chunk_count: number;
  embedded_chunk_count: number;
};

const present = (r: VideoRow): Video => ({
  id: r.id,
  title: r.title,
  url: r.url,
  durationSeconds: r.duration_seconds,
  source: r.source as VideoSource,
  format: r.transcript_format as TranscriptFormat,
  status: r.status as VideoStatus,
  error: r.error,
  chunkCount: r.chunk_count,
  embeddedChunkCount: r.embedded_chunk_count,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Never the transcript: it can be half a megabyte, and a client polling for `ready` has no use for it. */
function selectVideos(db: Database) {
  return db
    .selectFrom('videos')
    .select([
      'id',
      'title',
      'url',
      'duration_seconds',
      'source',
      'transcript_format',
      'status',
      'error',
      'created_by',
      'created_at',
      'updated_at',
      sql<number>`(SELECT count(*)::int FROM chunks WHERE chunks.video_id = videos.id)`.as('chunk_count'),
      sql<number>`(SELECT count(*)::int FROM chunks WHERE chunks.video_id = videos.id AND chunks.embedding IS NOT NULL)`.as('embedded_chunk_count'),
    ]);
}

/** Whether a transcript is longer than a video may hold (MAX_TRANSCRIPT_CHARACTERS, counted as the API counts them). */
export const transcriptTooLong = (transcript: string): boolean => transcript.length > MAX_TRANSCRIPT_CHARACTERS;

/** A video row as storeVideo writes it. */
export interface VideoRecord {
  /** Given by a caller that must store the video once per id (an upload's id derives from its Telegram update). */
  id?: string;
  title: string;
  url: string | null;
  durationSeconds?: string | null;
  source: VideoSource;
  format: TranscriptFormat;
  transcript: string;
  createdBy: string | null;
}

/**
 * Stores a video, `pending`, for the ingest job: the one way a transcript enters the
 * knowledge base, whether posted to the API or uploaded to the bot. A transcript over
 * MAX_TRANSCRIPT_CHARACTERS is refused (400 on `transcript`) and nothing is stored.
 * With an `id`, a second call with the same id stores nothing more. Returns the id.
 */
export async function storeVideo(db: Database, video: VideoRecord): Promise<string> {
  if (transcriptTooLong(video.transcript)) {
    const message = `is longer than ${MAX_TRANSCRIPT_CHARACTERS} characters`;
    throw invalid({ transcript: [message] }, `The transcript ${message}.`);
  }
  const values = {
    ...(video.id !== undefined && { id: video.id }),
    title: video.title,
    url: video.url,
    duration_seconds: video.durationSeconds ?? null,
    source: video.source,
    transcript_format: video.format,
    transcript: video.transcript,
    created_by: video.createdBy,
  };
  if (video.id === undefined) {
    return (await db.insertInto('videos').values(values).returning('id').executeTakeFirstOrThrow()).id;
  }
  await db
    .insertInto('videos')
    .values(values)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  return video.id;
}

/**
 * Reads the transcript (in `format`, or the one detectTranscriptFormat finds) and
 * stores the video, `pending`, for the ingest job. A transcript that cannot be read
 * is a 422 naming its line, and nothing is stored.
 */
export async function createVideo(db: Database, input: NewVideo, createdBy: string | null): Promise<Video> {
  const format = input.format ?? detectTranscriptFormat(input.transcript);
  try {
    parseTranscript(format, input.transcript);
  } catch (err) {
    if (err instanceof AppError) throw unprocessable(`${err.message} (read as ${format})`, err.fieldErrors);
    throw err;
  }
  const id = await storeVideo(db, {
    title: input.title,
    url: input.url ?? null,
    durationSeconds: input.durationSeconds ?? null,
    source: input.source,
    format,
    transcript: input.transcript,
    createdBy,
  });
  return getVideo(db, id);
}

/**
 * Removes a video that was stored but could not be handed to the ingest job, so a
 * refused request leaves nothing behind. Only while it is still `pending`: once the
 * job has started, the video is the worker's.
 */
export async function discardPendingVideo(db: Database, id: string): Promise<void> {
  await db.deleteFrom('videos').where('id', '=', id).where('status', '=', 'pending').execute();
}

export async function getVideo(db: Database, id: string): Promise<Video> {
  const row = await selectVideos(db).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('the video');
  return present(row);
}

const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Newest first (created_at, then id, both descending); the cursor keeps created_at to the microsecond. */
export async function listVideos(db: Database, filters: z.output<typeof videoFilters>, page: PageQuery): Promise<Page<Video>> {
  const after = decodeCursor(page.cursor);
  if (after && !CURSOR_TIME.test(after.key)) throw invalid({ cursor: ['is not a cursor this API issued'] });
  let query = selectVideos(db)
    .select(sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('position'))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
  if (filters.status) query = query.where('status', '=', filters.status);
  if (after) query = query.where(sql<boolean>`(created_at, id) < (${after.key}::timestamptz, ${after.id}::uuid)`);
  return toPage(await query.execute(), page.limit, present, (r) => [r.position, r.id]);
}
