import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { buildConsole } from '../../scripts/build-console.js';
import { CONSOLE_DIST } from '../../src/consoleStatic.js';
import { createTestApp } from '../support/app.js';
import { useCleanStorage } from '../support/storage.js';

describe('the console served by the service at /console/', () => {
  useCleanStorage();

  let request: ReturnType<typeof createTestApp>['request'];
  before(async () => {
    await buildConsole({ quiet: true });
    ({ request } = createTestApp());
  });

  it('redirects / to /console/', async () => {
    const res = await request.get('/').expect(302);
    expect(res.headers.location).to.equal('/console/');
  });

  it('answers index.html for the console\'s own routes (history mode), never cached', async () => {
    for (const p of ['/console/', '/console/rooms', '/console/meals/abc/delivery-sheets']) {
      const res = await request.get(p).expect(200);
      expect(res.headers['content-type']).to.match(/text\/html/);
      expect(res.headers['cache-control']).to.equal('no-cache');
      expect(res.text).to.include('<div id="app"></div>');
      expect(res.headers['content-security-policy']).to.include("default-src 'self'");
    }
  });

  it('serves hashed assets gzipped and cached for a year, and 404s a missing one', async () => {
    const js = readdirSync(path.join(CONSOLE_DIST, 'assets')).find((f) => f.endsWith('.js') && f.startsWith('index-'))!;
    const res = await request.get(`/console/assets/${js}`).set('Accept-Encoding', 'gzip').expect(200);
    expect(res.headers['content-encoding']).to.equal('gzip');
    expect(res.headers['cache-control']).to.equal('public, max-age=31536000, immutable');
    const missing = await request.get('/console/assets/nothing-here.js').expect(404);
    expect(missing.body.error.code).to.equal('route_not_found');
  });

  it('leaves the API and its 404s alone', async () => {
    const res = await request.get('/api/v1/no-such-thing').expect(404);
    expect(res.body.error.code).to.equal('route_not_found');
  });
});
