import './instrument';
import { runMain } from '@dealdome/config';
import { envSchema } from './env';
import { startBotGateway } from './service';

runMain({ service: 'bot-gateway', schema: envSchema, start: startBotGateway });
