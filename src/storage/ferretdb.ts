import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Logger } from '../logger.js';

export const FERRETDB_VERSION = 'v1.24.0';
const LAUNCHER_DIR = fileURLToPath(new URL('../../scripts/ferretdb/', import.meta.url));
const run = promisify(execFile);

/**
 * Where the built launcher is cached: keyed by FerretDB's version and a hash of the
 * launcher's sources, so a change to either rebuilds and nothing stale is ever run.
 */
export async function ferretDbBinaryPath(cacheDir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) hash.update(await readFile(path.join(LAUNCHER_DIR, file)));
  return path.join(cacheDir, `ferretdb-${FERRETDB_VERSION}-${hash.digest('hex').slice(0, 12)}`, 'ferretdb');
}

/**
 * Returns the path of a FerretDB launcher, building it with the Go toolchain on first use
 * (about a minute; modules come from the Go module proxy). Concurrent callers are safe: each
 * builds to its own temporary name and the rename into place is atomic.
 */
export async function ensureFerretDbBinary(cacheDir: string, log?: Logger): Promise<string> {
  const binary = await ferretDbBinaryPath(cacheDir);
  if (existsSync(binary)) return binary;
  await mkdir(path.dirname(binary), { recursive: true });
  const temporary = `${binary}.${process.pid}.tmp`;
  log?.info({ binary }, `building FerretDB ${FERRETDB_VERSION} launcher (first run only)`);
  const started = Date.now();
  try {
    await run(goBinary(), ['build', '-trimpath', '-o', temporary, '.'], {
      cwd: LAUNCHER_DIR,
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    await rm(temporary, { force: true });
    const e = err as { code?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('Go toolchain not found: install Go (https://go.dev/dl) or set MONGODB_URI to a MongoDB server');
    }
    throw new Error(`building FerretDB failed:\n${e.stderr ?? String(err)}`);
  }
  await rename(temporary, binary);
  log?.info({ seconds: (Date.now() - started) / 1000 }, 'FerretDB launcher built');
  return binary;
}

/** `go` from PATH, else the toolchain's usual place on these machines. */
function goBinary(): string {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).some((dir) => existsSync(path.join(dir, 'go')));
  return onPath || !existsSync('/usr/local/go/bin/go') ? 'go' : '/usr/local/go/bin/go';
}

export interface FerretDbOptions {
  binary: string;
  /** 0 picks a free port; the real one is in the returned uri. */
  port: number;
  handler: 'sqlite' | 'postgresql';
  /** SQLite: folder for the database files (created if missing). */
  dataDir?: string;
  postgresqlUrl?: string;
  /** Go's GOGC for FerretDB (FERRETDB_GOGC); default DEFAULT_FERRETDB_GOGC. */
  gogc?: number;
  log?: Logger;
}

/**
 * FerretDB's heap is small (tens of MB) and short-lived garbage is most of what it makes: at
 * Go's default (100) its collector was about a third of its CPU under the bot's load. At 400
 * it collects four times less often for a heap up to five times its live size, still small
 * (docs/performance.md).
 */
export const DEFAULT_FERRETDB_GOGC = 400;

export interface RunningFerretDb {
  /** mongodb://127.0.0.1:PORT/ */
  uri: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts FerretDB and resolves once it accepts connections (it prints "ready <uri>"). */
export async function startFerretDb(opts: FerretDbOptions): Promise<RunningFerretDb> {
  const args = [`--listen-addr=127.0.0.1:${opts.port}`, `--handler=${opts.handler}`, '--log-level=warn'];
  if (opts.handler === 'sqlite') {
    if (!opts.dataDir) throw new Error('FerretDB with SQLite needs a data folder');
    await mkdir(opts.dataDir, { recursive: true });
    args.push(`--sqlite-url=file:${path.resolve(opts.dataDir)}/`);
  } else {
    if (!opts.postgresqlUrl) throw new Error('FerretDB with PostgreSQL needs FERRETDB_POSTGRESQL_URL');
    args.push(`--postgresql-url=${opts.postgresqlUrl}`);
  }
  const env = { ...process.env, GOGC: String(opts.gogc ?? DEFAULT_FERRETDB_GOGC) };
  const child = spawn(opts.binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const uri = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`FerretDB did not start within 30 s:\n${stderr}`)), 30_000);
    lines.on('line', (line) => {
      if (line.startsWith('ready ')) {
        clearTimeout(timer);
        resolve(line.slice('ready '.length).trim());
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`FerretDB exited with code ${code}:\n${stderr}`));
    });
  });
  child.stdout!.resume();
  const port = Number(new URL(uri).port);
  opts.log?.info({ port, handler: opts.handler, pid: child.pid }, 'FerretDB started');

  return {
    uri,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
