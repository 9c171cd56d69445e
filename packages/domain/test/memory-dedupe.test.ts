import { useTestDatabase } from '@dealdome/db/testing';
import { toVector } from '@dealdome/db';
import { sql } from 'kysely';
import { createMemory, embeddedMemory, listMemories, NEAR_DUPLICATE_SIMILARITY, nearestPeer, recallRelevantMemories, settleNearDuplicate, walkToPeers } from '../src/memories';
import { createUser } from '../src/users';

/** A unit vector leaning towards axis `a`, with `lean` of it on axis `b` (cosine with the pure axis a is known). */
function unit(a: number, b: number, lean: number): number[] {
  const v = new Array<number>(1536).fill(0);
  v[a] = Math.sqrt(1 - lean * lean);
  v[b] = lean;
  return v;
}

describe('memories remembered twice', () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;

  const embed = (id: string, vector: number[], model = 'test-model') =>
    db().updateTable('memories').set({ embedding: toVector(vector), embedding_model: model }).where('id', '=', id).execute();

  it('when the same text is remembered again in the same scope, then the memory is refreshed, not added, and the decision recorded', async () => {
    const first = await createMemory(db(), { scope: 'team', userId: null, content: 'Our supplier ships on Tuesdays.' });
    const again = await createMemory(db(), { scope: 'team', userId: null, content: '  our supplier   ships on tuesdays!' });
    expect(first).toMatchObject({ created: true, refreshed: false });
    expect(again).toMatchObject({ created: false, refreshed: true, memory: { id: first.memory.id } });
    const rows = await db().selectFrom('memories').select('id').where('content', 'ilike', '%supplier ships on tuesdays%').execute();
    expect(rows).toHaveLength(1);
    const events = await db().selectFrom('memory_events').select(['action', 'similarity']).where('memory_id', '=', first.memory.id).orderBy('created_at').execute();
    expect(events.map((e) => e.action)).toEqual(['created', 'refreshed']);
  });

  it("when a person remembers what the team already has, then both are kept: scopes do not merge", async () => {
    const { user } = await createUser(db(), { email: 'ana@dealdome.test', role: 'member' });
    await createMemory(db(), { scope: 'team', userId: null, content: 'Budget is 5000 EUR' });
    const personal = await createMemory(db(), { scope: 'user', userId: user.id, content: 'Budget is 5000 EUR' });
    expect(personal.created).toBe(true);
  });

  it('when a new memory is a near-duplicate of an older one, then the older is refreshed and the newer superseded, with history kept', async () => {
    const older = (await createMemory(db(), { scope: 'team', userId: null, content: 'We ship from the Rotterdam warehouse' })).memory;
    const newer = (await createMemory(db(), { scope: 'team', userId: null, content: 'Shipping goes out of our Rotterdam warehouse' })).memory;
    const other = (await createMemory(db(), { scope: 'team', userId: null, content: 'We now ship from Poland' })).memory;
    await embed(older.id, unit(10, 11, 0));
    await embed(newer.id, unit(10, 11, 0.2)); // cosine 0.98 with older
    await embed(other.id, unit(10, 12, 0.6)); // cosine 0.8: related, not the same

    const decision = await settleNearDuplicate(db(), newer.id);
    expect(decision).toMatchObject({ outcome: 'merged', into: older.id });
    expect(decision.outcome === 'merged' && decision.similarity).toBeGreaterThanOrEqual(NEAR_DUPLICATE_SIMILARITY);
    expect(await settleNearDuplicate(db(), other.id)).toMatchObject({ outcome: 'kept' });

    const current = await db().selectFrom('memories').select(['id', 'superseded_by']).where('id', 'in', [older.id, newer.id, other.id]).execute();
    expect(Object.fromEntries(current.map((m) => [m.id, m.superseded_by]))).toEqual({ [older.id]: null, [newer.id]: older.id, [other.id]: null });
    const events = await db().selectFrom('memory_events').select(['memory_id', 'action', 'related_memory_id']).where('action', 'in', ['refreshed', 'superseded']).execute();
    expect(events).toEqual(
      expect.arrayContaining([
        { memory_id: older.id, action: 'refreshed', related_memory_id: newer.id },
        { memory_id: newer.id, action: 'superseded', related_memory_id: older.id },
      ]),
    );
    const { user } = await createUser(db(), { email: 'bo@dealdome.test', role: 'member' });
    const listed = await listMemories(db(), { userId: user.id, limit: 50 });
    expect(listed.some((m) => m.id === newer.id)).toBe(false);
  });

  it('when two close memories state other numbers, then both are kept: a changed price is not a near-duplicate', async () => {
    const older = (await createMemory(db(), { scope: 'team', userId: null, content: 'Shipping to Germany costs 5 EUR per parcel' })).memory;
    const newer = (await createMemory(db(), { scope: 'team', userId: null, content: 'Shipping to Germany costs 7 EUR per parcel' })).memory;
    // A model of their own: the recall tests below see only theirs.
    await embed(older.id, unit(30, 31, 0), 'numbers-model');
    await embed(newer.id, unit(30, 31, 0.1), 'numbers-model'); // cosine 0.995: as close as a near-duplicate

    expect(await settleNearDuplicate(db(), newer.id)).toMatchObject({ outcome: 'kept' });
    const rows = await db().selectFrom('memories').select(['id', 'superseded_at']).where('id', 'in', [older.id, newer.id]).execute();
    expect(rows.every((r) => r.superseded_at === null)).toBe(true);
    const [kept] = await db().selectFrom('memory_events').select(['action', 'related_memory_id', 'reason']).where('memory_id', '=', newer.id).where('action', '=', 'kept').execute();
    expect(kept).toEqual({ action: 'kept', related_memory_id: older.id, reason: 'as close as a near-duplicate to its nearest current memory, but it states other numbers' });
  });

  it('when a memory has a zero vector, then it is kept with no similarity: it is near nothing', async () => {
    const peer = (await createMemory(db(), { scope: 'team', userId: null, content: 'Returns are accepted for 30 days' })).memory;
    const blank = (await createMemory(db(), { scope: 'team', userId: null, content: '[=' })).memory;
    await embed(peer.id, unit(40, 41, 0), 'zero-model');
    await embed(blank.id, new Array<number>(1536).fill(0), 'zero-model');

    expect(await settleNearDuplicate(db(), blank.id)).toEqual({ outcome: 'kept', similarity: null });
    const events = await db().selectFrom('memory_events').select(['action', 'similarity', 'reason']).where('memory_id', '=', blank.id).where('action', '=', 'kept').execute();
    expect(events).toEqual([{ action: 'kept', similarity: null, reason: 'its vector has no direction to compare' }]);
  });

  it('when the older copy is settled first, or vectors come from another model, then the outcome is the same or nothing is merged', async () => {
    const older = (await createMemory(db(), { scope: 'team', userId: null, content: 'Meta ads pause on Sundays' })).memory;
    const newer = (await createMemory(db(), { scope: 'team', userId: null, content: 'On Sundays the Meta ads are paused' })).memory;
    const foreign = (await createMemory(db(), { scope: 'team', userId: null, content: 'Sunday: Meta ads off' })).memory;
    await embed(older.id, unit(20, 21, 0));
    await embed(newer.id, unit(20, 21, 0.1));
    await embed(foreign.id, unit(20, 21, 0.05), 'another-model');

    expect(await settleNearDuplicate(db(), older.id)).toMatchObject({ outcome: 'merged', into: older.id });
    expect(await settleNearDuplicate(db(), foreign.id)).toMatchObject({ outcome: 'kept', similarity: null });
    const row = await db().selectFrom('memories').select(['superseded_by']).where('id', '=', newer.id).executeTakeFirstOrThrow();
    expect(row.superseded_by).toBe(older.id);
  });

  it('when the near-duplicate check is planned, then it walks the HNSW index in either scope even where PostgreSQL would rather read and sort every memory (here: a small table)', async () => {
    const { user } = await createUser(db(), { email: 'cy@dealdome.test', role: 'member' });
    const rows = [
      // A team that keeps most of what it remembers in common, as the bench's memories.
      ...Array.from({ length: 100 }, (_, i) => ({ scope: 'team', user_id: null, content: `team ${i}`, vector: unit(40, 41 + i, 0.3) })),
      ...Array.from({ length: 8 }, (_, i) => ({ scope: 'user', user_id: user.id, content: `cy ${i}`, vector: unit(40, 200 + i, 0.3) })),
    ];
    const ids = await db()
      .insertInto('memories')
      // A model of their own keeps them out of the other tests' recall (they share the database).
      .values(rows.map((r) => ({ scope: r.scope, user_id: r.user_id, kind: 'fact', content: r.content, embedding: toVector(r.vector), embedding_model: 'plan-model' })))
      .returning(['id', 'scope'])
      .execute();
    const notEmbedded = (await createMemory(db(), { scope: 'team', userId: null, content: 'not embedded yet' })).memory;
    expect(await embeddedMemory(db(), notEmbedded.id)).toBeUndefined();

    // Left to its estimates, PostgreSQL scans and sorts a table this small, and did so
    // at any size when its statistics were counted before the rows had vectors (8 ms a
    // memory at 2,000, 150 ms at 20,000).
    for (const scope of ['team', 'user'] as const) {
      const key = await embeddedMemory(db(), ids.find((r) => r.scope === scope)!.id);
      const plan = await db()
        .transaction()
        .execute(async (trx) => {
          await walkToPeers.execute(trx);
          const { rows: lines } = await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${nearestPeer(key!)}`.execute(trx);
          return lines.map((r) => r['QUERY PLAN']).join('\n');
        });
      expect(plan).toContain('Index Scan using memories_embedding_hnsw on memories o');
      expect(plan).not.toContain('Sort');
    }
    const decision = await settleNearDuplicate(db(), ids[0]!.id);
    if (decision.outcome !== 'kept') throw new Error(`expected kept, got ${decision.outcome}`);
    // Its nearest is another team memory of the same model (cosine 0.91 by construction: 0.954² of the shared axis).
    expect(decision.similarity).toBeCloseTo(0.91, 2);
  });

  it("when another person's memories crowd the nearest neighbours, then the asker still gets k of their own and the team's (iterative scan, exact ranking when short)", async () => {
    const { user: ana } = await createUser(db(), { email: 'ana2@dealdome.test', role: 'member' });
    const { user: bo } = await createUser(db(), { email: 'bo2@dealdome.test', role: 'member' });
    // 300 of Bo's memories nearer the query (cosine 0.88–0.98), each its own direction; Ana's 3 further away (0.8).
    const rows = [
      ...Array.from({ length: 300 }, (_, i) => ({ scope: 'user', user_id: bo.id, content: `bo ${i}`, vector: unit(30, 31 + (i % 200), 0.2 + (i % 10) * 0.03) })),
      ...Array.from({ length: 3 }, (_, i) => ({ scope: 'user', user_id: ana.id, content: `ana ${i}`, vector: unit(30, 100 + i, 0.6) })),
    ];
    await db()
      .insertInto('memories')
      .values(rows.map((r) => ({ scope: r.scope, user_id: r.user_id, kind: 'fact', content: r.content, embedding: toVector(r.vector), embedding_model: 'test-model' })))
      .execute();

    // The planner would scan a table this small; the index path is what a real table takes, so force it.
    const recalled = await db()
      .transaction()
      .execute(async (trx) => {
        await sql`SET LOCAL enable_seqscan = off`.execute(trx);
        await sql`SET LOCAL enable_sort = off`.execute(trx);
        return recallRelevantMemories(trx, { userId: ana.id, queryVector: unit(30, 31, 0), model: 'test-model', k: 3 });
      });
    expect(recalled.map((m) => m.content).sort()).toEqual(['ana 0', 'ana 1', 'ana 2']);
    // The index walk alone, without the exact fallback: every session has iterative
    // scans on, so the filter that drops Bo's 300 nearer memories does not starve it.
    const walk = (iterative: 'session' | 'off') =>
      db()
        .transaction()
        .execute(async (trx) => {
          await sql`SET LOCAL enable_seqscan = off`.execute(trx);
          if (iterative === 'off') await sql`SET LOCAL hnsw.iterative_scan = off`.execute(trx);
          const { rows: plan } = await sql<{ 'QUERY PLAN': string }>`EXPLAIN SELECT id FROM memories ORDER BY embedding <=> ${toVector(unit(30, 31, 0))}::vector LIMIT 3`.execute(trx);
          expect(plan.map((p) => p['QUERY PLAN']).join('\n')).toContain('Index Scan');
          const { rows: found } = await sql<{ content: string }>`
            SELECT content FROM memories WHERE user_id = ${ana.id}::uuid
            ORDER BY embedding <=> ${toVector(unit(30, 31, 0))}::vector LIMIT 3`.execute(trx);
          return found.length;
        });
    const { rows: setting } = await sql<{ value: string }>`SELECT current_setting('hnsw.iterative_scan') AS value`.execute(db());
    expect(setting[0]?.value).toBe('relaxed_order');
    // Without it the walk mostly stops among Bo's memories; with it, it goes on from
    // the same walk to Ana's. The graph is built with random levels, so how many of
    // hers each finds varies from build to build (duplicates in this data can leave
    // one unreachable: that is what the exact ranking above is for).
    const [off, iterative] = [await walk('off'), await walk('session')];
    expect(iterative).toBeGreaterThan(0);
    expect(iterative).toBeGreaterThanOrEqual(off);
    expect(recalled.every((m) => m.similarity > 0.7)).toBe(true);
    // Bo gets his own, never Ana's.
    const forBo = await recallRelevantMemories(db(), { userId: bo.id, queryVector: unit(30, 31, 0), model: 'test-model', k: 5 });
    expect(forBo.every((m) => m.content.startsWith('bo '))).toBe(true);
    expect(forBo).toHaveLength(5);
  });
});
