import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { TEST_JWT_SECRET } from './support/env.js';
import { spawnMain, waitForLog } from './support/process.js';
import { freePort } from './support/servers.js';
import { useCleanStorage } from './support/storage.js';

/** Polls until `check` passes. */
async function eventually(check: () => Promise<void>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * The service on its real embedded defaults (nothing configured but ports and folders): it
 * provisions FerretDB on a private PostgreSQL (SQLite when the run has FERRETDB_HANDLER=sqlite)
 * and a redis-server, and keeps them running. The test sets its own environment, so it runs
 * the embedded path whatever servers the rest of the run uses.
 */
const sqlite = process.env.FERRETDB_HANDLER === 'sqlite';

describe('supervision of the embedded servers', function () {
  useCleanStorage();
  this.timeout(240_000);
  let child: ChildProcess;
  let dataDir: string;
  let base: string;
  const pids: Record<string, number> = {};

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'csb-supervision-'));
    const [port, ferretPort, redisPort] = [await freePort(), await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    child = spawnMain(['--role', 'api'], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      FERRETDB_PORT: String(ferretPort),
      ...(process.env.FERRETDB_HANDLER ? { FERRETDB_HANDLER: process.env.FERRETDB_HANDLER } : {}),
      ...(process.env.FERRETDB_BIN ? { FERRETDB_BIN: process.env.FERRETDB_BIN } : {}),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      REDIS_START_LOCAL: 'true',
      SEED_DEMO: 'false',
      JWT_SECRET: TEST_JWT_SECRET,
    });
    const logs = {
      PostgreSQL: waitForLog(child, 'private PostgreSQL started').catch(() => undefined),
      FerretDB: waitForLog(child, 'FerretDB started'),
      'redis-server': waitForLog(child, 'started a local redis-server'),
    };
    await waitForLog(child, 'API listening', 120_000);
    for (const [name, log] of Object.entries(logs)) {
      const entry = await log;
      if (entry) pids[name] = entry.pid as number;
    }
  });

  after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  const readyz = async () => {
    const res = await fetch(`${base}/readyz`);
    return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
  };

  const servers = [
    ['FerretDB', 'mongodb'],
    ...(sqlite ? [] : [['PostgreSQL', 'mongodb']]),
    ['redis-server', 'redis'],
  ] as const;
  for (const [name, check] of servers) {
    it(`restarts ${name} when it dies: /readyz 503 meanwhile, 200 after, no service restart`, async () => {
      expect((await readyz()).status).to.equal(200);
      const recovered = waitForLog(child, `${name} recovered`, 120_000);
      process.kill(pids[name]!, 'SIGKILL');
      await eventually(async () => {
        const { status, body } = await readyz();
        expect(status).to.equal(503);
        expect(body.checks[check]).to.equal('down');
      });
      const entry = await recovered;
      expect(entry.pid).to.be.a('number').and.not.equal(pids[name]);
      pids[name] = entry.pid as number;
      await eventually(async () => {
        expect((await readyz()).status).to.equal(200);
      });
      expect(child.exitCode).to.equal(null);
    });
  }
});
