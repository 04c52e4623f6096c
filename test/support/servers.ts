import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { ensureFerretDbBinary, startFerretDb, type RunningFerretDb } from '../../src/storage/ferretdb.js';
import { startRedisServer, type RunningRedisServer } from '../../src/storage/redis.js';

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A FerretDB of the test's own, on SQLite in a temporary folder: `stop()` and `restart()`
 * (same port, same data) let a test take the database away and bring it back.
 */
export async function startOwnFerretDb(): Promise<RunningFerretDb & { restart(): Promise<void>; dispose(): Promise<void> }> {
  const binary = process.env.FERRETDB_BIN ?? (await ensureFerretDbBinary(loadConfig(process.env).cacheDir));
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'csb-ferretdb-'));
  let running = await startFerretDb({ binary, port: 0, handler: 'sqlite', dataDir });
  const port = running.port;
  const handle = {
    get uri() {
      return running.uri;
    },
    get process() {
      return running.process;
    },
    port,
    stop: () => running.stop(),
    async restart() {
      running = await startFerretDb({ binary, port, handler: 'sqlite', dataDir });
    },
    async dispose() {
      await running.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** A redis-server of the test's own on a free port, that a test may stop and start again. */
export async function startOwnRedis(): Promise<RunningRedisServer & { restart(): Promise<void> }> {
  const port = await freePort();
  let running = await startRedisServer(port);
  return {
    port,
    get process() {
      return running.process;
    },
    stop: () => running.stop(),
    async restart() {
      running = await startRedisServer(port);
    },
  };
}
