// The first module main.ts imports: tracing and error reporting start before pg, ioredis,
// express and http are loaded, so that their instrumentations can patch them.
import { startObservability } from '@dealdome/config/observability';

startObservability('embedding-worker');
