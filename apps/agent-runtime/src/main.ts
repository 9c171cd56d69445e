import './instrument';
import { runMain } from '@dealdome/config';
import { envSchema } from './env';
import { startAgentRuntime } from './service';

runMain({ service: 'agent-runtime', schema: envSchema, start: startAgentRuntime });
