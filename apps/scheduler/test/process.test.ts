import { describeServiceProcess } from '@dealdome/testkit';

describeServiceProcess('scheduler', 'SCHEDULER_PORT', {
  SETTINGS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
});
