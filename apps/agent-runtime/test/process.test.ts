import { describeServiceProcess } from '@dealdome/testkit';

describeServiceProcess('agent-runtime', 'AGENT_RUNTIME_PORT');
