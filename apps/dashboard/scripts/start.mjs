// The dashboard's entry point, copied beside the standalone server.js by scripts/build.mjs.
// Its configuration is read here, at start, so one build serves every installation:
// nothing about the API is baked into the browser's files.
//
//   DASHBOARD_API_BASE_URL  finance-api's base URL as this server reaches it (required)
//   DASHBOARD_PORT          port to listen on (default 3100)
//   HTTP_HOST               address to listen on (default 0.0.0.0, like the services)
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const problems = [];
const base = process.env.DASHBOARD_API_BASE_URL ?? '';
try {
  if (base === '') problems.push('DASHBOARD_API_BASE_URL: required (finance-api, such as http://127.0.0.1:3000)');
  else if (!['http:', 'https:'].includes(new URL(base).protocol)) problems.push('DASHBOARD_API_BASE_URL: must be an http(s) URL');
} catch {
  problems.push('DASHBOARD_API_BASE_URL: not a URL');
}
const port = process.env.DASHBOARD_PORT || '3100';
if (!/^\d+$/.test(port) || Number(port) > 65535) problems.push('DASHBOARD_PORT: must be a port number (0-65535)');
if (problems.length > 0) {
  process.stderr.write(`dashboard: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}

process.env.PORT = port;
process.env.HOSTNAME = process.env.HTTP_HOST || '0.0.0.0';
process.env.NEXT_TELEMETRY_DISABLED = '1';
process.env.NODE_ENV = 'production';
// Next stops gracefully on SIGTERM/SIGINT (no new connections, in-flight requests
// finished, then exit) but exits 128+signal, as if it had been killed. Every DealDome
// service exits 0 after a clean stop, and the launcher and orchestrators read anything
// else as a failure, so a stop that was asked for ends with 0.
let asked = false;
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => (asked = true));
process.on('exit', (code) => {
  if (asked && (code === 143 || code === 130)) process.exitCode = 0;
});
await import(path.join(path.dirname(fileURLToPath(import.meta.url)), 'server.js'));
