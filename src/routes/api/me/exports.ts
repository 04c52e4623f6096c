import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import Joi from 'joi';
import type { Context } from 'koa';
import { Types } from 'mongoose';
import { EXPORT_STATUSES, PersonalDataExport, type PersonalDataExportDoc } from '../../../../models/personalDataExport.js';
import {
  EXPORT_KEEP_DAYS, listPersonExports, newestReadyExport, readExportGzip, requestPersonalDataExport, startPreparing,
} from '../../../commands/personalDataExport.js';
import { ExportExpiredError, ExportFailedError, ExportPreparingError, NotFoundError } from '../../../errors.js';
import { authorize, can } from '../../../policies/index.js';
import { presentPersonalDataExport } from '../../../presenters/personalDataExport.js';
import type { ApiRouter } from '../../apiRouter.js';
import { objectId } from '../common.js';
import type { RouteDeps } from '../deps.js';

const tags = ['我的'];
const gunzipped = promisify(gunzip);

const ExportResponse = Joi.object({
  id: Joi.string(),
  status: Joi.string().valid(...EXPORT_STATUSES).description('preparing → ready (or failed); ready → expired after the keeping period'),
  requestedAt: Joi.date(),
  readyAt: Joi.date().allow(null),
  expiresAt: Joi.date().allow(null).description(`The file is deleted then (${EXPORT_KEEP_DAYS} days after it was ready)`),
  bytes: Joi.number().allow(null).description('Size of the JSON file, UTF-8 bytes'),
  records: Joi.number().allow(null).description('Records in the file, all sections'),
}).meta({ className: 'PersonalDataExport' });

const FileResponse = Joi.object().unknown(true)
  .description('Everything held about me (exportedAt, person, signIns, proxyLinks, children, accessLog, the records of every service, notifications)');

const exportParams = Joi.object({ exportId: objectId().required().label('导出编号') });
const locationOf = (id: unknown) => `/api/v1/me/exports/${String(id)}`;
const NOT_FOUND = '没有找到这份个人数据导出，可能已删除；请在「我的数据」重新申请';

/** The caller's own export, or 404 (whether someone else's exists is not told). */
async function ownExport(ctx: Context, action: 'read' | 'download'): Promise<PersonalDataExportDoc> {
  const { exportId } = ctx.state.input.params as { exportId: string };
  const found = await PersonalDataExport.findById(exportId);
  if (!found || !can(ctx.state.user, action, found)) throw NotFoundError(NOT_FOUND);
  return found;
}

/**
 * Answers the file as an attachment nobody caches: gzipped as stored when the client takes gzip
 * (every browser and the mini-program's request do), so a year's file is a tenth on the wire.
 */
async function sendFile(ctx: Context, e: PersonalDataExportDoc): Promise<void> {
  const zipped = await readExportGzip(e);
  ctx.set('Content-Disposition', 'attachment; filename="my-data.json"');
  ctx.set('Cache-Control', 'no-store');
  ctx.vary('Accept-Encoding');
  ctx.type = 'application/json';
  if (ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
    ctx.set('Content-Encoding', 'gzip');
    ctx.body = zipped;
  } else {
    ctx.body = (await gunzipped(zipped)).toString('utf8');
  }
}

/**
 * 我的 → 我的数据: the person's whole data (PIPL right of access), prepared in the background
 * because it grows with their history (docs/identity-and-privacy.md, "Export").
 */
export function registerMyExportRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];

  /** A new export, or the one already preparing; prepared by this process after the answer. */
  const request = async (ctx: Context) => {
    const { user } = ctx.state;
    authorize(user, 'export', user.person);
    const { doc, created } = await requestPersonalDataExport(new Types.ObjectId(user.id));
    if (created) startPreparing(doc._id, deps.logger);
    ctx.status = 202;
    ctx.set('Location', locationOf(doc._id));
    ctx.body = presentPersonalDataExport(doc);
  };

  api.route({
    method: 'post', path: '/me/exports', operationId: 'me.exports.create', summary: '申请导出我的全部个人数据', tags,
    before: [...before, deps.limit('booking')],
    description: `Starts preparing the file in the background and answers at once. While one is preparing, asking again answers that one (one at a time per person, across instances). When it is ready the person is told (kind \`personal_data_export_ready\`, with the export's id); the file is kept ${EXPORT_KEEP_DAYS} days.`,
    responses: {
      202: { description: 'Preparing (new, or the one already preparing)', schema: ExportResponse, headers: { Location: 'The export: GET it for its status' } },
    },
    handler: request,
  });

  api.route({
    method: 'get', path: '/me/exports', operationId: 'me.exports.list', summary: '我申请过的个人数据导出', tags, before,
    description: 'My exports, newest first (at most 10; expired ones stay listed for 30 days without their file).',
    responses: { 200: { description: 'Newest first', schema: Joi.object({ items: Joi.array().items(ExportResponse) }) } },
    handler: async (ctx) => {
      ctx.body = { items: (await listPersonExports(ctx.state.user.id)).map(presentPersonalDataExport) };
    },
  });

  api.route({
    method: 'get', path: '/me/exports/:exportId', operationId: 'me.exports.get', summary: '个人数据导出的进度', tags, before,
    schema: { params: exportParams },
    responses: {
      200: { description: 'Where it stands', schema: ExportResponse },
      404: { description: 'not_found: no such export of mine' },
    },
    handler: async (ctx) => {
      ctx.body = presentPersonalDataExport(await ownExport(ctx, 'read'));
    },
  });

  api.route({
    method: 'get', path: '/me/exports/:exportId/file', operationId: 'me.exports.file', summary: '下载准备好的个人数据（JSON 文件）', tags, before,
    schema: { params: exportParams },
    responses: {
      200: { description: 'The file (Content-Disposition: attachment; Cache-Control: no-store; Content-Encoding: gzip when accepted)', schema: FileResponse },
      404: { description: 'not_found: no such export of mine' },
      409: { description: 'export_preparing: not ready yet (Retry-After); export_failed: ask again' },
      410: { description: `export_expired: past its ${EXPORT_KEEP_DAYS} days, the file is deleted; ask again` },
    },
    handler: async (ctx) => {
      const e = await ownExport(ctx, 'download');
      if (e.status === 'preparing') throw ExportPreparingError();
      if (e.status === 'failed') throw ExportFailedError();
      if (e.status === 'expired' || (e.expiresAt?.getTime() ?? 0) <= Date.now()) throw ExportExpiredError(EXPORT_KEEP_DAYS);
      await sendFile(ctx, e);
    },
  });

  api.route({
    method: 'get', path: '/me/export', operationId: 'me.export', summary: '下载我的全部个人数据（旧接口）', tags, before, deprecated: true,
    description: 'Kept for existing clients; use POST /me/exports and GET /me/exports/{exportId}/file. Answers my newest ready export still kept (200, the file; its `exportedAt` says when it was made), else asks for one as POST /me/exports does (202, Location: the export).',
    responses: {
      200: { description: 'My newest ready export', schema: FileResponse },
      202: { description: 'None ready: one is preparing (new, or the one already preparing)', schema: ExportResponse, headers: { Location: 'The export: GET it for its status' } },
    },
    handler: async (ctx) => {
      const { user } = ctx.state;
      authorize(user, 'export', user.person);
      const ready = await newestReadyExport(user.id);
      if (ready) await sendFile(ctx, ready);
      else await request(ctx);
    },
  });
}
