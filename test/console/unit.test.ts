import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { useCleanStorage } from '../support/storage.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// The console's own unit tests (grid layout, forms, API client) run with Vitest, in their own
// process; this file makes them part of `npm test`.
describe('staff console unit tests (Vitest)', () => {
  useCleanStorage();

  it('pass', function () {
    const vitest = path.join(path.dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
    const run = spawnSync(process.execPath, [vitest, 'run', '--config', 'console/vite.config.ts', '--reporter=dot'], {
      cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0' },
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).to.equal(0);
  });
});
