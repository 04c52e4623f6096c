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
 * asked to, it is started again (same port, same data) with a capped backoff until it comes
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
      try {
        const next = await restart();
        if (stopping) {
          await next.stop();
          return;
        }
        current = next;
        watch(next);
        log.info({ server: name, attempt, downMs: Date.now() - lostAt }, `${name} recovered`);
        return;
      } catch (err) {
        log.warn({ server: name, attempt, err: { message: (err as Error).message } }, `${name} did not restart yet`);
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5_000)));
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
