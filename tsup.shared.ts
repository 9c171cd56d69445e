import { cpSync } from 'node:fs';
import path from 'node:path';
import type { Options } from 'tsup';

/**
 * Each service ships as one CommonJS file run by plain `node` (PID 1 in the image).
 * Workspace packages are bundled from source; npm dependencies stay external and
 * come from node_modules. Run from the app's folder (turbo does). The SQL migrations are copied beside the bundle because
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
  noExternal: [/^@dealdome\//],
  onSuccess: async () => {
    cpSync(path.resolve('../../packages/db/migrations'), path.resolve('dist/migrations'), { recursive: true });
  },
};
