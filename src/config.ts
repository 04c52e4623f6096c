import path from 'node:path';
import Joi from 'joi';
import { DEFAULT_FERRETDB_GOGC } from './storage/ferretdb.js';

/** The process roles one entry point can run; see src/main.ts. */
export const ROLES = ['api', 'bot', 'jobs'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Rate-limit classes: who is counted, and how strictly. anonymous: per IP, requests without
 * a token; resident / staff: per signed-in person (staff and admins have their own budget);
 * login, binding, booking: stricter, for sign-in, binding codes and creating bookings; bot:
 * per WeChat contact, for chat messages.
 */
export const RATE_CLASSES = ['anonymous', 'resident', 'staff', 'login', 'binding', 'booking', 'bot'] as const;
export type RateClass = (typeof RATE_CLASSES)[number];
const RATE_LIMIT_DEFAULTS: Record<RateClass, string> = {
  anonymous: '120/60', resident: '300/60', staff: '1200/60', login: '10/60', binding: '10/600', booking: '30/60', bot: '20/60',
};

/** The volunteer rules' defaults (PRODUCT.md, "Volunteer tasks"); commands fall back on them. */
export const VOLUNTEER_DEFAULTS = Object.freeze({
  releaseCutoffHours: 12,
  checkInOpensMinutes: 60,
  minAttendancePercent: 60,
  autoCheckOutHours: 2,
  pointsPerHour: 10,
  starHours: [100, 300, 600, 1000, 1500],
  absenceLimit: 5,
});

/** Every time a resident reads is Asia/Shanghai, whatever the server's TZ. */
export const TIME_ZONE = 'Asia/Shanghai';

export interface Config {
  env: 'development' | 'test' | 'production';
  port: number;
  host: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  roles: Role[];
  shutdownTimeoutMs: number;
  http: {
    bodyLimit: string;
    corsOrigins: string[];
    trustProxy: boolean;
  };
  mongo: {
    /** Set: use that server and start nothing. Unset: provision FerretDB (see ferretdb). */
    uri?: string;
    dbName: string;
    maxPoolSize: number;
    serverSelectionTimeoutMs: number;
  };
  ferretdb: {
    handler: 'sqlite' | 'postgresql';
    port: number;
    /** An existing PostgreSQL; unset: a private cluster is provisioned under DATA_DIR/postgres. */
    postgresqlUrl?: string;
    /** A prebuilt launcher to use instead of building one. */
    binary?: string;
    /** Go's GOGC for the FerretDB it starts (src/storage/ferretdb.ts). */
    gogc: number;
    /** Where initdb/postgres are; unset: Debian's newest /usr/lib/postgresql/<major>/bin, else PATH. */
    postgresBinDir?: string;
  };
  redis: {
    url: string;
    keyPrefix: string;
    /** Start a local redis-server when none answers at a loopback REDIS_URL. */
    startLocal: boolean;
  };
  dataDir: string;
  cacheDir: string;
  seedDemo: boolean;
  /** Password of the demo `staff` and `admin` accounts. For the local demo only. */
  demoPassword: string;
  auth: {
    /** HS256 key of access tokens. Unset outside production: a random one kept under DATA_DIR. */
    jwtSecret?: string;
    accessTokenTtlSeconds: number;
    refreshTokenTtlDays: number;
    staffMaxFailures: number;
    /** Wrong passwords from one client address, over all usernames, before it is locked. */
    staffMaxFailuresPerAddress: number;
    staffLockoutMinutes: number;
    bindingCodeTtlMinutes: number;
    bindingMaxAttempts: number;
    /** Wrong binding codes over all contacts per code lifetime before binding pauses for everyone. */
    bindingMaxWrongCodesGlobal: number;
  };
  rateLimits: {
    enabled: boolean;
    classes: Record<RateClass, { points: number; durationSeconds: number }>;
    /** Classes refused (503) rather than let through while Redis is unreachable. */
    failClosed: RateClass[];
  };
  /** Bearer token for GET /metrics; unset: /metrics answers 404. */
  metricsToken?: string;
  booking: {
    /** A room booking with no check-in this long after start is released. */
    noShowReleaseMinutes: number;
    /** This many no-shows within noShowWindowDays block new bookings for noShowBlockDays. */
    noShowLimit: number;
    noShowWindowDays: number;
    noShowBlockDays: number;
    /** Staff may book a weekly series this many weeks ahead, past a room's maxAdvanceDays (a term). */
    seriesMaxWeeks: number;
  };
  /** Volunteer tasks (志愿服务): every rule's number. */
  volunteers: {
    /** A claim released later than this before the start counts as an absence. */
    releaseCutoffHours: number;
    /** Check-in opens this long before the start. */
    checkInOpensMinutes: number;
    /** Hours count only if attendance covers at least this share of the planned time. */
    minAttendancePercent: number;
    /** Not checked out this long after the end: checked out at the planned end and flagged. */
    autoCheckOutHours: number;
    pointsPerHour: number;
    /** Total approved hours for star levels 1, 2, 3… (ascending). */
    starHours: number[];
    /** This many unexcused absences in one calendar year suspend the volunteer. */
    absenceLimit: number;
  };
  /** Childcare (社区托育) rules; see README "Childcare". */
  childcare: {
    /** Book by this time (HH:mm, Shanghai) on the day before the session. */
    bookingCutoff: string;
    /** Cancel by this time on the day before; later cancellations count like no-shows. */
    cancelCutoff: string;
    /** Bookings per child per calendar month. */
    monthlyLimit: number;
    /** This many no-shows or late cancellations within noShowWindowDays block booking for noShowBlockDays. */
    noShowLimit: number;
    noShowWindowDays: number;
    noShowBlockDays: number;
    /** A booking with no drop-off this long after the start is a no-show. */
    noShowReleaseMinutes: number;
    /** How long a waitlist offer stays open… */
    offerMinutes: number;
    /** …but never later than this long before the session starts (no offer after that). */
    offerCloseMinutes: number;
    /** A morning temperature at or above this turns the child away at drop-off. */
    feverCelsius: number;
  };
  outbox: {
    /** Attempts of a notification before it is dead-lettered. */
    maxAttempts: number;
    /** Attempt n is retried after base · 2^(n-1) seconds, at most retryMaxSeconds. */
    retryBaseSeconds: number;
    retryMaxSeconds: number;
    /** Notifications a dispatcher takes from Redis at a time. */
    batchSize: number;
    /** How far back (by due time) the reconcile job looks for notifications still to send. */
    reconcileWindowDays: number;
    /** Notifications due longer ago than this are deleted with their delivery records. */
    retentionDays: number;
  };
  jobs: {
    /** Expiry of a job's Redis lock: longer than its longest run. */
    lockTtlSeconds: number;
    /** Job run records older than this are deleted. */
    runRetentionDays: number;
  };
  reminders: {
    /** The evening-before reminder's time (HH:mm, Asia/Shanghai). */
    eveningTime: string;
  };
  meals: {
    /** Default order cut-offs, 'HH:mm' on the day of the meal (a kitchen may set its own). */
    cutoffs: { lunch: string; dinner: string };
    /** Most portions one order may hold. */
    maxQuantity: number;
    /** Age from which 送餐上门 needs no tag or staff approval. */
    deliveryMinAge: number;
    /** How many days ahead recurring orders are placed (from today, Shanghai). */
    recurringDaysAhead: number;
  };
  wechat: {
    /** WeChat's API origin; unset with WECHAT_STAND_IN: the local stand-in's. */
    apiBaseUrl?: string;
    appId: string;
    appSecret: string;
    /** Run the local stand-in that answers like WeChat (demo and development). */
    standIn: boolean;
    standInPort: number;
    /** Subscribe-message template of booking reminders; unset: reminders go by bot only. */
    reminderTemplateId?: string;
  };
  urgent: {
    /** An urgent alert nobody acknowledged this long after it was raised goes to the admins. */
    escalateAfterMinutes: number;
    /** The duty phone given in urgent replies when the community has none of its own ('' = none). */
    dutyPhone: string;
  };
  wechaty: {
    puppet: string;
    token?: string;
    name: string;
    /** Topic of the volunteers' WeChat group: new and unfilled tasks are posted there. */
    volunteerGroup: string;
    /** Turns (messages being answered) one bot process works on at once; later ones wait in order. */
    concurrentTurns: number;
  };
}

const boolean = Joi.boolean().truthy('1', 'yes', 'on').falsy('0', 'no', 'off');

/**
 * The environment variables, their defaults and what makes them valid.
 * `.env.example` lists the same variables; keep the two in step.
 */
const envSchema = Joi.object({
  NODE_ENV: Joi.string().valid('development', 'test', 'production').default('development'),
  PORT: Joi.number().port().default(3000),
  HOST: Joi.string().hostname().default('0.0.0.0'),
  LOG_LEVEL: Joi.string().valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').default('info'),
  ROLES: Joi.string()
    .pattern(new RegExp(`^(${ROLES.join('|')})(,(${ROLES.join('|')}))*$`))
    .default(ROLES.join(','))
    .messages({ 'string.pattern.base': `must be a comma-separated list of ${ROLES.join(', ')}` }),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(100).max(120_000).default(10_000),
  BODY_LIMIT: Joi.string().pattern(/^\d+(b|kb|mb)$/i).default('100kb'),
  CORS_ORIGINS: Joi.string().allow('').default('https://servicewechat.com'),
  TRUST_PROXY: boolean.default(false),
  MONGODB_URI: Joi.string().uri({ scheme: ['mongodb', 'mongodb+srv'] }),
  MONGODB_DB: Joi.string().pattern(/^[A-Za-z0-9_-]{1,63}$/).default('community_service'),
  MONGODB_MAX_POOL_SIZE: Joi.number().integer().min(1).max(500).default(20),
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: Joi.number().integer().min(100).max(60_000).default(5_000),
  FERRETDB_HANDLER: Joi.string().valid('sqlite', 'postgresql').default('postgresql'),
  FERRETDB_PORT: Joi.number().port().default(27018),
  // Unset with the postgresql handler: a private cluster under DATA_DIR/postgres is provisioned.
  FERRETDB_POSTGRESQL_URL: Joi.string().uri({ scheme: ['postgres', 'postgresql'] }),
  FERRETDB_BIN: Joi.string(),
  FERRETDB_GOGC: Joi.number().integer().min(25).max(10_000).default(DEFAULT_FERRETDB_GOGC),
  POSTGRES_BIN_DIR: Joi.string(),
  REDIS_URL: Joi.string().uri({ scheme: ['redis', 'rediss'] }).default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: Joi.string().pattern(/^[A-Za-z0-9_.-]{1,40}:$/).default('csb:')
    .messages({ 'string.pattern.base': 'must be letters, digits, "_", "." or "-" ending with ":" (e.g. "csb-prod:")' }),
  REDIS_START_LOCAL: boolean,
  DATA_DIR: Joi.string().default('.data'),
  CACHE_DIR: Joi.string(),
  SEED_DEMO: boolean,
  DEMO_PASSWORD: Joi.string().min(8).max(128).default('demo-2026'),
  JWT_SECRET: Joi.string().min(32).when('NODE_ENV', { is: 'production', then: Joi.required() }),
  ACCESS_TOKEN_TTL_SECONDS: Joi.number().integer().min(60).max(86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: Joi.number().integer().min(1).max(365).default(30),
  STAFF_LOGIN_MAX_FAILURES: Joi.number().integer().min(1).max(100).default(5),
  STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS: Joi.number().integer().min(1).max(10_000).default(20),
  STAFF_LOCKOUT_MINUTES: Joi.number().integer().min(1).max(1_440).default(15),
  BINDING_CODE_TTL_MINUTES: Joi.number().integer().min(1).max(60).default(10),
  BINDING_MAX_ATTEMPTS: Joi.number().integer().min(1).max(50).default(5),
  BINDING_MAX_WRONG_CODES_GLOBAL: Joi.number().integer().min(1).max(100_000).default(50),
  RATE_LIMIT_ENABLED: boolean.default(true),
  ...Object.fromEntries(
    RATE_CLASSES.map((c) => [
      `RATE_LIMIT_${c.toUpperCase()}`,
      Joi.string().pattern(/^\d{1,6}\/\d{1,6}$/).default(RATE_LIMIT_DEFAULTS[c])
        .messages({ 'string.pattern.base': 'must be requests/seconds, e.g. 60/60' }),
    ]),
  ),
  RATE_LIMIT_FAIL_CLOSED: Joi.string()
    .pattern(new RegExp(`^((${RATE_CLASSES.join('|')})(,(${RATE_CLASSES.join('|')}))*)?$`))
    .allow('')
    .default('login,binding,booking')
    .messages({ 'string.pattern.base': `must be a comma-separated list of ${RATE_CLASSES.join(', ')}` }),
  METRICS_TOKEN: Joi.string().min(16),
  NO_SHOW_RELEASE_MINUTES: Joi.number().integer().min(1).max(240).default(15),
  NO_SHOW_LIMIT: Joi.number().integer().min(1).max(100).default(3),
  NO_SHOW_WINDOW_DAYS: Joi.number().integer().min(1).max(365).default(30),
  NO_SHOW_BLOCK_DAYS: Joi.number().integer().min(1).max(365).default(14),
  SERIES_MAX_WEEKS: Joi.number().integer().min(2).max(26).default(20),
  VOLUNTEER_RELEASE_CUTOFF_HOURS: Joi.number().min(0).max(168).default(VOLUNTEER_DEFAULTS.releaseCutoffHours),
  VOLUNTEER_CHECK_IN_OPENS_MINUTES: Joi.number().integer().min(0).max(720).default(VOLUNTEER_DEFAULTS.checkInOpensMinutes),
  VOLUNTEER_MIN_ATTENDANCE_PERCENT: Joi.number().integer().min(1).max(100).default(VOLUNTEER_DEFAULTS.minAttendancePercent),
  VOLUNTEER_AUTO_CHECK_OUT_HOURS: Joi.number().min(0).max(48).default(VOLUNTEER_DEFAULTS.autoCheckOutHours),
  VOLUNTEER_POINTS_PER_HOUR: Joi.number().integer().min(0).max(1000).default(VOLUNTEER_DEFAULTS.pointsPerHour),
  VOLUNTEER_STAR_HOURS: Joi.string()
    .pattern(/^\d{1,5}(,\d{1,5})*$/)
    .default(VOLUNTEER_DEFAULTS.starHours.join(','))
    .custom((value: string, helpers) => {
      const hours = value.split(',').map(Number);
      return hours.every((h, i) => i === 0 || h > hours[i - 1]!) ? value : helpers.error('any.invalid');
    })
    .messages({ 'string.pattern.base': 'must be ascending hours, comma-separated, e.g. 100,300,600,1000,1500', 'any.invalid': 'must be ascending hours, comma-separated, e.g. 100,300,600,1000,1500' }),
  VOLUNTEER_ABSENCE_LIMIT: Joi.number().integer().min(1).max(100).default(VOLUNTEER_DEFAULTS.absenceLimit),
  CHILDCARE_BOOKING_CUTOFF: Joi.string().pattern(/^(?:[01]\d|2[0-3]):[0-5]\d$/).default('17:00')
    .messages({ 'string.pattern.base': 'must be HH:mm, e.g. 17:00' }),
  CHILDCARE_CANCEL_CUTOFF: Joi.string().pattern(/^(?:[01]\d|2[0-3]):[0-5]\d$/).default('12:00')
    .messages({ 'string.pattern.base': 'must be HH:mm, e.g. 12:00' }),
  CHILDCARE_MONTHLY_LIMIT: Joi.number().integer().min(1).max(31).default(10),
  CHILDCARE_NO_SHOW_LIMIT: Joi.number().integer().min(1).max(100).default(2),
  CHILDCARE_NO_SHOW_WINDOW_DAYS: Joi.number().integer().min(1).max(365).default(60),
  CHILDCARE_NO_SHOW_BLOCK_DAYS: Joi.number().integer().min(1).max(365).default(60),
  CHILDCARE_NO_SHOW_RELEASE_MINUTES: Joi.number().integer().min(1).max(240).default(30),
  CHILDCARE_OFFER_MINUTES: Joi.number().integer().min(5).max(24 * 60).default(120),
  CHILDCARE_OFFER_CLOSE_MINUTES: Joi.number().integer().min(0).max(24 * 60).default(60),
  CHILDCARE_FEVER_CELSIUS: Joi.number().min(36).max(40).default(37.3),
  OUTBOX_MAX_ATTEMPTS: Joi.number().integer().min(1).max(20).default(5),
  OUTBOX_RETRY_BASE_SECONDS: Joi.number().integer().min(1).max(3_600).default(60),
  OUTBOX_RETRY_MAX_SECONDS: Joi.number().integer().min(1).max(86_400).default(3_600),
  OUTBOX_BATCH_SIZE: Joi.number().integer().min(1).max(5_000).default(500),
  OUTBOX_RECONCILE_WINDOW_DAYS: Joi.number().integer().min(1).max(90).default(7),
  // Longer than the reconcile window, so nothing still to send is deleted.
  NOTIFICATION_RETENTION_DAYS: Joi.number().integer().min(Joi.ref('OUTBOX_RECONCILE_WINDOW_DAYS', { adjust: (d: number) => d + 1 })).max(3_650).default(90)
    .messages({ 'number.min': 'must be longer than OUTBOX_RECONCILE_WINDOW_DAYS' }),
  JOB_LOCK_TTL_SECONDS: Joi.number().integer().min(5).max(3_600).default(300),
  JOB_RUN_RETENTION_DAYS: Joi.number().integer().min(1).max(365).default(14),
  REMINDER_EVENING_TIME: Joi.string().pattern(/^([01]\d|2[0-3]):[0-5]\d$/).default('20:00')
    .messages({ 'string.pattern.base': 'must be HH:mm, e.g. 20:00' }),
  WECHAT_REMINDER_TEMPLATE_ID: Joi.string().pattern(/^[A-Za-z0-9_-]{1,128}$/),
  MEAL_CUTOFF_LUNCH: Joi.string().pattern(/^([01]\d|2[0-3]):[0-5]\d$/).default('09:30')
    .messages({ 'string.pattern.base': 'must be HH:mm, e.g. 09:30' }),
  MEAL_CUTOFF_DINNER: Joi.string().pattern(/^([01]\d|2[0-3]):[0-5]\d$/).default('15:00')
    .messages({ 'string.pattern.base': 'must be HH:mm, e.g. 15:00' }),
  MEAL_MAX_QUANTITY: Joi.number().integer().min(1).max(20).default(3),
  MEAL_DELIVERY_MIN_AGE: Joi.number().integer().min(0).max(120).default(80),
  MEAL_RECURRING_DAYS_AHEAD: Joi.number().integer().min(0).max(14).default(2),
  WECHAT_API_BASE_URL: Joi.string().uri({ scheme: ['http', 'https'] }),
  WECHAT_APPID: Joi.string().pattern(/^[A-Za-z0-9_-]{4,64}$/)
    .when('NODE_ENV', { is: 'production', then: Joi.required(), otherwise: Joi.optional().default('wx-demo-appid') }),
  WECHAT_APP_SECRET: Joi.string().min(8)
    .when('NODE_ENV', { is: 'production', then: Joi.required(), otherwise: Joi.optional().default('demo-app-secret') }),
  WECHAT_STAND_IN: boolean,
  WECHAT_STAND_IN_PORT: Joi.number().port().default(3001),
  WECHATY_PUPPET: Joi.string().default('wechaty-puppet-mock'),
  WECHATY_PUPPET_SERVICE_TOKEN: Joi.string(),
  WECHATY_NAME: Joi.string().pattern(/^[A-Za-z0-9_-]+$/).default('community-service-bot'),
  BOT_VOLUNTEER_GROUP: Joi.string().max(60).default('社区志愿者群'),
  BOT_CONCURRENT_TURNS: Joi.number().integer().min(1).max(1_000).default(16),
  URGENT_ESCALATE_AFTER_MINUTES: Joi.number().integer().min(1).max(120).default(5),
  URGENT_DUTY_PHONE: Joi.string().allow('').pattern(/^[0-9-]{3,20}$/).default(''),
}).unknown(true);

/** The names of every variable the service reads (`.env.example` must list each). */
export const CONFIG_VARIABLES: string[] = Object.keys(
  (envSchema.describe() as { keys: Record<string, unknown> }).keys,
);

/** Raised at start when the environment is not usable; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee .env.example for every variable.`);
    this.name = 'ConfigError';
  }
}

function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME || path.join(env.HOME || '/tmp', '.cache');
  return path.join(base, 'community-service-booking');
}

/** Validates an environment and returns the typed configuration, or throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const { value: v, error } = envSchema.validate(env, { abortEarly: false, convert: true });
  if (error) {
    throw new ConfigError(error.details.map((d) => `${d.path.join('.')}: ${d.message.replace(/^"[^"]+" /, '')}`));
  }
  const nodeEnv = v.NODE_ENV as Config['env'];
  const redisUrl = new URL(v.REDIS_URL as string);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(redisUrl.hostname);
  const dataDir = path.resolve(v.DATA_DIR as string);
  const standIn: boolean = v.WECHAT_STAND_IN ?? (nodeEnv === 'development' && !v.WECHAT_API_BASE_URL);
  return Object.freeze({
    env: nodeEnv,
    port: v.PORT,
    host: v.HOST,
    logLevel: v.LOG_LEVEL,
    roles: [...new Set((v.ROLES as string).split(','))] as Role[],
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    http: {
      bodyLimit: v.BODY_LIMIT,
      corsOrigins: (v.CORS_ORIGINS as string).split(',').map((o) => o.trim()).filter(Boolean),
      trustProxy: v.TRUST_PROXY,
    },
    mongo: {
      uri: v.MONGODB_URI,
      dbName: v.MONGODB_DB,
      maxPoolSize: v.MONGODB_MAX_POOL_SIZE,
      serverSelectionTimeoutMs: v.MONGODB_SERVER_SELECTION_TIMEOUT_MS,
    },
    ferretdb: {
      handler: v.FERRETDB_HANDLER,
      port: v.FERRETDB_PORT,
      postgresqlUrl: v.FERRETDB_POSTGRESQL_URL,
      binary: v.FERRETDB_BIN,
      gogc: v.FERRETDB_GOGC,
      postgresBinDir: v.POSTGRES_BIN_DIR,
    },
    redis: {
      url: v.REDIS_URL,
      keyPrefix: v.REDIS_KEY_PREFIX,
      startLocal: v.REDIS_START_LOCAL ?? (loopback && nodeEnv !== 'production'),
    },
    dataDir,
    cacheDir: v.CACHE_DIR ? path.resolve(v.CACHE_DIR) : defaultCacheDir(env),
    seedDemo: v.SEED_DEMO ?? nodeEnv === 'development',
    demoPassword: v.DEMO_PASSWORD,
    auth: {
      jwtSecret: v.JWT_SECRET,
      accessTokenTtlSeconds: v.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlDays: v.REFRESH_TOKEN_TTL_DAYS,
      staffMaxFailures: v.STAFF_LOGIN_MAX_FAILURES,
      staffMaxFailuresPerAddress: v.STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS,
      staffLockoutMinutes: v.STAFF_LOCKOUT_MINUTES,
      bindingCodeTtlMinutes: v.BINDING_CODE_TTL_MINUTES,
      bindingMaxAttempts: v.BINDING_MAX_ATTEMPTS,
      bindingMaxWrongCodesGlobal: v.BINDING_MAX_WRONG_CODES_GLOBAL,
    },
    rateLimits: {
      enabled: v.RATE_LIMIT_ENABLED,
      classes: Object.fromEntries(
        RATE_CLASSES.map((c) => {
          const [points, durationSeconds] = (v[`RATE_LIMIT_${c.toUpperCase()}`] as string).split('/').map(Number);
          return [c, { points: points!, durationSeconds: durationSeconds! }];
        }),
      ) as Config['rateLimits']['classes'],
      failClosed: (v.RATE_LIMIT_FAIL_CLOSED as string).split(',').filter(Boolean) as RateClass[],
    },
    metricsToken: v.METRICS_TOKEN,
    booking: {
      noShowReleaseMinutes: v.NO_SHOW_RELEASE_MINUTES,
      noShowLimit: v.NO_SHOW_LIMIT,
      noShowWindowDays: v.NO_SHOW_WINDOW_DAYS,
      noShowBlockDays: v.NO_SHOW_BLOCK_DAYS,
      seriesMaxWeeks: v.SERIES_MAX_WEEKS,
    },
    volunteers: {
      releaseCutoffHours: v.VOLUNTEER_RELEASE_CUTOFF_HOURS,
      checkInOpensMinutes: v.VOLUNTEER_CHECK_IN_OPENS_MINUTES,
      minAttendancePercent: v.VOLUNTEER_MIN_ATTENDANCE_PERCENT,
      autoCheckOutHours: v.VOLUNTEER_AUTO_CHECK_OUT_HOURS,
      pointsPerHour: v.VOLUNTEER_POINTS_PER_HOUR,
      starHours: (v.VOLUNTEER_STAR_HOURS as string).split(',').map(Number),
      absenceLimit: v.VOLUNTEER_ABSENCE_LIMIT,
    },
    childcare: {
      bookingCutoff: v.CHILDCARE_BOOKING_CUTOFF,
      cancelCutoff: v.CHILDCARE_CANCEL_CUTOFF,
      monthlyLimit: v.CHILDCARE_MONTHLY_LIMIT,
      noShowLimit: v.CHILDCARE_NO_SHOW_LIMIT,
      noShowWindowDays: v.CHILDCARE_NO_SHOW_WINDOW_DAYS,
      noShowBlockDays: v.CHILDCARE_NO_SHOW_BLOCK_DAYS,
      noShowReleaseMinutes: v.CHILDCARE_NO_SHOW_RELEASE_MINUTES,
      offerMinutes: v.CHILDCARE_OFFER_MINUTES,
      offerCloseMinutes: v.CHILDCARE_OFFER_CLOSE_MINUTES,
      feverCelsius: v.CHILDCARE_FEVER_CELSIUS,
    },
    outbox: {
      maxAttempts: v.OUTBOX_MAX_ATTEMPTS,
      retryBaseSeconds: v.OUTBOX_RETRY_BASE_SECONDS,
      retryMaxSeconds: v.OUTBOX_RETRY_MAX_SECONDS,
      batchSize: v.OUTBOX_BATCH_SIZE,
      reconcileWindowDays: v.OUTBOX_RECONCILE_WINDOW_DAYS,
      retentionDays: v.NOTIFICATION_RETENTION_DAYS,
    },
    jobs: {
      lockTtlSeconds: v.JOB_LOCK_TTL_SECONDS,
      runRetentionDays: v.JOB_RUN_RETENTION_DAYS,
    },
    reminders: {
      eveningTime: v.REMINDER_EVENING_TIME,
    },
    meals: {
      cutoffs: { lunch: v.MEAL_CUTOFF_LUNCH, dinner: v.MEAL_CUTOFF_DINNER },
      maxQuantity: v.MEAL_MAX_QUANTITY,
      deliveryMinAge: v.MEAL_DELIVERY_MIN_AGE,
      recurringDaysAhead: v.MEAL_RECURRING_DAYS_AHEAD,
    },
    wechat: {
      apiBaseUrl: v.WECHAT_API_BASE_URL ?? (standIn ? undefined : 'https://api.weixin.qq.com'),
      appId: v.WECHAT_APPID,
      appSecret: v.WECHAT_APP_SECRET,
      standIn,
      standInPort: v.WECHAT_STAND_IN_PORT,
      reminderTemplateId: v.WECHAT_REMINDER_TEMPLATE_ID,
    },
    urgent: {
      escalateAfterMinutes: v.URGENT_ESCALATE_AFTER_MINUTES,
      dutyPhone: v.URGENT_DUTY_PHONE,
    },
    wechaty: {
      puppet: v.WECHATY_PUPPET,
      token: v.WECHATY_PUPPET_SERVICE_TOKEN,
      name: v.WECHATY_NAME,
      volunteerGroup: v.BOT_VOLUNTEER_GROUP,
      concurrentTurns: v.BOT_CONCURRENT_TURNS,
    },
  });
}
