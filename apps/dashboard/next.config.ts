import path from 'node:path';
import type { NextConfig } from 'next';

const config: NextConfig = {
  // A self-contained server (server.js and only the files it needs) for the image and for
  // `pnpm start`; scripts/build.mjs puts the static files beside it.
  output: 'standalone',
  outputFileTracingRoot: path.join(__dirname, '..', '..'),
  poweredByHeader: false,
  reactStrictMode: true,
  // `pnpm typecheck` (tsc over src and test) and `pnpm lint` check the code; the build
  // does not repeat them, which keeps the browser test's build short.
  typescript: { ignoreBuildErrors: true },
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'no-referrer' },
        ],
      },
    ];
  },
};

export default config;
