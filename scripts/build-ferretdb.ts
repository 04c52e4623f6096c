/**
 * Builds (once) the FerretDB v1.24 launcher into the cache folder and prints its path and
 * how long the build took. `npm start` and `npm test` do the same on first use; CI calls this
 * first so the build time shows on its own.
 */
import { existsSync } from 'node:fs';
import { configFromEnvironment } from '../src/runtime/cli.js';
import { ensureFerretDbBinary, ferretDbBinaryPath } from '../src/storage/ferretdb.js';

const { cacheDir } = configFromEnvironment();
const cached = existsSync(await ferretDbBinaryPath(cacheDir));
const started = Date.now();
const binary = await ensureFerretDbBinary(cacheDir);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(cached ? `FerretDB launcher already built: ${binary}` : `FerretDB launcher built in ${seconds} s: ${binary}`);
