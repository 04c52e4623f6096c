import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Joi from 'joi';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { ApiRouter } from '../apiRouter.js';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

// The page loads Swagger UI from our own origin (the security headers forbid inline scripts
// and other origins), so the docs work on a machine with no internet access.
const PAGE = `<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <title>社区服务预约 API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;

// The document declares bearer sign-in, so the page has an Authorize button; the token is
// kept across reloads of the page (the browser's localStorage, this origin only).
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: true });`;

/** `/openapi.json` (built once, from `getDocument`) and the interactive page at `/docs`. */
export function docsRoutes(getDocument: () => object): ApiRouter {
  const api = new ApiRouter();
  const assetDir = getAbsoluteFSPath();
  const cache = new Map<string, Buffer>();

  api.route({
    method: 'get',
    path: '/openapi.json',
    operationId: 'docs.openapi',
    summary: 'OpenAPI 3 文档',
    tags: ['文档'],
    responses: { 200: { description: 'The OpenAPI document of this API', schema: Joi.object().unknown(true) } },
    handler: (ctx) => {
      ctx.body = getDocument();
    },
  });

  api.route({
    method: 'get',
    path: '/docs',
    operationId: 'docs.page',
    summary: '交互式接口文档页面',
    tags: ['文档'],
    responses: { 200: { description: 'Swagger UI', schema: Joi.string(), contentType: 'text/html' } },
    handler: (ctx) => {
      ctx.type = 'html';
      ctx.body = PAGE;
    },
  });

  // Static helpers of the page: not API operations, so kept out of the document.
  api.router.get('/docs/init.js', (ctx) => {
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.body = INIT;
  });
  api.router.get('/docs/assets/:file', async (ctx, next) => {
    const file = ctx.params.file ?? '';
    const type = ASSETS[file];
    if (!type) return next();
    if (!cache.has(file)) cache.set(file, await readFile(path.join(assetDir, file)));
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = cache.get(file);
  });

  return api;
}
