import { baseEnvSchema, EnvError, envPort, parseEnv } from '../src';

const schema = baseEnvSchema.extend({ SOME_PORT: envPort(9400) });
const valid = { DATABASE_URL: 'postgres://u:secret@db:5432/dealdome', REDIS_URL: 'redis://cache:6379' };

describe('parseEnv', () => {
  it('when the environment is valid, then defaults fill the rest', () => {
    const env = parseEnv('svc', schema, valid);
    expect(env).toMatchObject({ SOME_PORT: 9400, LOG_LEVEL: 'info', QUEUE_PREFIX: 'dealdome', MIGRATE_ON_START: true });
  });

  it('when several variables are missing or malformed, then one error lists every problem without echoing values', () => {
    let error: unknown;
    try {
      parseEnv('svc', schema, { DATABASE_URL: 'mysql://u:hunter2@x/y', SOME_PORT: '70000', LOG_LEVEL: 'loud', MIGRATE_ON_START: 'maybe' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    const { problems, message } = error as EnvError;
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'SOME_PORT', 'LOG_LEVEL', 'MIGRATE_ON_START']),
    );
    expect(problems).toHaveLength(5);
    expect(message).toContain('svc: the environment is not valid (5 problems)');
    expect(message).not.toContain('hunter2');
  });

  it('when a variable is set but empty, then its default applies', () => {
    expect(parseEnv('svc', schema, { ...valid, SOME_PORT: '', LOG_LEVEL: '' }).SOME_PORT).toBe(9400);
  });
});
