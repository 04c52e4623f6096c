import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import { createTestApp } from './support/app.js';
import { useCleanStorage } from './support/storage.js';

describe('GET /openapi.json and /docs', () => {
  useCleanStorage();
  let app: ReturnType<typeof createTestApp>;
  before(() => {
    app = createTestApp();
  });

  it('serves a valid OpenAPI 3 document', async () => {
    const res = await app.request.get('/openapi.json').expect(200).expect('Content-Type', /json/);
    const result = await new Validator().validate(res.body);
    expect(result.errors, JSON.stringify(result.errors)).to.equal(undefined);
    expect(result.valid).to.equal(true);
    expect(res.body.openapi).to.match(/^3\./);
  });

  it('documents every route the app registers, with the standard error body', async () => {
    const { body } = await app.request.get('/openapi.json').expect(200);
    for (const route of app.routes) {
      const path = route.fullPath.replace(/:(\w+)/g, '{$1}');
      expect(body.paths[path]?.[route.method], `${route.method} ${path}`).to.include({ operationId: route.operationId });
    }
    expect(body.paths['/readyz'].get.responses['503']).to.exist;
    expect(body.components.schemas.Error.properties.error.required).to.have.members(['code', 'message']);
  });

  it('serves the interactive page and its assets from this origin', async () => {
    const page = await app.request.get('/docs').expect(200).expect('Content-Type', /html/);
    expect(page.text).to.include('/docs/assets/swagger-ui-bundle.js');
    await app.request.get('/docs/assets/swagger-ui-bundle.js').expect(200).expect('Content-Type', /javascript/);
    await app.request.get('/docs/init.js').expect(200);
    await app.request.get('/docs/assets/..%2Fpackage.json').expect(404);
  });
});
