import type { EmbeddingProvider } from '@dealdome/ai';
import { hybridKnowledgeSearch, knowledgeHitOutput, knowledgeSearchOutput, knowledgeSearchQuery, QUERY_EMBED_TIMEOUT_MS } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import type { Api } from '../http/api';
import { actorId } from '../http/auth';

export function knowledgeRoutes(api: Api, db: Database, embeddings: EmbeddingProvider): void {
  api.route({
    operationId: 'searchKnowledge',
    method: 'get',
    path: '/v1/knowledge/search',
    summary: 'Search the video transcripts',
    description:
      'Hybrid search: the passages nearest to the question in meaning (its embedding against those of the same model) and the ' +
      'passages sharing its words (full text), fused by reciprocal rank (k = 60). A passage the word search did not find is ' +
      "kept only when it is close enough in meaning, so an unrelated question answers few or no hits. Each hit's `link` opens " +
      'the video where the passage starts. When the question cannot be embedded, the word search answers alone.',
    tag: 'Knowledge',
    guard: 'knowledge',
    query: knowledgeSearchQuery,
    status: 200,
    response: knowledgeSearchOutput,
    csv: { filename: 'knowledge-search', rows: (answer) => answer.hits, row: knowledgeHitOutput },
    handle: async ({ query }, { req, res }) => {
      const started = performance.now();
      let queryVector: number[] | null = null;
      try {
        [queryVector = null] = await embeddings.embed([query.q], { signal: AbortSignal.timeout(QUERY_EMBED_TIMEOUT_MS) });
      } catch (err) {
        req.log.warn({ err, model: embeddings.model }, 'embedding the question failed; searching its words only');
      }
      const { hits } = await hybridKnowledgeSearch(db, {
        query: query.q,
        queryVector,
        model: embeddings.model,
        limit: query.limit,
        embeddingMs: performance.now() - started,
        userId: actorId(res),
      });
      return { query: query.q, model: embeddings.model, hits };
    },
  });
}
