import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { coalesceWrites } from './coalesceWrites.js';

export interface RedisOptions {
  url: string;
  /** Every key this deployment writes starts with it, so deployments can share one Redis. */
  keyPrefix: string;
}

/**
 * An ioredis client that reconnects forever with a capped backoff. A command issued while
 * Redis is away fails after a few retries instead of waiting without end.
 *
 * No `enableAutoPipelining`: it saved about 2% of a booking's CPU, and under load it crashed
 * the process from inside ioredis ("results[i] is not iterable", redis/ioredis#1931, with
 * rate-limiter-flexible's script), see docs/performance.md.
 */
export function createRedis(opts: RedisOptions, log?: Logger): Redis {
  const client = new Redis(opts.url, {
    keyPrefix: opts.keyPrefix,
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
  });
  // Each connection (a reconnect makes a new one) sends the commands of a tick in one write.
  client.on('connect', () => coalesceWrites(client.stream));
  let wasReady = false;
  client.on('ready', () => {
    if (wasReady) log?.info('redis reconnected');
    wasReady = true;
  });
  client.on('error', (err) => log?.warn({ err: { message: err.message } }, 'redis error'));
  return client;
}

/** Connects and waits until the client is ready. */
export async function connectRedis(client: Redis): Promise<Redis> {
  if (client.status === 'wait') await client.connect();
  return client;
}

/**
 * Deletes every key under the client's prefix (SCAN, not KEYS, so a big Redis is not
 * blocked). SCAN patterns do not get ioredis's keyPrefix, so it is added here and stripped
 * before DEL, which adds it again.
 */
export async function deleteKeysWithPrefix(client: Redis): Promise<number> {
  const prefix = client.options.keyPrefix ?? '';
  if (!prefix) throw new Error('refusing to delete every key of a Redis without a key prefix');
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await client.del(...keys.map((k) => k.slice(prefix.length)));
  } while (cursor !== '0');
  return deleted;
}

/** Whether something accepts TCP connections at host:port within `timeoutMs`. */
export function isListening(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface RunningRedisServer {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts a local `redis-server` (for the embedded default and the tests). `dataDir` keeps an
 * append-only file so demo data in Redis survives a restart; without it nothing is saved.
 */
export async function startRedisServer(port: number, dataDir?: string): Promise<RunningRedisServer> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', ''];
  if (dataDir) {
    await mkdir(dataDir, { recursive: true });
    args.push('--dir', dataDir, '--appendonly', 'yes');
  } else {
    args.push('--appendonly', 'no');
  }
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(new Error(`cannot start redis-server (${err.message}): install it (apt-get install redis-server) or set REDIS_URL`)),
    );
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (await Promise.race([isListening('127.0.0.1', port), failed])) break;
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} (port ${port} in use?)`);
    if (Date.now() > deadline) throw new Error('redis-server did not start within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
