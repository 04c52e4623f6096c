import http from 'node:http';
import type { AddressInfo } from 'node:net';
import mongoose from 'mongoose';
import type { Redis } from 'ioredis';
import { startBot, type RunningBot } from '../../bots/index.js';
import { volunteerGroupBoard } from '../../bots/flows/volunteerGroup.js';
import { startJobs, type RunningJobs } from '../../jobs/index.js';
import '../../models/index.js';
import { createApp } from '../app.js';
import type { Config, Role } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { seedDemoIfEmpty } from '../seed/demo.js';
import { resolveJwtSecret } from '../auth/secret.js';
import { useReadCache } from '../cache/readCache.js';
import { createBotChannel, createSubscribeChannel } from '../outbox/channels.js';
import { useOutboxRedis } from '../outbox/index.js';
import { connectRedis, createRedis, isListening } from '../storage/redis.js';
import { WechatClient, startWechatStandIn, type WechatStandIn } from '../wechat/index.js';
import { openDatabase, provisionStorage } from './storage.js';

export interface RunningService {
  logger: Logger;
  /** The HTTP server when the api role runs; its address tells the port. */
  server?: http.Server;
  bot?: RunningBot;
  jobs?: RunningJobs;
  redis: Redis;
  /** Stops taking work, finishes what is in flight, closes everything. Safe to call twice. */
  stop(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Closes the HTTP server: no new connections, in-flight requests finish, keep-alives end. */
function closeServer(server: http.Server, timeoutMs: number, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      log.warn('requests still in flight at the shutdown deadline; closing their connections');
      server.closeAllConnections();
    }, timeoutMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * The local stand-in that answers like WeChat, for the demo: mini-program logins work with
 * any code (see README). One already listening on the port (another role's process) is used.
 */
async function startLocalWechatStandIn(config: Config, log: Logger): Promise<Pick<WechatStandIn, 'baseUrl' | 'close'>> {
  const { standInPort: port, appId, appSecret } = config.wechat;
  if (await isListening('127.0.0.1', port)) return { baseUrl: `http://127.0.0.1:${port}`, close: async () => undefined };
  const standIn = await startWechatStandIn({ port, appId, appSecret });
  log.info({ port }, 'WeChat stand-in listening (demo logins)');
  return standIn;
}

/**
 * Starts the roles asked for, on storage that is provisioned if not configured. The order of
 * stop() is the reverse of start: take no new work, drain, then close the connections the
 * work needed, then the servers this process started.
 */
export async function startService(config: Config, roles: Role[] = config.roles): Promise<RunningService> {
  const logger = createLogger(config);
  const storage = await provisionStorage(config, logger);
  const mongo = await openDatabase(config, storage.mongoUri, logger, storage.postgresqlUrl);
  const redis = await connectRedis(createRedis(config.redis, logger));
  useReadCache(redis);
  useOutboxRedis(redis);
  if (config.seedDemo) await seedDemoIfEmpty(logger, config.demoPassword);

  const wechatStandIn = config.wechat.standIn ? await startLocalWechatStandIn(config, logger) : undefined;
  const wechat = new WechatClient({
    baseUrl: config.wechat.apiBaseUrl ?? wechatStandIn!.baseUrl,
    appId: config.wechat.appId,
    appSecret: config.wechat.appSecret,
    logger,
  });
  const deps = { config, logger, mongo, redis, wechat, jwtSecret: await resolveJwtSecret(config) };
  let shuttingDown = false;
  let server: http.Server | undefined;
  if (roles.includes('api')) {
    const { app } = createApp({ ...deps, draining: () => shuttingDown });
    server = http.createServer(app.callback());
    server.keepAliveTimeout = 65_000; // longer than typical load balancer idle timeouts
    await listen(server, config.port, config.host);
    const { port } = server.address() as AddressInfo;
    logger.info({ port, roles }, 'API listening');
  }
  const bot = roles.includes('bot') ? await startBot(deps) : undefined;
  // The dispatcher sends bot messages only where the bot runs (see README, "Jobs, reminders
  // and the outbox"); subscribe messages from any instance.
  const channels = {
    ...(bot ? { bot: createBotChannel(bot.wechaty) } : {}),
    subscribe: createSubscribeChannel({ redis, wechat }),
  };
  const taskBoard = bot ? volunteerGroupBoard(bot.wechaty, redis, config.wechaty.volunteerGroup) : undefined;
  const jobs = roles.includes('jobs') ? startJobs({ ...deps, channels, ...(taskBoard ? { taskBoard } : {}) }) : undefined;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      shuttingDown = true;
      logger.info('shutting down');
      await Promise.all([
        server ? closeServer(server, config.shutdownTimeoutMs, logger) : undefined,
        jobs?.stop(),
        bot?.stop(),
      ]);
      await mongoose.disconnect();
      useReadCache(null);
      useOutboxRedis(null);
      await redis.quit().catch(() => redis.disconnect());
      await wechatStandIn?.close();
      await storage.stop();
      logger.info('stopped');
    })());

  return { logger, server, bot, jobs, redis, stop };
}
