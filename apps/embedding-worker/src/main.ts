import './instrument';
import { runMain } from '@dealdome/config';
import { envSchema } from './env';
import { startEmbeddingWorker } from './service';

runMain({ service: 'embedding-worker', schema: envSchema, start: startEmbeddingWorker });
