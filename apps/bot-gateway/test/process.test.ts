import { describeServiceProcess } from '@dealdome/testkit';

describeServiceProcess('bot-gateway', 'BOT_GATEWAY_PORT');
