import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logger.js';
import { freePort } from './freePort.js';
import { isListening } from './redis.js';

const run = promisify(execFile);

/** The PostgreSQL package other machines need (Debian/Ubuntu); README and docs name it too. */
export const POSTGRES_PACKAGE = 'postgresql';
/** The database FerretDB keeps its data in (one schema per MongoDB database). */
export const FERRETDB_PG_DATABASE = 'ferretdb';

/**
 * Where `initdb` and `postgres` are: the configured folder, else Debian's newest
 * /usr/lib/postgresql/<major>/bin (not on PATH there), else PATH.
 */
export function findPostgresBinDir(configured?: string): string {
  if (configured) return configured;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((d) => /^\d+$/.test(d) && existsSync(path.join(root, d, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0]) return path.join(root, majors[0], 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'initdb'))) return dir;
  }
  throw new Error(
    `PostgreSQL not found: install it (apt-get install ${POSTGRES_PACKAGE}), set POSTGRES_BIN_DIR, ` +
      'set FERRETDB_POSTGRESQL_URL to an existing server, or FERRETDB_HANDLER=sqlite',
  );
}

interface RunAs {
  uid: number;
  gid: number;
}

/**
 * PostgreSQL refuses to run as root. When we are root, the cluster runs as the `postgres`
 * user (created as a system user if missing, as the Debian package would); otherwise as us.
 */
async function unprivilegedUser(log?: Logger): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => {
    const { stdout: uid } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await lookup();
  } catch {
    log?.info('creating the system user "postgres" to run the private PostgreSQL (it refuses root)');
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return lookup();
  }
}

/** A folder the unprivileged user owns, with every parent traversable by it. */
async function prepareFolder(dir: string, runAs: RunAs | undefined, log?: Logger): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!runAs) return;
  await chown(dir, runAs.uid, runAs.gid);
  await chmod(dir, 0o700);
  // mkdtemp folders and DATA_DIR may be 0700 root: postgres must be able to pass through.
  for (let parent = path.dirname(dir); parent !== path.dirname(parent); parent = path.dirname(parent)) {
    const mode = (await stat(parent)).mode;
    if ((mode & 0o001) === 0) {
      log?.warn({ folder: parent }, 'made a folder traversable (o+x) so the postgres user can reach its cluster');
      await chmod(parent, mode | 0o001);
    }
  }
}


export interface PrivatePostgresOptions {
  /** The cluster's folder: `DATA_DIR/postgres` for the service, a temporary one for tests. */
  dataDir: string;
  binDir?: string;
  /** 0 picks a free loopback port. Restarts keep the port of the first start. */
  port?: number;
  /** Tests and benchmarks: no fsync (a crash may lose the cluster; they throw it away anyway). */
  ephemeral?: boolean;
  log?: Logger;
}

export interface RunningPostgres {
  /** postgres://postgres@127.0.0.1:PORT/ferretdb — what FerretDB is given. */
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts a private PostgreSQL cluster (created with `initdb` on first use) on loopback TCP only,
 * as a child of this process, and makes sure FerretDB's database exists. Trust auth is safe
 * here: it listens on 127.0.0.1 and the folder is readable by its owner only.
 */
export async function startPrivatePostgres(opts: PrivatePostgresOptions): Promise<RunningPostgres> {
  const bin = findPostgresBinDir(opts.binDir);
  const runAs = await unprivilegedUser(opts.log);
  const dataDir = path.resolve(opts.dataDir);
  await prepareFolder(dataDir, runAs, opts.log);
  const spawnAs = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const started = Date.now();
    await run(
      path.join(bin, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', ...(opts.ephemeral ? ['--no-sync'] : [])],
      { ...spawnAs, cwd: dataDir },
    ).catch((err: { stderr?: string }) => {
      throw new Error(`initdb of the private PostgreSQL in ${dataDir} failed:\n${err.stderr ?? String(err)}`);
    });
    opts.log?.info({ dataDir, seconds: (Date.now() - started) / 1000 }, 'created a private PostgreSQL cluster');
  }

  const port = opts.port || (await freePort());
  const settings = [
    `listen_addresses=127.0.0.1`,
    `port=${port}`,
    // No unix socket: DATA_DIR may be deeper than the 107-byte socket path limit.
    'unix_socket_directories=',
    'max_connections=200',
    // FerretDB prepares its reads with the field name as a parameter (`_jsonb->$1 @> $2`): only a
    // custom plan, made with the values, can use the jsonb indexes (storage/jsonbIndexes.ts). Left
    // to 'auto', a statement first run on a small table settles on a generic plan, a scan, for good.
    'plan_cache_mode=force_custom_plan',
    ...(opts.ephemeral ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
  ];
  const child = spawn(path.join(bin, 'postgres'), ['-D', dataDir, ...settings.flatMap((s) => ['-c', s])], {
    ...spawnAs,
    cwd: dataDir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`cannot start postgres (${err.message})`)));
    child.once('exit', (code) => reject(new Error(`postgres exited with code ${code}:\n${stderr}`)));
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + 30_000;
  while (!(await Promise.race([isListening('127.0.0.1', port), failed]))) {
    if (Date.now() > deadline) throw new Error(`postgres did not start within 30 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await ensureDatabase(bin, port, spawnAs);
  opts.log?.info({ port, dataDir, pid: child.pid }, 'private PostgreSQL started');

  return {
    url: `postgres://postgres@127.0.0.1:${port}/${FERRETDB_PG_DATABASE}`,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT'); // "fast" shutdown: ends sessions, writes a checkpoint
      const timer = setTimeout(() => child.kill('SIGQUIT'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The cluster in `dataDir` if a postgres of an earlier run still serves it (the service was
 * killed without its stop running): its postmaster.pid names the pid and the port. Reused
 * rather than fought over, like a FerretDB already on its port.
 */
export async function runningPrivatePostgres(dataDir: string): Promise<{ url: string; port: number; pid: number } | undefined> {
  let lines: string[];
  try {
    lines = (await readFile(path.join(path.resolve(dataDir), 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined; // stale: postgres removes it itself on start
  }
  if (!(await isListening('127.0.0.1', port))) return undefined;
  return { url: `postgres://postgres@127.0.0.1:${port}/${FERRETDB_PG_DATABASE}`, port, pid };
}

/** `createdb ferretdb` unless it exists; retried while the server finishes starting up. */
async function ensureDatabase(bin: string, port: number, spawnAs: object): Promise<void> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres'];
  for (let attempt = 0; ; attempt++) {
    try {
      await run(path.join(bin, 'createdb'), [...args, FERRETDB_PG_DATABASE], spawnAs);
      return;
    } catch (err) {
      const message = (err as { stderr?: string }).stderr ?? String(err);
      if (message.includes('already exists')) return;
      if (attempt >= 50) throw new Error(`cannot create the database ${FERRETDB_PG_DATABASE}:\n${message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
