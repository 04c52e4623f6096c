import { expect } from 'chai';
import net, { type AddressInfo, type Socket } from 'node:net';
import { coalesceWrites } from '../src/storage/coalesceWrites.js';
import { connectRedis, createRedis } from '../src/storage/redis.js';
import { testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';

/** A loopback server that keeps what each connection sent, and a client socket to it. */
async function loopback(): Promise<{ client: Socket; received: () => Promise<string>; close(): Promise<void> }> {
  let data = '';
  const server = net.createServer((s) => s.on('data', (d: Buffer) => (data += d.toString())));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  return {
    client,
    received: async () => {
      await new Promise((r) => setTimeout(r, 50));
      return data;
    },
    close: async () => {
      client.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Counts the system-level writes a socket makes: one `_write` or one `_writev` each. */
function countWrites(socket: Socket): { writes: number } {
  const counter = { writes: 0 };
  const s = socket as Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const write = s._write.bind(s);
  const writev = s._writev.bind(s);
  s._write = (...a) => {
    counter.writes += 1;
    write(...a);
  };
  s._writev = (...a) => {
    counter.writes += 1;
    writev(...a);
  };
  return counter;
}

describe('coalesceWrites (src/storage/coalesceWrites.ts)', () => {
  useCleanStorage();

  it('sends the writes of one tick in one system call, in order, and a later tick on its own', async () => {
    const { client, received, close } = await loopback();
    try {
      const counter = countWrites(client);
      coalesceWrites(client);
      coalesceWrites(client); // a second call changes nothing
      client.write('a');
      client.write(Buffer.from('b'));
      client.write('c');
      await new Promise((r) => setImmediate(r));
      expect(counter.writes).to.equal(1);
      client.write('d');
      await new Promise((r) => setImmediate(r));
      expect(counter.writes).to.equal(2);
      expect(await received()).to.equal('abcd');
    } finally {
      await close();
    }
  });

  it('without it, the same writes are one system call each (what it saves)', async () => {
    const { client, received, close } = await loopback();
    try {
      const counter = countWrites(client);
      client.write('a');
      client.write('b');
      client.write('c');
      await new Promise((r) => setImmediate(r));
      expect(counter.writes).to.equal(3);
      expect(await received()).to.equal('abc');
    } finally {
      await close();
    }
  });

  it('keeps every Redis command its own reply when many leave in one write', async () => {
    const { redisUrl, keyPrefix } = testEnvironment();
    const redis = await connectRedis(createRedis({ url: redisUrl, keyPrefix: `${keyPrefix}coalesce:` }));
    try {
      const counter = countWrites(redis.stream as Socket);
      const n = 200;
      await Promise.all(Array.from({ length: n }, (_, i) => redis.set(`k${i}`, String(i), 'EX', 60)));
      const values = await Promise.all(Array.from({ length: n }, (_, i) => redis.get(`k${i}`)));
      expect(values).to.deep.equal(Array.from({ length: n }, (_, i) => String(i)));
      // 400 commands, issued in two ticks: a handful of writes, not 400.
      expect(counter.writes).to.be.below(10);
      await redis.del(...Array.from({ length: n }, (_, i) => `k${i}`));
    } finally {
      redis.disconnect();
    }
  });
});
