import { z } from 'zod';
import type { KnowledgeSearchHit } from '../knowledge/search';
import { decimalOutput, idOutput } from './common';
import type { Wire } from './common';

const videoTime = z
  .string()
  .regex(/^\d+:\d{2}(:\d{2})?$/)
  .nullable()
  .meta({ description: '"m:ss" or "h:mm:ss"; null for a transcript without times', example: '12:34' });
const rank = z.number().int().min(1).nullable();

export const knowledgeHitOutput = z
  .object({
    chunkId: idOutput,
    videoId: idOutput,
    videoTitle: z.string(),
    videoUrl: z.string().nullable(),
    startSeconds: decimalOutput.nullable().meta({ description: 'Seconds into the video, exact; null for a transcript without times', example: '754.5' }),
    endSeconds: decimalOutput.nullable().meta({ example: '812' }),
    start: videoTime,
    end: videoTime,
    text: z.string().meta({ description: 'The transcript passage' }),
    score: z.number().meta({ description: 'Reciprocal rank fusion: Σ 1/(60 + rank) over the sides that found the passage; higher is better' }),
    vectorRank: rank.meta({ description: 'Rank among the passages nearest in meaning (1 = nearest); null when that side did not find it' }),
    textRank: rank.meta({ description: 'Rank among the full-text matches (1 = best); null when no word matched' }),
    similarity: z.number().nullable().meta({ description: 'Cosine similarity to the question; null without a vector of the same model' }),
    link: z.string().nullable().meta({ description: 'The video at the passage, `t=` seconds; null without a video url', example: 'https://www.youtube.com/watch?v=abc&t=754' }),
  })
  .meta({ id: 'KnowledgeHit' }) satisfies z.ZodType<Wire<KnowledgeSearchHit>>;

export const knowledgeSearchOutput = z
  .object({
    query: z.string(),
    model: z.string().meta({ description: 'The embedding model the question was compared with', example: 'text-embedding-3-small' }),
    hits: z.array(knowledgeHitOutput).meta({ description: 'Best first' }),
  })
  .meta({ id: 'KnowledgeSearch', description: 'Transcript passages for a question, with citations' });
