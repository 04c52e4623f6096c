import { DASHBOARD_MAX_DAYS, daysBetween, dashboardStatistics, lastThirtyDays } from '../../../commands/dashboard.js';
import { BookingRuleError } from '../../../errors.js';
import { authorize } from '../../../policies/index.js';
import { presentDashboard } from '../../../presenters/dashboard.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import { DashboardParams, DashboardQuery, DashboardResponse } from './dashboardSchema.js';
import { findCommunity } from './index.js';

/** The figures of the staff console's dashboard: one endpoint, so the browser never counts raw lists. */
export function registerDashboardRoutes(api: ApiRouter, deps: RouteDeps): void {
  api.route({
    method: 'get', path: '/communities/:communityId/dashboard', operationId: 'reports.dashboard',
    summary: '社区服务看板数据（工作人员、管理员）', tags: ['月度统计'], before: [deps.authenticate],
    description: `Room use per room and hour, meal portions per day and mode, childcare fill rate, approved volunteer hours, `
      + `this month's visit rate and 好差评 per day, for the days from \`from\` to \`to\` (default: the last 30 days; at most ${DASHBOARD_MAX_DAYS} days).`,
    schema: { params: DashboardParams, query: DashboardQuery },
    responses: {
      200: { description: 'The figures', schema: DashboardResponse },
      400: { description: 'validation_error, dashboard_span_invalid' },
      403: { description: 'forbidden: staff of the community and admins only' },
      404: { description: 'not_found' },
    },
    handler: async (ctx) => {
      const { communityId } = ctx.state.input.params as { communityId: string };
      const query = ctx.state.input.query as { from?: string; to?: string };
      const community = await findCommunity(communityId);
      authorize(ctx.state.user, 'viewDashboard', community);
      const now = new Date();
      const { from = lastThirtyDays(now).from, to = lastThirtyDays(now).to } = query;
      if (from > to) throw BookingRuleError(400, 'dashboard_span_invalid', '开始日期不能晚于结束日期');
      if (daysBetween(from, to).length > DASHBOARD_MAX_DAYS) {
        throw BookingRuleError(400, 'dashboard_span_invalid', `看板一次最多看 ${DASHBOARD_MAX_DAYS} 天，请缩短日期范围`);
      }
      ctx.body = presentDashboard(community._id, await dashboardStatistics(community._id, from, to, now));
    },
  });
}
