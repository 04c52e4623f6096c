import type { AppContext } from '../../app.js';
import { ApiRouter } from '../apiRouter.js';
import { registerAuditRoutes } from './auditEntries/index.js';
import { registerAuthRoutes } from './auth/index.js';
import { registerChildcareRoutes } from './childcare/index.js';
import { registerCommunityRoutes } from './communities/index.js';
import { routeDeps } from './deps.js';
import { registerJobRoutes } from './jobs/index.js';
import { registerMealRoutes } from './meals/index.js';
import { registerMeRoutes } from './me/index.js';
import { registerNotificationRoutes } from './notifications/index.js';
import { registerProxyLinkRoutes } from './proxyLinks/index.js';
import { registerDashboardRoutes } from './reports/dashboard.js';
import { registerReportRoutes } from './reports/index.js';
import { registerResidentRoutes } from './residents/index.js';
import { registerRoomBookingRoutes } from './rooms/bookings.js';
import { registerRoomRoutes } from './rooms/index.js';
import { registerRoomRatingRoutes } from './rooms/ratings.js';
import { registerUrgentAlertRoutes } from './urgentAlerts/index.js';
import { registerVolunteerRoutes } from './volunteers/index.js';

/** The versioned API for the mini-program and staff tools. */
export const API_PREFIX = '/api/v1';

export function apiRoutes(appDeps: AppContext): ApiRouter {
  const api = new ApiRouter(API_PREFIX);
  const deps = routeDeps(appDeps);
  registerAuthRoutes(api, deps);
  registerMeRoutes(api, deps);
  registerResidentRoutes(api, deps);
  registerProxyLinkRoutes(api, deps);
  registerAuditRoutes(api, deps);
  registerRoomBookingRoutes(api, deps);
  registerRoomRoutes(api, deps);
  registerRoomRatingRoutes(api, deps);
  registerVolunteerRoutes(api, deps);
  registerChildcareRoutes(api, deps);
  registerNotificationRoutes(api, deps);
  registerJobRoutes(api, deps);
  registerMealRoutes(api, deps);
  registerReportRoutes(api, deps);
  registerDashboardRoutes(api, deps);
  registerUrgentAlertRoutes(api, deps);
  registerCommunityRoutes(api, deps);
  return api;
}
