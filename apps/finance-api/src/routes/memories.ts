import { deleteAnyMemory, listAllMemories, memoryAdminFilters, memoryRecordPageOutput, notFound, pageQuery, uuid } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import type { Api } from '../http/api';
import { principalOf } from '../http/auth';

const idParam = z.object({ id: uuid });
const deleteQuery = z.object({
  reason: z.string().trim().max(500).optional().meta({ description: 'Why it goes; recorded with who deleted it' }),
});

/** Administration of the agents' long-term memories: what the team's /memories and /forget do, for every person at once. */
export function memoryRoutes(api: Api, db: Database): void {
  api.route({
    operationId: 'listMemories',
    method: 'get',
    path: '/v1/memories',
    summary: 'List memories, newest first',
    description:
      "Every memory: the team's and each person's. Memories merged into or replaced by another are history and are left out " +
      'unless `includeSuperseded=true`. `q` matches part of the text, any case. The vector is never sent, only its model.',
    tag: 'Memories',
    guard: 'admin',
    query: [memoryAdminFilters, pageQuery],
    status: 200,
    response: memoryRecordPageOutput,
    csv: { filename: 'memories' },
    handle: ({ query }) => listAllMemories(db, query, query),
  });
  api.route({
    operationId: 'deleteMemory',
    method: 'delete',
    path: '/v1/memories/:id',
    summary: 'Delete a memory',
    description:
      "As /forget in Telegram does, for any person's memory: the memory is deleted, and a `deleted` event in its history keeps " +
      'who deleted it and why. A memory it had replaced stays history; the agents stop recalling it at once.',
    tag: 'Memories',
    guard: 'admin',
    params: idParam,
    query: deleteQuery,
    status: 204,
    handle: async ({ params, query }, { req, res }) => {
      const principal = principalOf(res);
      const who = principal.kind === 'user' ? principal.user.email : `API token "${principal.name}"`;
      const reason = `admin api by ${who}${query.reason ? `: ${query.reason}` : ''}`;
      const deleted = await deleteAnyMemory(db, { id: params.id, reason });
      if (!deleted) throw notFound('the memory');
      req.log.info({ memoryId: deleted.id, scope: deleted.scope }, 'memory deleted through the API');
    },
  });
}
