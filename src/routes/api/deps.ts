import type { Middleware } from 'koa';
import type { AppDeps } from '../../app.js';
import type { SessionSettings } from '../../auth/sessions.js';
import type { BindingSettings } from '../../commands/botBinding.js';
import type { StaffLoginSettings } from '../../commands/sessions.js';
import { authenticate } from '../../middlewares/authenticate.js';

/** What route handlers get: the app's deps plus the settings derived from config once. */
export interface RouteDeps extends AppDeps {
  sessions: SessionSettings;
  authenticate: Middleware;
  staffLogin: StaffLoginSettings;
  binding: BindingSettings;
}

export function routeDeps(deps: AppDeps): RouteDeps {
  const { auth } = deps.config;
  const sessions: SessionSettings = {
    jwtSecret: deps.jwtSecret,
    accessTokenTtlSeconds: auth.accessTokenTtlSeconds,
    refreshTokenTtlDays: auth.refreshTokenTtlDays,
    redis: deps.redis,
  };
  return {
    ...deps,
    sessions,
    authenticate: authenticate(sessions),
    staffLogin: { maxFailures: auth.staffMaxFailures, lockoutMinutes: auth.staffLockoutMinutes },
    binding: { ttlMinutes: auth.bindingCodeTtlMinutes, maxAttempts: auth.bindingMaxAttempts },
  };
}
