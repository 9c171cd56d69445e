import './instrument';
import { runMain } from '@dealdome/config';
import { envSchema } from './env';
import { startFinanceApi } from './service';

runMain({ service: 'finance-api', schema: envSchema, start: startFinanceApi });
