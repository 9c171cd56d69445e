import { useTestDatabase } from '@dealdome/db/testing';
import { createMemory } from '../src/memories';
import { recallMemories } from '../src/turns';
import { createUser } from '../src/users';

describe('recallMemories', () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;

  it("when a person recalls, then team memories and their own come back, matches first, and never another person's", async () => {
    const ana = (await createUser(db(), { email: 'ana@dealdome.test', role: 'member' })).user;
    const bo = (await createUser(db(), { email: 'bo@dealdome.test', role: 'member' })).user;
    await createMemory(db(), { scope: 'team', userId: null, content: 'We ship from the Rotterdam warehouse' });
    await createMemory(db(), { scope: 'team', userId: null, content: 'Black Friday budget is 5000 EUR' });
    await createMemory(db(), { scope: 'user', userId: ana.id, kind: 'preference', content: 'Ana wants numbers in EUR' });
    await createMemory(db(), { scope: 'user', userId: bo.id, kind: 'preference', content: 'Bo ships his private parcels from Rotterdam' });

    const recalled = await recallMemories(db(), { userId: ana.id, query: 'where do we ship from?', limit: 10 });
    expect(recalled.map((m) => m.content)).toHaveLength(3);
    expect(recalled[0]).toMatchObject({ content: 'We ship from the Rotterdam warehouse', scope: 'team', matched: true });
    expect(recalled.some((m) => m.content.startsWith('Bo '))).toBe(false);
    expect(recalled.filter((m) => m.matched)).toHaveLength(1);

    // Without a person only the team's memories are visible.
    const team = await recallMemories(db(), { userId: null, limit: 10 });
    expect(team.every((m) => m.scope === 'team')).toBe(true);
    expect(team).toHaveLength(2);
  });
});
