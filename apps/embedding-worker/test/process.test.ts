import { describeServiceProcess } from '@dealdome/testkit';

describeServiceProcess('embedding-worker', 'EMBEDDING_WORKER_PORT');
