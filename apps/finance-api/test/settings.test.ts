import {
  decryptSettingValue,
  encryptSettingValue,
  getReportingCurrency,
  getSecretSetting,
  getSetting,
  SECRET_MASK,
  SettingDecryptionError,
} from '@dealdome/domain';
import { sql } from 'kysely';
import { SETTINGS_KEY, useFinanceApi } from './harness';

const encryptionKey = Buffer.from(SETTINGS_KEY, 'base64');
const PLAINTEXT = 'shpat_super-secret-token-0123456789';

describe('finance-api settings', () => {
  const api = useFinanceApi();
  let admin: { accessToken: string };
  let member: { accessToken: string };
  let viewer: { accessToken: string };

  beforeAll(async () => {
    admin = await api.userWithToken('admin');
    member = await api.userWithToken('member');
    viewer = await api.userWithToken('viewer');
  });

  beforeEach(async () => {
    await api.db.deleteFrom('settings').execute();
  });

  const put = (key: string, body: unknown, token = admin.accessToken) => api.request('PUT', `/v1/settings/${key}`, { token, body });
  const storedValue = async (key: string) => (await api.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow()).value;

  it('when an admin puts plain settings of any JSON type, then they read back as given, listed by key', async () => {
    const values: [string, unknown][] = [
      ['ui.theme', 'dark'],
      ['alerts.thresholds', [1, 2.5, 'x', null]],
      ['feature.flags', { beta: true, nested: { depth: 2 } }],
      ['nothing', null],
      ['count', 42],
    ];
    for (const [key, value] of values) {
      const res = await put(key, { value });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ key, value, secret: false, updatedAt: expect.any(String) });
      expect(await storedValue(key)).toEqual(value);
    }
    const one = await api.request('GET', '/v1/settings/alerts.thresholds', { token: admin.accessToken });
    expect(one.body).toMatchObject({ key: 'alerts.thresholds', value: [1, 2.5, 'x', null], secret: false });
    const list = await api.request('GET', '/v1/settings', { token: admin.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.data.map((s: { key: string }) => s.key)).toEqual(['alerts.thresholds', 'count', 'feature.flags', 'nothing', 'ui.theme']);

    const replaced = await put('ui.theme', { value: 'light' });
    expect(replaced.body.value).toBe('light');
    expect(await getSetting(api.db, 'ui.theme')).toBe('light');
    expect(await getSetting(api.db, 'never.set')).toBeUndefined();
  });

  it('when a secret is put, then the stored row holds only AES-GCM ciphertext, the API masks it, and the server decrypts it', async () => {
    const res = await put('shopify.token', { value: PLAINTEXT, secret: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ key: 'shopify.token', value: SECRET_MASK, secret: true, updatedAt: expect.any(String) });

    const stored = await storedValue('shopify.token');
    expect(JSON.stringify(stored)).not.toContain(PLAINTEXT);
    expect(JSON.stringify(stored)).not.toContain(Buffer.from(PLAINTEXT).toString('base64').slice(0, 12));
    expect(stored).toEqual({ $encrypted: { v: 1, iv: expect.any(String), tag: expect.any(String), data: expect.any(String) } });
    const envelope = (stored as { $encrypted: { iv: string; tag: string } }).$encrypted;
    expect(Buffer.from(envelope.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(envelope.tag, 'base64')).toHaveLength(16);
    const { rows } = await sql<{ text: string }>`SELECT value::text AS text FROM settings`.execute(api.db);
    expect(rows.map((r) => r.text).join('')).not.toContain('super-secret');

    for (const path of ['/v1/settings', '/v1/settings/shopify.token']) {
      const read = await api.request('GET', path, { token: admin.accessToken });
      expect(JSON.stringify(read.body)).not.toContain(PLAINTEXT);
    }
    const one = await api.request('GET', '/v1/settings/shopify.token', { token: admin.accessToken });
    expect(one.body).toMatchObject({ value: SECRET_MASK, secret: true });

    expect(await getSecretSetting(api.db, 'shopify.token', encryptionKey)).toBe(PLAINTEXT);
    expect(await getSetting(api.db, 'shopify.token', encryptionKey)).toBe(PLAINTEXT);
    await expect(getSetting(api.db, 'shopify.token')).rejects.toThrow(/is secret/);
  });

  it('when the same secret is written twice, then each write has its own IV and ciphertext', async () => {
    await put('webhook.secret', { value: PLAINTEXT, secret: true });
    const first = (await storedValue('webhook.secret')) as { $encrypted: { iv: string; data: string } };
    await put('webhook.secret', { value: PLAINTEXT, secret: true });
    const second = (await storedValue('webhook.secret')) as { $encrypted: { iv: string; data: string } };
    expect(second.$encrypted.iv).not.toBe(first.$encrypted.iv);
    expect(second.$encrypted.data).not.toBe(first.$encrypted.data);
  });

  it('when a secret is rotated without saying `secret`, then it stays encrypted; `secret: false` makes it plain on purpose', async () => {
    await put('mail.password', { value: 'first', secret: true });
    const rotated = await put('mail.password', { value: 'second' });
    expect(rotated.body).toMatchObject({ value: SECRET_MASK, secret: true });
    expect(JSON.stringify(await storedValue('mail.password'))).not.toContain('second');
    expect(await getSecretSetting(api.db, 'mail.password', encryptionKey)).toBe('second');

    const plain = await put('mail.password', { value: 'now-public', secret: false });
    expect(plain.body).toMatchObject({ value: 'now-public', secret: false });
    expect(await storedValue('mail.password')).toBe('now-public');
  });

  it('when the ciphertext is tampered with, moved to another key or read with another key, then decryption fails with a clear error, not a crash', async () => {
    await put('api.key', { value: PLAINTEXT, secret: true });
    const stored = (await storedValue('api.key')) as { $encrypted: { v: number; iv: string; tag: string; data: string } };
    const data = Buffer.from(stored.$encrypted.data, 'base64');
    data[0] = data[0]! ^ 0x01;
    const tampered = { $encrypted: { ...stored.$encrypted, data: data.toString('base64') } };
    await api.db.updateTable('settings').set({ value: tampered }).where('key', '=', 'api.key').execute();

    const failure = getSecretSetting(api.db, 'api.key', encryptionKey);
    await expect(failure).rejects.toBeInstanceOf(SettingDecryptionError);
    await expect(getSecretSetting(api.db, 'api.key', encryptionKey)).rejects.toThrow(
      'The secret setting "api.key" could not be decrypted: it was altered, or encrypted with another SETTINGS_ENCRYPTION_KEY. Set it again.',
    );
    // The API never decrypts, so it still answers (masked) instead of failing.
    const read = await api.request('GET', '/v1/settings/api.key', { token: admin.accessToken });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ value: SECRET_MASK, secret: true });

    // Sealed for one key, it does not open under another setting's name (the name is authenticated).
    const sealed = encryptSettingValue('api.key', PLAINTEXT, encryptionKey);
    expect(decryptSettingValue('api.key', sealed, encryptionKey)).toBe(PLAINTEXT);
    expect(() => decryptSettingValue('other.key', sealed, encryptionKey)).toThrow(SettingDecryptionError);
    expect(() => decryptSettingValue('api.key', sealed, Buffer.alloc(32, 9))).toThrow(SettingDecryptionError);
    for (const broken of [
      { $encrypted: { ...sealed.$encrypted, tag: Buffer.alloc(16).toString('base64') } },
      { $encrypted: { ...sealed.$encrypted, iv: Buffer.alloc(8).toString('base64') } },
      { $encrypted: { ...sealed.$encrypted, tag: sealed.$encrypted.tag.slice(0, 8) } },
      { $encrypted: { ...sealed.$encrypted, data: '!!not base64!!' } },
      { $encrypted: { ...sealed.$encrypted, v: 2 } },
      { $encrypted: 'garbage' },
    ]) {
      expect(() => decryptSettingValue('api.key', broken, encryptionKey)).toThrow(SettingDecryptionError);
    }
  });

  it('when reporting_currency is set, then it must be an ISO 4217 code, cannot be secret, and drives getReportingCurrency', async () => {
    expect(await getReportingCurrency(api.db)).toBe('EUR');
    for (const value of ['XYZ', 'usd', 'EURO', 42, null, { code: 'USD' }, "USD'; DROP TABLE settings; --"]) {
      const res = await put('reporting_currency', { value });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.errors)).toEqual(['value']);
    }
    const secret = await put('reporting_currency', { value: 'USD', secret: true });
    expect(secret.status).toBe(400);
    expect(Object.keys(secret.body.errors)).toEqual(['secret']);

    const ok = await put('reporting_currency', { value: 'GBP' });
    expect(ok.status).toBe(200);
    expect(await getReportingCurrency(api.db)).toBe('GBP');
    expect((await api.request('DELETE', '/v1/settings/reporting_currency', { token: admin.accessToken })).status).toBe(204);
    expect(await getReportingCurrency(api.db)).toBe('EUR');
  });

  it('when a member or viewer uses any settings route, then 403; without a token, 401; nothing changes', async () => {
    await put('ui.theme', { value: 'dark' });
    for (const user of [member, viewer]) {
      expect((await api.request('GET', '/v1/settings', { token: user.accessToken })).status).toBe(403);
      expect((await api.request('GET', '/v1/settings/ui.theme', { token: user.accessToken })).status).toBe(403);
      expect((await put('ui.theme', { value: 'light' }, user.accessToken)).status).toBe(403);
      expect((await api.request('DELETE', '/v1/settings/ui.theme', { token: user.accessToken })).status).toBe(403);
    }
    expect((await api.request('GET', '/v1/settings')).status).toBe(401);
    expect(await getSetting(api.db, 'ui.theme')).toBe('dark');
  });

  it('when a setting does not exist or was deleted, then GET and DELETE answer 404', async () => {
    expect((await api.request('GET', '/v1/settings/never.set', { token: admin.accessToken })).status).toBe(404);
    await put('temp', { value: 1 });
    expect((await api.request('DELETE', '/v1/settings/temp', { token: admin.accessToken })).status).toBe(204);
    const gone = await api.request('GET', '/v1/settings/temp', { token: admin.accessToken });
    expect(gone.status).toBe(404);
    expect(gone.body.detail).toBe('the setting was not found.');
    expect((await api.request('DELETE', '/v1/settings/temp', { token: admin.accessToken })).status).toBe(404);
  });

  it('when the key or body is wrong, then 400 names the field and nothing is stored', async () => {
    const badKeys = ['Upper', '1starts.with.digit', '_leading', 'has-dash', 'a'.repeat(101), encodeURIComponent('sp ace'), encodeURIComponent("x'; DROP TABLE settings; --")];
    for (const key of badKeys) {
      const res = await put(key, { value: 1 });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.errors)).toEqual(['key']);
      expect((await api.request('GET', `/v1/settings/${key}`, { token: admin.accessToken })).status).toBe(400);
      expect((await api.request('DELETE', `/v1/settings/${key}`, { token: admin.accessToken })).status).toBe(400);
    }
    expect((await put('a'.repeat(100), { value: 1 })).status).toBe(200);
    await api.db.deleteFrom('settings').execute();

    const noValue = await put('ok.key', { secret: true });
    expect(noValue.status).toBe(400);
    expect(Object.keys(noValue.body.errors)).toEqual(['value']);
    const badSecret = await put('ok.key', { value: 1, secret: 'yes' });
    expect(Object.keys(badSecret.body.errors)).toEqual(['secret']);
    const tooBig = await put('ok.key', { value: 'x'.repeat(70_000) });
    expect(tooBig.status).toBe(400);
    expect(Object.keys(tooBig.body.errors)).toEqual(['value']);
    const lookalike = await put('ok.key', { value: { $encrypted: { v: 1, iv: 'a', tag: 'b', data: 'c' } } });
    expect(lookalike.status).toBe(400);
    expect(Object.keys(lookalike.body.errors)).toEqual(['value']);
    expect(await api.db.selectFrom('settings').selectAll().execute()).toEqual([]);
  });

  it('when the input is hostile or huge, then the answer is a 4xx, never a 5xx, and SQL-looking values are stored as plain data', async () => {
    const attempts: [string, unknown, string?][] = [
      ['/v1/settings/big', { value: 'x'.repeat(900_000) }],
      ['/v1/settings/big', { value: 'x'.repeat(2_000_000) }],
      ['/v1/settings/arr', ['value']],
      ['/v1/settings/raw', undefined, '{"value": '],
      [`/v1/settings/${'a'.repeat(5000)}`, { value: 1 }],
    ];
    for (const [path, body, raw] of attempts) {
      const res = await api.request('PUT', path, { token: admin.accessToken, ...(raw !== undefined ? { raw } : { body }) });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    const sqlValue = "1; DROP TABLE settings; --";
    const stored = await put('notes.sql', { value: sqlValue, secret: true });
    expect(stored.status).toBe(200);
    expect(await getSecretSetting(api.db, 'notes.sql', encryptionKey)).toBe(sqlValue);
    const plain = await put('notes.plain', { value: { "'; DROP TABLE x; --": sqlValue } });
    expect(plain.body.value).toEqual({ "'; DROP TABLE x; --": sqlValue });
  });
});
