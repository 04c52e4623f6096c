import { Types } from 'mongoose';
import { Community, type CommunityDoc } from '../../../../models/community.js';
import { findMonthlyReport, generateMonthlyReport } from '../../../commands/monthlyReports.js';
import { currentMonth } from '../../../commands/wellness.js';
import { BookingRuleError, NotFoundError } from '../../../errors.js';
import { authorize } from '../../../policies/index.js';
import { presentMonthlyReport } from '../../../presenters/monthlyReport.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import { MonthlyReportResponse, ReportParams } from './schema.js';

const tags = ['月度统计'];

/** The community of a report's path, or 404. */
export async function findCommunity(id: string): Promise<CommunityDoc> {
  const community = Types.ObjectId.isValid(id) ? await Community.findById(id) : null;
  if (!community) throw NotFoundError('没有找到这个社区');
  return community;
}

/** The monthly statistics of a community for its staff and admins (issue 10). */
export function registerReportRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];

  api.route({
    method: 'get', path: '/communities/:communityId/monthly-reports/:month', operationId: 'reports.getMonthly',
    summary: '社区月度服务统计（工作人员、管理员）', tags, before,
    description: 'The stored report: made by the monthly job on the 1st for the previous month, or on demand with POST.',
    schema: { params: ReportParams },
    responses: {
      200: { description: 'Meals served, subsidies (fen), childcare hours, room utilisation, volunteer hours, 好差评', schema: MonthlyReportResponse },
      403: { description: 'forbidden: staff of the community and admins only' },
      404: { description: 'not_found: no such community, or no report of that month yet' },
    },
    handler: async (ctx) => {
      const { communityId, month } = ctx.state.input.params as { communityId: string; month: string };
      const community = await findCommunity(communityId);
      authorize(ctx.state.user, 'viewMonthlyReport', community);
      const report = await findMonthlyReport(community._id, month);
      if (!report) throw NotFoundError(`${month} 的月度统计还没有生成；本月的统计可随时生成（POST 同一地址）`);
      ctx.body = presentMonthlyReport(report);
    },
  });

  api.route({
    method: 'post', path: '/communities/:communityId/monthly-reports/:month', operationId: 'reports.generateMonthly',
    summary: '生成社区月度服务统计（本月截至目前）', tags, before,
    description: 'Computes and stores the month\'s figures now. A month not over is stored `partial` and recomputed at every request; '
      + 'a month over is final once generated (then this returns it unchanged).',
    schema: { params: ReportParams },
    responses: {
      200: { description: 'The report', schema: MonthlyReportResponse },
      400: { description: 'month_in_future, validation_error' },
      403: { description: 'forbidden: staff of the community and admins only' },
      404: { description: 'not_found' },
    },
    handler: async (ctx) => {
      const { communityId, month } = ctx.state.input.params as { communityId: string; month: string };
      const community = await findCommunity(communityId);
      authorize(ctx.state.user, 'generateMonthlyReport', community);
      const now = new Date();
      if (month > currentMonth(now)) throw BookingRuleError(400, 'month_in_future', `${month} 还没有到，只能生成本月及以前的统计`);
      const { report } = await generateMonthlyReport(community._id, month, now);
      ctx.body = presentMonthlyReport(report);
    },
  });
}
