import { describeServiceProcess } from '@dealdome/testkit';

describeServiceProcess('finance-api', 'FINANCE_API_PORT', {
  JWT_SECRET: 'process-test-secret-that-is-long-enough-0123456789',
  SETTINGS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
});
