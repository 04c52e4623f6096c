import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../logger.js';

export interface ChildServer {
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface Supervisor {
  /** Stops restarting, then stops the server (the one running now). */
  stop(): Promise<void>;
}

/**
 * Keeps a server the service started itself running: when its process exits without being
 * asked to, it is started again (same port, same data) after 1 s, with a backoff capped at 5 s, until it comes
 * back, and both the loss and the recovery are logged. While it is down, /readyz answers
 * 503 on its own (the driver or ioredis cannot reach it); nothing else needs to know.
 */
export function supervise<T extends ChildServer>(name: string, first: T, restart: () => Promise<T>, log: Logger): Supervisor {
  let current = first;
  let stopping = false;
  let restarting: Promise<void> | undefined;

  const watch = (server: T) => {
    server.process.once('exit', (code, signal) => {
      if (stopping || server !== current) return;
      log.error({ server: name, code, signal }, `${name} exited unexpectedly; restarting it`);
      restarting = recover();
    });
  };

  const recover = async () => {
    const lostAt = Date.now();
    for (let attempt = 1; !stopping; attempt++) {
      // 1 s before the first try, then 2, 4, 5, 5 … s: a server that crashes at once on start
      // is not hammered, and the driver and ioredis see it gone (so /readyz says 503) meanwhile.
      await new Promise((r) => setTimeout(r, Math.min(1_000 * 2 ** (attempt - 1), 5_000)));
      if (stopping) return;
      try {
        const next = await restart();
        if (stopping) {
          await next.stop();
          return;
        }
        current = next;
        watch(next);
        log.info({ server: name, attempt, downMs: Date.now() - lostAt, pid: next.process.pid }, `${name} recovered`);
        return;
      } catch (err) {
        log.warn({ server: name, attempt, err: { message: (err as Error).message } }, `${name} did not restart yet`);
      }
    }
  };

  watch(first);
  return {
    async stop() {
      stopping = true;
      await restarting;
      await current.stop();
    },
  };
}
