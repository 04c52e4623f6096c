import type { Middleware } from 'koa';
import type { AppContext } from '../../app.js';
import type { Context } from 'koa';
import type { RateClass } from '../../config.js';
import { callerKey, limit } from '../../middlewares/rateLimit.js';
import type { SessionSettings } from '../../auth/sessions.js';
import { bindingSettings, type BindingSettings } from '../../commands/botBinding.js';
import type { StaffLoginSettings } from '../../commands/sessions.js';
import type { RoomBookingDeps } from '../../commands/roomBookings.js';
import type { ChildcareDeps } from '../../commands/childcarePlaces.js';
import { authenticate } from '../../middlewares/authenticate.js';

/** What route handlers get: the app's deps plus the settings derived from config once. */
export interface RouteDeps extends AppContext {
  sessions: SessionSettings;
  /** Requires a valid access token, then counts the request against the person's budget. */
  authenticate: Middleware;
  /** A stricter limit for one route (after authenticate, it counts per person). */
  limit: (rateClass: RateClass, key?: (ctx: Context) => string) => Middleware;
  staffLogin: StaffLoginSettings;
  binding: BindingSettings;
  roomBooking: RoomBookingDeps;
  childcare: ChildcareDeps;
}

const isStaffish = (ctx: Context) => ctx.state.user.roles.some((r) => r === 'staff' || r === 'admin');

export function routeDeps(deps: AppContext): RouteDeps {
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
    authenticate: authenticate(sessions, {
      perPerson: limit(deps.rateLimits, (ctx) => (isStaffish(ctx) ? 'staff' : 'resident')),
      anonymous: limit(deps.rateLimits, 'anonymous', (ctx) => `ip:${ctx.ip}`),
    }),
    limit: (rateClass, key = callerKey) => limit(deps.rateLimits, rateClass, key),
    staffLogin: {
      maxFailures: auth.staffMaxFailures,
      maxFailuresPerAddress: auth.staffMaxFailuresPerAddress,
      lockoutMinutes: auth.staffLockoutMinutes,
      onPasswordCheck: () => deps.metrics.passwordChecks.inc(),
    },
    binding: bindingSettings(auth),
    roomBooking: { rules: deps.config.booking, redis: deps.redis, log: deps.logger },
    childcare: { rules: deps.config.childcare, redis: deps.redis, log: deps.logger },
  };
}
