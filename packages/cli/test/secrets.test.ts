import { connectShopifyStore, createStore, getSecretSetting, putSetting, SettingDecryptionError, shopifyConnection } from '@dealdome/domain';
import { useTestDatabase } from '@dealdome/testkit';
import { buildProgram } from '../src/main';

const OLD = Buffer.alloc(32, 1);
const NEW = Buffer.alloc(32, 2);
const OTHER = Buffer.alloc(32, 7);

describe('pnpm dealdome secrets:reencrypt', () => {
  const database = useTestDatabase();
  const saved = { ...process.env };

  afterEach(() => {
    process.env = { ...saved };
  });

  async function run(env: Record<string, string>, ...args: string[]): Promise<string[]> {
    Object.assign(process.env, { DATABASE_URL: database.url, SETTINGS_ENCRYPTION_KEY_PREVIOUS: '', ...env });
    const lines: string[] = [];
    await buildProgram((line) => lines.push(line)).exitOverride().parseAsync(['node', 'dealdome', ...args]);
    return lines;
  }

  it('when the key is rotated, then old secrets open under the keyring, the command moves them to the new key and a second run changes nothing', async () => {
    const { db } = database.handle;
    await putSetting(db, 'mail.password', { value: 'hunter2', secret: true }, OLD);
    await putSetting(db, 'plain.note', { value: 'not secret' }, OLD);
    const store = await createStore(db, { name: 'Rotating shop', shopDomain: 'rotating.myshopify.com', currency: 'EUR', timezone: 'UTC' });
    await connectShopifyStore(db, store.id, { accessToken: 'shpat_rotating' }, OLD);
    const before = await db.selectFrom('settings').select('value').where('key', '=', 'mail.password').executeTakeFirstOrThrow();

    // Step 1: the services get the new key and keep the old one as previous: everything still reads.
    const keyring = { current: NEW, previous: [OLD] };
    expect(await getSecretSetting(db, 'mail.password', keyring)).toBe('hunter2');
    expect((await shopifyConnection(db, store.id, keyring)).accessToken).toBe('shpat_rotating');

    // Step 2: the command re-seals.
    const env = { SETTINGS_ENCRYPTION_KEY: NEW.toString('base64'), SETTINGS_ENCRYPTION_KEY_PREVIOUS: OLD.toString('hex') };
    expect(await run(env, 'secrets:reencrypt')).toEqual([
      'secret settings: 1 re-encrypted, 0 already under the current key',
      'Shopify access tokens: 1 re-encrypted, 0 already under the current key',
      'SETTINGS_ENCRYPTION_KEY_PREVIOUS can now be removed from every service',
    ]);

    // Step 3: the old key can go — the new one alone opens everything, the old one nothing.
    expect(await getSecretSetting(db, 'mail.password', NEW)).toBe('hunter2');
    expect((await shopifyConnection(db, store.id, NEW)).accessToken).toBe('shpat_rotating');
    await expect(getSecretSetting(db, 'mail.password', OLD)).rejects.toThrow(SettingDecryptionError);
    const after = await db.selectFrom('settings').select(['key', 'value']).orderBy('key').execute();
    expect(after.find((r) => r.key === 'mail.password')!.value).not.toEqual(before.value);
    expect(after.find((r) => r.key === 'plain.note')!.value).toBe('not secret');

    expect(await run(env, 'secrets:reencrypt')).toEqual([
      'secret settings: 0 re-encrypted, 1 already under the current key',
      'Shopify access tokens: 0 re-encrypted, 1 already under the current key',
      'SETTINGS_ENCRYPTION_KEY_PREVIOUS can now be removed from every service',
    ]);
  });

  it('when a secret opens under no key of the keyring, then nothing is re-encrypted and the error names it', async () => {
    const { db } = database.handle;
    await putSetting(db, 'rotate.a', { value: 'a', secret: true }, OLD);
    await putSetting(db, 'rotate.b', { value: 'b', secret: true }, OTHER);
    const before = await db.selectFrom('settings').select(['key', 'value']).where('key', 'in', ['rotate.a', 'rotate.b']).orderBy('key').execute();

    const env = { SETTINGS_ENCRYPTION_KEY: NEW.toString('base64'), SETTINGS_ENCRYPTION_KEY_PREVIOUS: OLD.toString('base64') };
    await expect(run(env, 'secrets:reencrypt')).rejects.toThrow(/nothing was re-encrypted: .*setting "rotate\.b"/);

    const after = await db.selectFrom('settings').select(['key', 'value']).where('key', 'in', ['rotate.a', 'rotate.b']).orderBy('key').execute();
    expect(after).toEqual(before);
    expect(await getSecretSetting(db, 'rotate.a', { current: NEW, previous: [OLD] })).toBe('a');
  });

  it('when a previous key is malformed, then the command refuses to start and says which one', async () => {
    const env = { SETTINGS_ENCRYPTION_KEY: NEW.toString('base64'), SETTINGS_ENCRYPTION_KEY_PREVIOUS: `${OLD.toString('base64')},short` };
    await expect(run(env, 'secrets:reencrypt')).rejects.toThrow(/SETTINGS_ENCRYPTION_KEY_PREVIOUS.*key 2 must decode to exactly 32 bytes/s);
  });
});
