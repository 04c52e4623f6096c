import type { Socket } from 'node:net';

const COALESCING = Symbol('coalescing writes');

/**
 * Makes the writes a socket gets within one tick leave together, in one system call (writev),
 * instead of one call each. Under load the bot's turns resume together when Redis answers
 * (one read brings many replies), and each sends its next command in that same tick: a
 * socket write per command was a sixth of the bot's CPU (docs/performance.md). Unlike
 * ioredis's enableAutoPipelining, each command keeps its own reply (no batch waits for its
 * slowest command) and nothing in ioredis changes; the bytes are the same, only the number of
 * writes is. Idempotent per socket.
 */
export function coalesceWrites(socket: Socket): void {
  const marked = socket as Socket & { [COALESCING]?: true };
  if (marked[COALESCING]) return;
  marked[COALESCING] = true;
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function coalescedWrite(this: Socket, ...args: unknown[]) {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket['write'];
}
