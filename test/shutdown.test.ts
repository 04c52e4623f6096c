import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { expect } from 'chai';
import { serviceEnv, spawnMain, waitForLog } from './support/process.js';
import { freePort } from './support/servers.js';
import { useCleanStorage } from './support/storage.js';

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

describe('SIGTERM', () => {
  useCleanStorage();

  it('drains an in-flight request, refuses new connections, then exits 0', async () => {
    const port = await freePort();
    const child = spawnMain(['--role', 'api'], serviceEnv({ PORT: String(port), HOST: '127.0.0.1' }));
    try {
      await waitForLog(child, 'API listening');

      // A request whose body is still arriving is in flight: its handler is waiting on it.
      const body = JSON.stringify({ note: 'in flight' });
      const socket = net.connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      let response = '';
      socket.on('data', (d) => (response += d.toString()));
      const closed = new Promise((r) => socket.once('close', r));
      socket.write(
        `POST /api/v1/slow HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
      );
      socket.write(body.slice(0, 5));
      await new Promise((r) => setTimeout(r, 200));

      const stopping = waitForLog(child, 'shutting down');
      child.kill('SIGTERM');
      await stopping;

      // Draining: no new connections, but the process waits for the request in flight.
      const refused = await new Promise<boolean>((resolve) => {
        const probe = net.connect(port, '127.0.0.1');
        probe.once('connect', () => (probe.destroy(), resolve(false)));
        probe.once('error', () => resolve(true));
      });
      expect(refused, 'a new connection after SIGTERM').to.equal(true);
      expect(child.exitCode, 'still running while a request is in flight').to.equal(null);

      socket.write(body.slice(5));
      await closed;
      expect(response).to.match(/^HTTP\/1\.1 404 /);
      expect(response).to.match(/connection: close/i);
      expect(response).to.include('"code":"route_not_found"');
      expect(await exitOf(child)).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
