import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router } from 'express';
import helmet from 'helmet';

/** The renderer's files the page loads; nothing else of the package is served. */
const RENDERER_FILES = new Set(['/swagger-ui.css', '/swagger-ui-bundle.js', '/favicon-32x32.png']);

/**
 * Where swagger-ui-dist's files are: beside the bundle in a built service (tsup.config.ts
 * copies them there, the image has no node_modules), else in node_modules.
 */
function rendererDirectory(): string {
  const bundled = path.join(__dirname, 'swagger-ui');
  return existsSync(bundled) ? bundled : path.dirname(createRequire(__filename).resolve('swagger-ui-dist/package.json'));
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>DealDome finance API</title>
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <script src="/docs/assets/swagger-ui-bundle.js" defer></script>
  <script src="/docs/start.js" defer></script>
</head>
<body>
  <div id="docs"></div>
</body>
</html>
`;

// A file rather than an inline script, so the page's CSP can forbid inline scripts.
// validatorUrl: null keeps swagger-ui from sending the document to an online validator.
const START = `SwaggerUIBundle({
  url: '/v1/openapi.json',
  dom_id: '#docs',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

/**
 * Everything comes from this server: the page, the renderer and the document it
 * fetches. No script runs inline, nothing loads from anywhere else, and the page
 * cannot be framed.
 */
const pagePolicy = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
});

/** GET /docs: the OpenAPI document rendered by swagger-ui, served from this process. */
export function docsPage(): Router {
  const router = Router();
  const directory = rendererDirectory();
  router.get('/docs', pagePolicy, (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/docs/start.js', pagePolicy, (_req, res) => {
    res.type('js').send(START);
  });
  router.use(
    '/docs/assets',
    pagePolicy,
    (req, _res, next) => next(RENDERER_FILES.has(req.path) ? undefined : 'router'),
    express.static(directory, { index: false, maxAge: '1h' }),
  );
  return router;
}
