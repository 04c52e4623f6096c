import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Middleware } from 'koa';

/** Where `npm run console:build` writes the staff console (git-ignored). */
export const CONSOLE_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../console/dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

interface Asset { body: Buffer; gzip: Buffer | null; type: string }

/**
 * The staff console (工作人员后台) at /console/: files from console/dist, gzipped once and kept
 * in memory; hashed assets cached for a year; any other path under /console/ answers
 * index.html (history-mode routes); `/` redirects there. The console reaches data only through
 * /api/v1 like any client.
 */
export function consoleStatic(dist = CONSOLE_DIST): Middleware {
  const cache = new Map<string, Asset | null>();

  async function load(rel: string): Promise<Asset | null> {
    if (cache.has(rel)) return cache.get(rel)!;
    const file = path.join(dist, rel);
    // Never outside dist: a path with .. was normalised by Koa, but check anyway.
    if (!file.startsWith(dist + path.sep)) return null;
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) return null;
    const body = await readFile(file);
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    const asset = { body, gzip: /text|javascript|json|svg/.test(type) && body.length > 1024 ? gzipSync(body) : null, type };
    // index.html changes with each build: re-read it; hashed assets never change.
    if (rel !== 'index.html') cache.set(rel, asset);
    return asset;
  }

  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/' || ctx.path === '/console') {
      ctx.status = 302;
      ctx.redirect('/console/');
      return;
    }
    if (!ctx.path.startsWith('/console/')) return next();
    const rel = decodeURIComponent(ctx.path.slice('/console/'.length));
    let asset = rel && !rel.endsWith('/') ? await load(rel) : null;
    const isAsset = rel.startsWith('assets/');
    if (!asset && !isAsset) asset = await load('index.html');
    if (!asset) {
      if (isAsset) return next(); // a stale hashed file: 404 from the router
      ctx.status = 503;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = '工作人员后台尚未构建：请运行 npm run console:build（npm start 会自动构建）';
      return;
    }
    ctx.type = asset.type;
    ctx.set('Cache-Control', isAsset ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.vary('Accept-Encoding');
    if (asset.gzip && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
      ctx.set('Content-Encoding', 'gzip');
      ctx.body = asset.gzip;
    } else {
      ctx.body = asset.body;
    }
  };
}
