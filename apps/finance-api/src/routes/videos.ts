import { createVideo, discardPendingVideo, getVideo, listVideos, newVideoInput, pageQuery, uuid, videoFilters, videoOutput, videoPageOutput } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { jobIds } from '@dealdome/queues';
import type { Producer } from '@dealdome/queues';
import { z } from 'zod';
import type { Api } from '../http/api';
import { actorId } from '../http/auth';

const idParam = z.object({ id: uuid });

/** Videos of the knowledge base: the API's way in for a transcript, beside an upload to the bot. */
export function videoRoutes(api: Api, db: Database, producer: Producer): void {
  api.route({
    operationId: 'createVideo',
    method: 'post',
    path: '/v1/videos',
    summary: 'Add a video with its transcript',
    description:
      'The transcript (plain text, SRT or WebVTT; `format` is detected when left out) is read before anything is stored: one ' +
      'that cannot be read is refused with 422 naming the line, and nothing is kept. Otherwise the video is stored `pending` ' +
      'and queued for the embedding-worker, which cuts the transcript into passages and embeds them; follow it at `Location` ' +
      'until `status` is `ready` (or `failed`, with `error`). The whole body may be at most 1 MB.',
    tag: 'Knowledge',
    guard: 'knowledgeWrite',
    body: newVideoInput,
    status: 202,
    response: videoOutput,
    problems: [422],
    handle: async ({ body }, { res }) => {
      const video = await createVideo(db, body, actorId(res));
      try {
        // The job id is the video's: queueing it again (a retry) adds nothing while the job is kept.
        await producer.enqueue('embeddings', 'ingest-transcript', { videoId: video.id }, { jobId: jobIds.ingestTranscript(video.id) });
      } catch (err) {
        await discardPendingVideo(db, video.id);
        throw err;
      }
      res.setHeader('Location', `/v1/videos/${video.id}`);
      return video;
    },
  });
  api.route({
    operationId: 'listVideos',
    method: 'get',
    path: '/v1/videos',
    summary: 'List videos, newest first',
    tag: 'Knowledge',
    guard: 'knowledge',
    query: [videoFilters, pageQuery],
    status: 200,
    response: videoPageOutput,
    csv: { filename: 'videos' },
    handle: ({ query }) => listVideos(db, query, query),
  });
  api.route({
    operationId: 'getVideo',
    method: 'get',
    path: '/v1/videos/:id',
    summary: 'Get a video and how far its transcript is ingested',
    tag: 'Knowledge',
    guard: 'knowledge',
    params: idParam,
    status: 200,
    response: videoOutput,
    handle: ({ params }) => getVideo(db, params.id),
  });
}
