import { pino, type Logger, type DestinationStream } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/**
 * Fields that may hold personal data or secrets. pino replaces them wherever they appear
 * (top level or one object down), so a careless `log.info({ person })` still leaks nothing.
 * Logs carry ids, codes, counts and durations, never names, phones, addresses or tokens.
 */
const SENSITIVE_KEYS = [
  'phone', 'mobile', 'name', 'realName', 'idCard', 'address', 'birthDate',
  'password', 'passwordHash', 'token', 'accessToken', 'refreshToken', 'secret',
  'session_key', 'sessionKey', 'loginCode', 'bindingCode', 'openid', 'unionid', 'authorization', 'cookie', 'text',
];
const REDACT_PATHS = [
  ...SENSITIVE_KEYS,
  ...SENSITIVE_KEYS.map((k) => `*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/** The one root logger of a process; every other logger is a child of it. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
