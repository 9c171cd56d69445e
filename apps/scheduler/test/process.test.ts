import { describeServiceProcess } from '@dealdome/testkit';

describeServiceProcess('scheduler', 'SCHEDULER_PORT');
