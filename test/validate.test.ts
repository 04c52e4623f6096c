import { bodyParser } from '@koa/bodyparser';
import { expect } from 'chai';
import Joi from 'joi';
import Koa from 'koa';
import supertest from 'supertest';
import { errorHandler } from '../src/middlewares/errorHandler.js';
import { ApiRouter } from '../src/routes/apiRouter.js';
import { useCleanStorage } from './support/storage.js';

/** A tiny app with the real error handler, body parser and route chain. */
function appWith(api: ApiRouter) {
  const app = new Koa();
  app.silent = true;
  app.use(errorHandler());
  app.use(bodyParser({ enableTypes: ['json'] }));
  app.use(api.router.routes());
  return supertest(app.callback());
}

describe('validate(schema) on a route', () => {
  useCleanStorage();
  const seen: unknown[] = [];
  const api = new ApiRouter('/api/v1').route({
    method: 'post',
    path: '/rooms/:roomId/notes',
    operationId: 'notes.create',
    summary: 'test route',
    tags: ['test'],
    schema: {
      params: Joi.object({ roomId: Joi.string().hex().length(24).required() }),
      query: Joi.object({ dryRun: Joi.boolean() }),
      body: Joi.object({
        text: Joi.string().max(20).required().label('备注'),
        attendees: Joi.number().integer().min(1).max(40),
      }),
    },
    responses: { 201: { description: 'created' } },
    handler: (ctx) => {
      seen.push(ctx.state.input);
      ctx.status = 201;
      ctx.body = ctx.state.input;
    },
  });
  const request = appWith(api);
  const url = '/api/v1/rooms/65a1b2c3d4e5f6a7b8c9d0e1/notes';

  beforeEach(() => {
    seen.length = 0;
  });

  it('hands the converted input to the handler', async () => {
    const res = await request.post(`${url}?dryRun=true`).send({ text: '书法课', attendees: '12' }).expect(201);
    expect(res.body).to.deep.equal({
      params: { roomId: '65a1b2c3d4e5f6a7b8c9d0e1' },
      query: { dryRun: true },
      body: { text: '书法课', attendees: 12 },
    });
  });

  it('lists every problem in Chinese and never runs the handler', async () => {
    const res = await request.post('/api/v1/rooms/nope/notes?extra=1').send({ attendees: 0, colour: 'red' }).expect(400);
    expect(res.body.error.code).to.equal('validation_error');
    expect(res.body.error.message).to.match(/^提交的内容有误：/);
    const fields = res.body.error.details.map((d: { field: string }) => d.field);
    // One problem per field: the bad id fails its length and its hex check, reported once.
    expect(fields).to.have.members(['params.roomId', 'query.extra', 'body.text', 'body.attendees', 'body.colour']);
    const messages = res.body.error.details.map((d: { message: string }) => d.message).join(' ');
    expect(messages).to.include('缺少必填项「备注」');
    expect(messages).to.include('不支持的字段「colour」');
    expect(seen).to.have.length(0);
  });

  for (const payload of [{ $ne: null }, { $gt: '' }, ['a', 'b']]) {
    it(`refuses the operator/array payload ${JSON.stringify(payload)} where a string is expected`, async () => {
      const res = await request.post(url).send({ text: payload }).expect(400);
      expect(res.body.error.details[0]).to.deep.equal({ field: 'body.text', message: '「备注」应为文字' });
      expect(seen).to.have.length(0);
    });
  }

  it('refuses a bracketed query key (no qs-style objects reach a query)', async () => {
    const res = await request.post(`${url}?dryRun[$ne]=1`).send({ text: 'x' }).expect(400);
    expect(res.body.error.details[0].field).to.equal('query.dryRun[$ne]');
  });

  it('refuses a repeated query key where one value is expected', async () => {
    const res = await request.post(`${url}?dryRun=true&dryRun=false`).send({ text: 'x' }).expect(400);
    expect(res.body.error.details[0].field).to.equal('query.dryRun');
  });

  describe('a field compared with another (end after start)', () => {
    const timed = appWith(new ApiRouter().route({
      method: 'post', path: '/slots', operationId: 'slots.create', summary: 'test route', tags: ['test'],
      schema: {
        body: Joi.object({
          start: Joi.date().iso().label('开始时间'),
          end: Joi.date().iso().required().greater(Joi.ref('start')).label('结束时间'),
        }),
      },
      responses: { 201: { description: 'created' } },
      handler: (ctx) => {
        ctx.status = 201;
      },
    }));

    it('reports the wrong start once, in Chinese, with no 「ref:start」 leaking from the comparison', async () => {
      const res = await timed.post('/slots').send({ start: '明天', end: '2030-01-01T10:00:00+08:00' }).expect(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(['body.start']);
      expect(JSON.stringify(res.body)).not.to.match(/ref:|references|must/);
    });

    it('says in Chinese what is wrong when the compared field cannot be read', async () => {
      // No start at all leaves only the comparison to report.
      const res = await timed.post('/slots').send({ end: '2030-01-01T10:00:00+08:00' }).expect(400);
      expect(JSON.stringify(res.body)).not.to.match(/ref:|references|must/);
      expect(res.body.error.details).to.deep.equal([
        { field: 'body.end', message: '「结束时间」要与另一项比较，但那一项没有填写或格式不正确，请先更正它' },
      ]);
    });
  });
});
