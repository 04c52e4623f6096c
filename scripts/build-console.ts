/**
 * Builds the staff console (console/ → console/dist) unless the last build was of the same
 * sources: a hash of every file under console/ (except dist and tests) and of package-lock.json
 * is kept in console/dist/.source-hash. Run by `prestart` and `pretest`, so `npm install &&
 * npm start` serves the console with nothing else to run; an unchanged tree costs ~50 ms.
 *
 *   node --import tsx scripts/build-console.ts [--force]
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const consoleDir = path.join(root, 'console');
const distDir = path.join(consoleDir, 'dist');
const hashFile = path.join(distDir, '.source-hash');
const SKIP = new Set(['dist', 'tests', 'node_modules']);

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name) && dir === consoleDir) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await files(full)));
    else out.push(full);
  }
  return out.sort();
}

export async function consoleSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...(await files(consoleDir)), path.join(root, 'package-lock.json')]) {
    hash.update(path.relative(root, file)).update('\0').update(await readFile(file)).update('\0');
  }
  return hash.digest('hex');
}

export async function buildConsole({ force = false, quiet = false } = {}): Promise<'cached' | 'built'> {
  const hash = await consoleSourceHash();
  const previous = await readFile(hashFile, 'utf8').catch(() => '');
  if (!force && previous.trim() === hash) return 'cached';
  const t0 = Date.now();
  const { build } = await import('vite');
  // Vite's build sets process.env.NODE_ENV to 'production' for good; in the service or a test run
  // that builds in-process, that would change how its configuration is read afterwards.
  const nodeEnv = process.env.NODE_ENV;
  try {
    await build({ configFile: path.join(consoleDir, 'vite.config.ts'), logLevel: quiet ? 'warn' : 'info' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  await writeFile(hashFile, hash + '\n');
  if (!quiet) console.log(`console built in ${Date.now() - t0} ms → ${path.relative(root, distDir)}`);
  return 'built';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  // No top-level await: mocha's loader requires this module (test/console/browser.ts).
  buildConsole({ force: process.argv.includes('--force'), quiet: process.argv.includes('--quiet') }).then(
    (result) => {
      if (result === 'cached' && !process.argv.includes('--quiet')) console.log('console up to date (console/dist)');
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
