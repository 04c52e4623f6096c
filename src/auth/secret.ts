import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';

/**
 * The access-token key: JWT_SECRET when set (always, in production). Otherwise a random key
 * created once under DATA_DIR/secrets/ (mode 600, outside git), so a local run needs no
 * setup, restarts keep sessions, and every role's process started on that folder agrees.
 */
export async function resolveJwtSecret(config: Pick<Config, 'auth' | 'dataDir'>): Promise<string> {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  const file = path.join(config.dataDir, 'secrets', 'jwt-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const secret = randomBytes(48).toString('base64url');
    // 'wx' fails if another process wrote it first; then theirs is the one to use.
    await writeFile(file, secret, { mode: 0o600, flag: 'wx' }).catch(() => undefined);
    return (await readFile(file, 'utf8')).trim();
  }
}
