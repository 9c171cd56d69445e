// `next build`, then completes the standalone server: Next leaves the browser's static
// files and the start script out of .next/standalone, and the server serves them from
// beside itself. The result runs anywhere as `node .next/standalone/apps/dashboard/start.mjs`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const next = createRequire(path.join(app, 'package.json')).resolve('next/dist/bin/next');
const built = spawnSync(process.execPath, [next, 'build'], {
  cwd: app,
  stdio: 'inherit',
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
});
if (built.status !== 0) process.exit(built.status ?? 1);

const server = path.join(app, '.next', 'standalone', 'apps', 'dashboard');
cpSync(path.join(app, '.next', 'static'), path.join(server, '.next', 'static'), { recursive: true });
if (existsSync(path.join(app, 'public'))) cpSync(path.join(app, 'public'), path.join(server, 'public'), { recursive: true });
copyFileSync(path.join(app, 'scripts', 'start.mjs'), path.join(server, 'start.mjs'));
