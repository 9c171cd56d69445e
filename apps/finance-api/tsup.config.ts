import { cpSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defineConfig } from 'tsup';
import { serviceBundle } from '../../tsup.shared';

/** The /docs renderer's files, copied beside the bundle: the image has no node_modules (see src/http/docs.ts). */
const RENDERER_FILES = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'];

const packageDirectory = (name: string) => path.dirname(createRequire(path.resolve('package.json')).resolve(`${name}/package.json`));

export default defineConfig({
  ...serviceBundle,
  onSuccess: async () => {
    if (typeof serviceBundle.onSuccess === 'function') await serviceBundle.onSuccess();
    const from = packageDirectory('swagger-ui-dist');
    mkdirSync(path.resolve('dist/swagger-ui'), { recursive: true });
    for (const file of RENDERER_FILES) cpSync(path.join(from, file), path.resolve('dist/swagger-ui', file));
    // The queue board's page template and static files, for the same reason (see src/http/admin-queues.ts).
    cpSync(path.join(packageDirectory('@bull-board/ui'), 'dist'), path.resolve('dist/bull-board-ui/dist'), { recursive: true });
  },
});
