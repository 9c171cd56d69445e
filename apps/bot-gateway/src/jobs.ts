import type { Producer } from '@dealdome/queues';
import { deliverMessageJobId, embedMemoryJobId, ingestTranscriptJobId, runTurnJobId } from './ids';

/**
 * Work an update hands on, queued only after the rows it names are committed.
 * Each job id is derived from the row, so queueing the same work again (a
 * retried update) adds nothing while the first job is kept.
 */
export type PendingJob =
  | { kind: 'deliver'; chatId: string; messageId: string }
  | { kind: 'turn'; chatId: string; conversationId: string; messageId: string }
  | { kind: 'ingest'; videoId: string }
  | { kind: 'embed-memory'; memoryId: string };

export async function enqueueJobs(producer: Producer, jobs: PendingJob[]): Promise<void> {
  // In order: a reply is queued before anything queued after it, and a chat's turns keep their order.
  for (const job of jobs) {
    switch (job.kind) {
      case 'deliver':
        await producer.enqueue(
          'telegram-outbound',
          'deliver-message',
          { chatId: job.chatId, messageId: job.messageId },
          { jobId: deliverMessageJobId(job.messageId) },
        );
        break;
      case 'turn':
        await producer.enqueue(
          'agent-turns',
          'run-turn',
          { chatId: job.chatId, conversationId: job.conversationId, messageIds: [job.messageId] },
          { jobId: runTurnJobId(job.messageId) },
        );
        break;
      case 'ingest':
        await producer.enqueue('embeddings', 'ingest-transcript', { videoId: job.videoId }, { jobId: ingestTranscriptJobId(job.videoId) });
        break;
      case 'embed-memory':
        await producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: [job.memoryId] }, { jobId: embedMemoryJobId(job.memoryId) });
        break;
    }
  }
}
