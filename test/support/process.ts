import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_JWT_SECRET, testEnvironment } from './env.js';

export const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** The environment a spawned service needs to use the test servers, without seeding. */
export function serviceEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = testEnvironment();
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    MONGODB_URI: env.mongoUri,
    MONGODB_DB: env.dbName,
    REDIS_URL: env.redisUrl,
    REDIS_KEY_PREFIX: env.keyPrefix,
    SEED_DEMO: 'false',
    JWT_SECRET: TEST_JWT_SECRET,
    ...extra,
  };
}

/** Starts src/main.ts in its own process (node with the tsx loader, no wrapper in between). */
export function spawnMain(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs src/main.ts to its end (for start-up failures) and returns its exit code and output. */
export function runMain(args: string[], env: Record<string, string>) {
  const child = spawnMain(args, { PATH: process.env.PATH, HOME: process.env.HOME, ...env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resolves with the first stdout line (JSON log) whose msg matches, or rejects on exit. */
export function waitForLog(child: ChildProcess, msg: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`no "${msg}" log within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          if (entry.msg === msg) {
            clearTimeout(timer);
            resolve(entry);
          }
        } catch {
          // not a log line
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited with ${code} before "${msg}"\n${stderr}`));
    });
  });
}
