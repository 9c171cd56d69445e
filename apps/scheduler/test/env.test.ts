import { EnvError, parseEnv } from '@dealdome/config';
import { envSchema } from '../src/env';

const required = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/dealdome',
  REDIS_URL: 'redis://127.0.0.1:6379',
  SETTINGS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

describe('the scheduler environment', () => {
  it('when only the required variables are set, then the clock, concurrency and retention take their defaults', () => {
    expect(parseEnv('scheduler', envSchema, required)).toMatchObject({
      SCHEDULER_TICK_MS: 1000,
      SCHEDULER_CONCURRENCY: 4,
      HOUSEKEEPING_CRON: '17 3 * * *',
      TELEGRAM_UPDATES_RETENTION_DAYS: 30,
      SEARCH_METRICS_RETENTION_DAYS: 90,
      SHOPIFY_SYNC_CONCURRENCY: 2,
      SHOPIFY_ALERT_AFTER_FAILURES: 3,
    });
  });

  it('when the housekeeping cron and a retention are wrong, then start-up is refused naming both', () => {
    let error: unknown;
    try {
      parseEnv('scheduler', envSchema, { ...required, HOUSEKEEPING_CRON: '17 3 * *', SEARCH_METRICS_RETENTION_DAYS: '0' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    const problems = (error as EnvError).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^HOUSEKEEPING_CRON: "17 3 \* \*" is not a cron expression DealDome can run: it has 4 fields/);
    expect(problems[1]).toMatch(/^SEARCH_METRICS_RETENTION_DAYS: /);
  });
});
