import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Database, DB, Json } from '@dealdome/db';
import { sql } from 'kysely';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import { AppError, invalid, notFound } from './errors';
import { currency } from './values';

/**
 * Key/value settings of the platform. A value is any JSON. A secret value (an API
 * key, a webhook secret) is encrypted at rest with AES-256-GCM under a key from the
 * environment, never in the database, and the API never shows it: it reads back as
 * SECRET_MASK with `secret: true`. Only server-side code decrypts it (getSecretSetting).
 */
export const SETTING_KEY = /^[a-z][a-z0-9_.]{0,99}$/;
export const SECRET_MASK = '••••';
/** The serialized JSON of one value; settings are configuration, not storage. */
export const MAX_SETTING_BYTES = 64 * 1024;
export const DEFAULT_REPORTING_CURRENCY = 'EUR';

export const settingKey = z.string().regex(SETTING_KEY, 'expected a lower-case key such as "reporting_currency" (a-z, 0-9, "_" and ".", at most 100 characters)');
export const settingKeyParam = z.object({ key: settingKey });

export const settingInput = z.object({
  value: z
    .unknown()
    .refine((v) => v !== undefined, 'is required (any JSON value, null included)')
    .refine((v) => v === undefined || Buffer.byteLength(JSON.stringify(v)) <= MAX_SETTING_BYTES, `must be at most ${MAX_SETTING_BYTES} bytes of JSON`),
  secret: z.boolean().optional(),
});
export type SettingInput = z.infer<typeof settingInput>;

/** Settings the platform reads itself: their values are checked, and they are never secret. */
const knownSettings: Record<string, z.ZodType> = {
  reporting_currency: currency,
};

export interface Setting {
  key: string;
  /** The value, or SECRET_MASK for a secret. */
  value: unknown;
  secret: boolean;
  updatedAt: Date;
}

// ---------------------------------------------------------------- encryption

interface Envelope {
  $encrypted: { v: 1; iv: string; tag: string; data: string };
}

const envelope = z.object({
  $encrypted: z.object({ v: z.literal(1), iv: z.base64(), tag: z.base64(), data: z.base64() }),
});

const isEncrypted = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value) && '$encrypted' in value;

/** A stored secret could not be read back: altered, truncated or written under another key. */
export class SettingDecryptionError extends AppError {
  constructor(readonly key: string) {
    super(
      500,
      'setting_unreadable',
      `The secret setting "${key}" could not be decrypted: it was altered, or encrypted with another SETTINGS_ENCRYPTION_KEY. Set it again.`,
    );
    this.name = 'SettingDecryptionError';
  }
}

/**
 * The keys secrets are sealed under. `current` seals; `previous` — keys being rotated
 * out (SETTINGS_ENCRYPTION_KEY_PREVIOUS) — still open what they sealed until
 * `pnpm dealdome secrets:reencrypt` has moved every secret to the current key. A lone
 * key is a keyring without previous keys.
 */
export type EncryptionKeys = Buffer | { current: Buffer; previous: readonly Buffer[] };

const currentKey = (keys: EncryptionKeys): Buffer => (Buffer.isBuffer(keys) ? keys : keys.current);
const allKeys = (keys: EncryptionKeys): Buffer[] => (Buffer.isBuffer(keys) ? [keys] : [keys.current, ...keys.previous]);

function checkKey(encryptionKey: Buffer): void {
  if (encryptionKey.length !== 32) throw new Error('the settings encryption key must be 32 bytes (AES-256)');
}

/** The setting's key is authenticated data: a ciphertext copied onto another key does not decrypt. Sealed under the current key. */
export function encryptSettingValue(key: string, value: unknown, keys: EncryptionKeys): Envelope {
  const encryptionKey = currentKey(keys);
  checkKey(encryptionKey);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
  cipher.setAAD(Buffer.from(key, 'utf8'));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return { $encrypted: { v: 1, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') } };
}

/**
 * Opens a sealed value with the first key of the keyring that authenticates it, and
 * says whether that was the current key. GCM's tag makes a wrong key fail, never
 * yield garbage.
 */
export function openSettingValue(key: string, stored: unknown, keys: EncryptionKeys): { value: unknown; underCurrentKey: boolean } {
  const parsed = envelope.safeParse(stored);
  if (!parsed.success) throw new SettingDecryptionError(key);
  const { iv, tag, data } = parsed.data.$encrypted;
  const ivBytes = Buffer.from(iv, 'base64');
  const tagBytes = Buffer.from(tag, 'base64');
  if (ivBytes.length !== 12 || tagBytes.length !== 16) throw new SettingDecryptionError(key);
  const candidates = allKeys(keys);
  for (const [i, encryptionKey] of candidates.entries()) {
    checkKey(encryptionKey);
    try {
      const decipher = createDecipheriv('aes-256-gcm', encryptionKey, ivBytes, { authTagLength: 16 });
      decipher.setAAD(Buffer.from(key, 'utf8'));
      decipher.setAuthTag(tagBytes);
      const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
      return { value: JSON.parse(plain) as unknown, underCurrentKey: i === 0 };
    } catch {
      // Not this key: the next one may have sealed it.
    }
  }
  throw new SettingDecryptionError(key);
}

export function decryptSettingValue(key: string, stored: unknown, keys: EncryptionKeys): unknown {
  return openSettingValue(key, stored, keys).value;
}

// ---------------------------------------------------------------- the API's view (never decrypts)

type Row = { key: string; value: unknown; updated_at: Date };

const present = (r: Row): Setting => {
  const secret = isEncrypted(r.value);
  return { key: r.key, value: secret ? SECRET_MASK : r.value, secret, updatedAt: r.updated_at };
};

export async function listSettings(db: Database): Promise<{ data: Setting[] }> {
  const rows = await db.selectFrom('settings').select(['key', 'value', 'updated_at']).orderBy('key').execute();
  return { data: rows.map(present) };
}

export async function getSettingEntry(db: Database, key: string): Promise<Setting> {
  const row = await db.selectFrom('settings').select(['key', 'value', 'updated_at']).where('key', '=', key).executeTakeFirst();
  if (!row) throw notFound('the setting');
  return present(row);
}

/**
 * Creates or replaces a setting. `secret` omitted keeps the setting as secret as it
 * was (a new one is not secret), so rotating a secret never stores it in plain text
 * by accident; `secret: false` makes it plain on purpose.
 */
export async function putSetting(db: Database, key: string, input: SettingInput, encryptionKey: EncryptionKeys): Promise<Setting> {
  const known = knownSettings[key];
  if (known) {
    if (input.secret === true) throw invalid({ secret: [`"${key}" is read by the platform and cannot be secret`] });
    const check = known.safeParse(input.value);
    if (!check.success) throw invalid({ value: check.error.issues.map((i) => i.message) });
  }
  // A plain value shaped like a sealed one would read back as a secret that never decrypts.
  if (isEncrypted(input.value)) throw invalid({ value: ['must not be an object with a "$encrypted" member'] });

  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('settings').select('value').where('key', '=', key).forUpdate().executeTakeFirst();
    const secret = input.secret ?? (current !== undefined && isEncrypted(current.value));
    const stored = secret ? encryptSettingValue(key, input.value, encryptionKey) : input.value;
    // Serialized here: pg would write a JS array as a PostgreSQL array and null as SQL NULL.
    const json = sql<Json>`${JSON.stringify(stored)}::jsonb`;
    const row = await trx
      .insertInto('settings')
      .values({ key, value: json, updated_at: new Date() })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: json, updated_at: new Date() }))
      .returning(['key', 'value', 'updated_at'])
      .executeTakeFirstOrThrow();
    return present(row);
  });
}

export async function deleteSetting(db: Database, key: string): Promise<void> {
  const result = await db.deleteFrom('settings').where('key', '=', key).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('the setting');
}

// ---------------------------------------------------------------- server-side reads (decrypt)

/**
 * A setting's value for server-side use, or undefined when it is not set. A secret
 * is decrypted with `encryptionKey`; without one, reading a secret is an error.
 */
export async function getSetting(db: Database, key: string, encryptionKey?: EncryptionKeys): Promise<unknown> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  if (!row) return undefined;
  if (!isEncrypted(row.value)) return row.value;
  if (!encryptionKey) throw new Error(`the setting "${key}" is secret: read it with getSecretSetting and the encryption key`);
  return decryptSettingValue(key, row.value, encryptionKey);
}

/** A secret setting decrypted (or undefined when not set); throws SettingDecryptionError when it cannot be read. */
export async function getSecretSetting(db: Database, name: string, encryptionKey: EncryptionKeys): Promise<unknown> {
  return getSetting(db, name, encryptionKey);
}

/** The currency all-store figures are reported in (`reporting_currency`, default EUR). */
export async function getReportingCurrency(db: Database): Promise<string> {
  const value = await getSetting(db, 'reporting_currency');
  if (value === undefined) return DEFAULT_REPORTING_CURRENCY;
  const check = currency.safeParse(value);
  if (!check.success) {
    throw new AppError(500, 'setting_invalid', 'The setting "reporting_currency" is not an ISO 4217 currency; set it again with PUT /v1/settings/reporting_currency.');
  }
  return check.data;
}

/** Secret settings re-sealed under the current key, inside the caller's transaction; see reencryptSecrets. */
export async function resealSettings(trx: Transaction<DB>, keys: EncryptionKeys): Promise<ResealCount> {
  const rows = await trx.selectFrom('settings').select(['key', 'value']).where(sql<boolean>`value ? '$encrypted'`).orderBy('key').forUpdate().execute();
  const count: ResealCount = { resealed: 0, current: 0, unreadable: [] };
  for (const row of rows) {
    let opened: { value: unknown; underCurrentKey: boolean };
    try {
      opened = openSettingValue(row.key, row.value, keys);
    } catch (err) {
      if (!(err instanceof SettingDecryptionError)) throw err;
      count.unreadable.push(`setting "${row.key}"`);
      continue;
    }
    if (opened.underCurrentKey) {
      count.current += 1;
      continue;
    }
    const json = sql<Json>`${JSON.stringify(encryptSettingValue(row.key, opened.value, keys))}::jsonb`;
    // updated_at is left alone: the value did not change, only the key it is sealed under.
    await trx.updateTable('settings').set({ value: json }).where('key', '=', row.key).execute();
    count.resealed += 1;
  }
  return count;
}

/** What re-sealing found: moved to the current key, already under it, and what no key of the keyring opens. */
export interface ResealCount {
  resealed: number;
  current: number;
  unreadable: string[];
}
