import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../config.js';

/** Runs `read`; on a ConfigError prints its message and exits 78 (EX_CONFIG), as every command does. */
export function orExitOnConfigError<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}

/**
 * The configuration of a command (the service, the seed, …): a local `.env` (see
 * .env.example) fills what the real environment leaves unset, then it is validated once.
 */
export function configFromEnvironment(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return orExitOnConfigError(() => loadConfig(process.env));
}

/** Prints a command's fatal error and exits 1. */
export function exitOnFailure(what: string) {
  return (err: unknown) => {
    process.stderr.write(`${what}: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  };
}
