import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The counters one app instance exposes at /metrics (Prometheus text format). */
export interface Metrics {
  registry: Registry;
  rateLimited: Counter<'class'>;
  limiterUnavailable: Counter<'class' | 'policy'>;
  passwordChecks: Counter;
  /** Where the bot's turn queue is read from when /metrics is scraped (bots/dialogue/turnQueue.ts). */
  watchBotTurns(queued: () => number): void;
}

/** A registry per instance (tests run several apps in one process). */
export function createMetrics(withDefaults = true): Metrics {
  const registry = new Registry();
  let botTurnsQueued = () => 0;
  new Gauge({
    name: 'csb_bot_turns_waiting',
    help: 'Chat messages waiting for the bot to start answering them (arrival order)',
    registers: [registry],
    collect() {
      this.set(botTurnsQueued());
    },
  });
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'csb_' });
  return {
    registry,
    rateLimited: new Counter({
      name: 'csb_rate_limited_requests_total',
      help: 'Requests and chat messages refused by a rate limit, per class',
      labelNames: ['class'],
      registers: [registry],
    }),
    limiterUnavailable: new Counter({
      name: 'csb_rate_limiter_unavailable_total',
      help: 'Decisions made without Redis, per class and policy (open: let through, closed: refused)',
      labelNames: ['class', 'policy'],
      registers: [registry],
    }),
    passwordChecks: new Counter({
      name: 'csb_staff_password_checks_total',
      help: 'Staff passwords actually compared with their hash (the lockout refuses the rest unchecked)',
      registers: [registry],
    }),
    watchBotTurns(queued) {
      botTurnsQueued = queued;
    },
  };
}
