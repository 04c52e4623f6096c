import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import Joi from 'joi';
import Koa from 'koa';
import supertest from 'supertest';
import { errorHandler } from '../src/middlewares/errorHandler.js';
import { ApiRouter } from '../src/routes/apiRouter.js';
import { buildOpenApiDocument } from '../src/routes/docs/openapi.js';
import { responseCheck, takeResponseViolations } from './support/responseCheck.js';
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

  it('declares bearer sign-in and which operations need it (Swagger UI shows Authorize)', async () => {
    const { body } = await app.request.get('/openapi.json').expect(200);
    expect(body.components.securitySchemes.bearerAuth).to.deep.include({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    const ops = Object.values(body.paths as Record<string, Record<string, any>>).flatMap((methods) => Object.values(methods));
    const signedIn = ops.filter((op) => op.security?.length);
    expect(signedIn.length).to.be.greaterThan(100);
    expect(body.paths['/api/v1/me'].get.security).to.deep.equal([{ bearerAuth: [] }]);
    expect(body.paths['/api/v1/auth/staff/login'].post.security).to.deep.equal([]);
    expect(body.paths['/healthz'].get.security).to.deep.equal([]);
  });

  it('documents 401/403/429/503 with the error body on every signed-in operation, from its before chain', async () => {
    const { body } = await app.request.get('/openapi.json').expect(200);
    for (const [path, methods] of Object.entries(body.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const errorStatuses = Object.keys(op.responses).filter((s) => Number(s) >= 400);
        for (const status of errorStatuses) {
          if (path === '/readyz' && status === '503') continue; // its own readiness body
          const ref: string = op.responses[status].content?.['application/json']?.schema?.$ref ?? '';
          // The shared body, or a route's own that still carries `error` (e.g. the series' conflicts).
          const schema = body.components.schemas[ref.replace('#/components/schemas/', '')];
          expect(schema?.properties?.error, `${method} ${path} ${status}`).to.exist;
        }
        if (op.security.length) expect(errorStatuses, `${method} ${path}`).to.include.members(['401', '403', '429', '503']);
      }
    }
    // The anonymous limit in front of the routers counts sign-in too; login has its own limit.
    expect(body.paths['/api/v1/auth/staff/login'].post.responses).to.include.keys('429', '503');
    expect(body.paths['/healthz'].get.responses).not.to.have.key('429');
  });

  it('names 503 booking_interrupted on exactly the operations that run withClaims (the route flag)', async () => {
    const { body } = await app.request.get('/openapi.json').expect(200);
    const flagged = app.routes.filter((r) => r.claims).map((r) => r.operationId);
    // The commands behind these run their claim steps in withClaims (src/booking/claims.ts).
    expect(flagged).to.include.members([
      'roomBookings.create', 'roomBookings.createSeries', 'roomBookings.move', 'roomBookings.cancel', 'meals.order',
      'meals.changeOrder', 'meals.cancelOrder', 'meals.closeAlert', 'childcareBookings.create', 'childcareBookings.cancel',
      'childcareWaitlist.accept', 'volunteerTasks.claim', 'volunteers.redeem', 'volunteerAssignments.checkOut',
    ]);
    for (const route of app.routes) {
      const op = body.paths[route.fullPath.replace(/:(\w+)/g, '{$1}')][route.method];
      const said = String(op.responses['503']?.description ?? '');
      if (route.claims) {
        expect(said, route.operationId).to.match(/booking_interrupted: .*Retry-After: 2.*[\u4e00-\u9fff]/);
        // What the chain says (rate limits, storage) is kept, not replaced.
        expect(said, route.operationId).to.include('storage_unavailable');
        expect(op.responses['503'].content['application/json'].schema.$ref).to.equal('#/components/schemas/Error');
      } else {
        expect(said, route.operationId).not.to.include('booking_interrupted');
      }
    }
  });

  it('lists the required keys of response schemas', async () => {
    const { body } = await app.request.get('/openapi.json').expect(200);
    const objects = Object.entries(body.components.schemas as Record<string, any>).filter(([name, s]) => name !== 'Error' && s.type === 'object' && Object.keys(s.properties ?? {}).length);
    expect(objects.filter(([, s]) => !s.required?.length).map(([name]) => name)).to.deep.equal([]);
    expect(body.components.schemas.Person.required).to.include.members(['id', 'name', 'community', 'dietaryNeeds']);
    expect(body.components.schemas.Person.required).not.to.include('birthDate');
  });

  it('fails a test whose response the document does not describe (status or body)', async () => {
    const api = new ApiRouter().route({
      method: 'get', path: '/things/:kind', operationId: 'things.get', summary: 'test', tags: ['test'],
      schema: { params: Joi.object({ kind: Joi.string() }) },
      responses: { 200: { description: 'A thing', schema: Joi.object({ name: Joi.string() }) } },
      handler: (ctx) => {
        if (ctx.params.kind === 'teapot') ctx.status = 418;
        ctx.body = ctx.params.kind === 'extra' ? { name: 'x', secret: 'y' } : ctx.params.kind === 'bare' ? {} : { name: 'x' };
      },
    });
    const koa = new Koa();
    koa.use(responseCheck(() => buildOpenApiDocument(api.routes, { version: 'test' })));
    koa.use(errorHandler());
    koa.use(api.router.routes());
    const request = supertest(koa.callback());
    await request.get('/things/ok').expect(200);
    await request.get('/things/nope!').expect(200);
    expect(takeResponseViolations()).to.deep.equal([]);
    await request.get('/things/teapot').expect(418);
    await request.get('/things/extra').expect(200);
    await request.get('/things/bare').expect(200);
    const found = takeResponseViolations();
    expect(found).to.have.length(3);
    expect(found[0]).to.match(/status 418 is not documented/);
    expect(found[1]).to.match(/additional properties/);
    expect(found[2]).to.match(/required property 'name'/);
  });
});
