import { describeServiceProcess } from '@dealdome/testkit';

describeServiceProcess('finance-api', 'FINANCE_API_PORT');
