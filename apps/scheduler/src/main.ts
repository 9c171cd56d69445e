import './instrument';
import { runMain } from '@dealdome/config';
import { envSchema } from './env';
import { startScheduler } from './service';

runMain({ service: 'scheduler', schema: envSchema, start: startScheduler });
