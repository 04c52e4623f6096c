import { expect } from 'chai';
import { ProxyLink } from '../models/proxyLink.js';
import { makeCommunity, makeProxyLink, makeResident } from './factories/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testConfig } from './support/env.js';
import { useCleanStorage } from './support/storage.js';

describe('HTTP basics', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  before(() => {
    ({ request } = createTestApp({
      config: testConfig({ BODY_LIMIT: '1kb', CORS_ORIGINS: 'https://servicewechat.com' }),
    }));
  });

  describe('GET /healthz', () => {
    it('answers while the process is up, with a request id', async () => {
      const res = await request.get('/healthz').expect(200);
      expect(res.body).to.deep.equal({ status: 'ok' });
      expect(res.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    });

    it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
      const kept = await request.get('/healthz').set('X-Request-Id', 'mini-program-1234').expect(200);
      expect(kept.headers['x-request-id']).to.equal('mini-program-1234');
      const replaced = await request.get('/healthz').set('X-Request-Id', 'bad id <script>').expect(200);
      expect(replaced.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    });

    it('sends security headers', async () => {
      const res = await request.get('/healthz').expect(200);
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['content-security-policy']).to.include("default-src 'self'");
      expect(res.headers['x-powered-by']).to.equal(undefined);
    });
  });

  describe('the standard error body', () => {
    it('answers an unknown route with 404 route_not_found', async () => {
      const res = await request.get('/api/v1/no-such-thing').expect(404);
      expect(res.body).to.deep.equal({
        error: { code: 'route_not_found', message: '接口地址不存在，请检查地址是否正确' },
      });
    });

    it('answers malformed JSON with 400 invalid_json', async () => {
      const res = await request.post('/api/v1/anything').set('Content-Type', 'application/json').send('{"name": 1,').expect(400);
      expect(res.body.error.code).to.equal('invalid_json');
      expect(res.body.error.message).to.match(/JSON/);
    });

    it('answers a JSON scalar body (not an object or array) with 400 invalid_json', async () => {
      const res = await request.post('/api/v1/anything').set('Content-Type', 'application/json').send('"text"').expect(400);
      expect(res.body.error.code).to.equal('invalid_json');
    });

    it('refuses a body that is not JSON with 415', async () => {
      const res = await request.post('/api/v1/anything').set('Content-Type', 'text/plain').send('hello').expect(415);
      expect(res.body.error.code).to.equal('unsupported_media_type');
    });

    it('refuses a body over the limit with 413', async () => {
      const res = await request.post('/api/v1/anything').send({ note: 'x'.repeat(2048) }).expect(413);
      expect(res.body.error.code).to.equal('payload_too_large');
    });

    it('refuses any body on a DELETE before acting: 413 oversize, 400 invalid JSON, 400 body_not_allowed', async () => {
      const community = await makeCommunity();
      const [son, elder] = [await makeResident({ community: community._id }), await makeResident({ community: community._id })];
      const link = await makeProxyLink(son, elder);
      const token = await bearerFor(son);
      const revoke = () => request.delete(`/api/v1/proxy-links/${link._id}`).set('Authorization', token);
      const big = await revoke().send({ note: 'x'.repeat(5 * 1024) }).expect(413);
      expect(big.body.error.code).to.equal('payload_too_large');
      const broken = await revoke().set('Content-Type', 'application/json').send('{"reason":').expect(400);
      expect(broken.body.error.code).to.equal('invalid_json');
      const any = await revoke().send({ reason: '不需要了' }).expect(400);
      expect(any.body.error).to.include({ code: 'body_not_allowed' });
      expect(any.body.error.message).to.match(/删除请求不需要提交内容/);
      expect((await ProxyLink.findById(link._id))!.status).to.equal('active');
      await revoke().expect(200);
      expect((await ProxyLink.findById(link._id))!.status).to.equal('revoked');
    });

    it('answers a wrong method with 405 and Allow', async () => {
      const res = await request.delete('/healthz').expect(405);
      expect(res.body.error.code).to.equal('method_not_allowed');
      expect(res.headers.allow).to.include('GET');
    });
  });

  describe('CORS', () => {
    it('allows the configured mini-program origin', async () => {
      const res = await request.options('/healthz')
        .set('Origin', 'https://servicewechat.com')
        .set('Access-Control-Request-Method', 'GET')
        .expect(204);
      expect(res.headers['access-control-allow-origin']).to.equal('https://servicewechat.com');
    });

    it('gives other origins no CORS grant', async () => {
      const res = await request.get('/healthz').set('Origin', 'https://evil.example').expect(200);
      expect(res.headers['access-control-allow-origin']).to.equal(undefined);
    });
  });
});
