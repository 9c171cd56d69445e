import { describeServiceProcess } from '@dealdome/testkit';

describeServiceProcess('finance-api', 'FINANCE_API_PORT', { JWT_SECRET: 'process-test-secret-that-is-long-enough-0123456789' });
