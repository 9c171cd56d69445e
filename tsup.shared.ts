import { cpSync } from 'node:fs';
import path from 'node:path';
import type { Options } from 'tsup';

/**
 * Each service ships as one CommonJS file run by plain `node` (PID 1 in the image):
 * workspace packages and npm dependencies are all bundled, so the image needs no
 * node_modules. Only optional native add-ons stay out (pg-native is never used). Run from the app's folder (turbo does). The SQL migrations are copied beside the bundle because
 * every service can migrate at start.
 */
export const serviceBundle: Options = {
  entry: { main: 'src/main.ts', migrate: '../../packages/db/src/migrate-main.ts' },
  format: ['cjs'],
  platform: 'node',
  target: 'node20',
  outDir: 'dist',
  clean: true,
  sourcemap: true,
  noExternal: [/.*/],
  external: ['pg-native'],
  onSuccess: async () => {
    cpSync(path.resolve('../../packages/db/migrations'), path.resolve('dist/migrations'), { recursive: true });
  },
};
