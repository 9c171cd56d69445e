import { useTestDatabase } from '@dealdome/db/testing';
import { AppError, MAX_TRANSCRIPT_CHARACTERS, storeVideo } from '../src';

describe('storeVideo', () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;
  const count = async () => (await db().selectFrom('videos').select('id').execute()).length;
  const record = { title: 'Supplier call', url: null, source: 'telegram' as const, format: 'txt' as const, createdBy: null };

  it('when a transcript is longer than the cap, then it is refused on `transcript` and nothing is stored, whichever way it came', async () => {
    const before = await count();
    const refusal = await storeVideo(db(), { ...record, transcript: 'x'.repeat(MAX_TRANSCRIPT_CHARACTERS + 1) }).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ status: 400, fieldErrors: { transcript: [`is longer than ${MAX_TRANSCRIPT_CHARACTERS} characters`] } });
    expect(await count()).toBe(before);

    const id = await storeVideo(db(), { ...record, transcript: 'x'.repeat(MAX_TRANSCRIPT_CHARACTERS) });
    expect(await db().selectFrom('videos').select(['status', 'source']).where('id', '=', id).executeTakeFirstOrThrow()).toEqual({ status: 'pending', source: 'telegram' });
  });

  it('when the same id is stored twice, then the second call adds nothing and returns the id', async () => {
    const id = '0191f3c4-8a6b-8000-8000-000000000001';
    expect(await storeVideo(db(), { ...record, id, transcript: 'First.' })).toBe(id);
    expect(await storeVideo(db(), { ...record, id, transcript: 'Second.' })).toBe(id);
    expect(await db().selectFrom('videos').select('transcript').where('id', '=', id).execute()).toEqual([{ transcript: 'First.' }]);
  });
});
