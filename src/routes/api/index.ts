import type { AppDeps } from '../../app.js';
import { ApiRouter } from '../apiRouter.js';

/** The versioned API for the mini-program and staff tools. Resources are added per issue. */
export const API_PREFIX = '/api/v1';

export function apiRoutes(_deps: AppDeps): ApiRouter {
  return new ApiRouter(API_PREFIX);
}
