/**
 * `npm run chat -- --as <who>`: talk to the bot in the terminal as a resident (or a volunteer,
 * a staff member…) would in WeChat, without WeChat: the real bot with the mock puppet, against
 * the local service's database and Redis (or the FerretDB under DATA_DIR, as `npm run seed`
 * uses). <who> is as for `npm run token` (scripts/people.ts): resident, elder, proxy,
 * volunteer, staff, admin, a phone number or a person id.
 *
 * Each line typed is one message; the bot's answers are printed as they come. Lines piped in
 * are sent one at a time, each after the previous answer, so a script can hold a conversation:
 *   printf '明天下午2点到4点借活动室，10个人\n确认\n' | npm run -s chat -- --as resident
 * The contact is bound to the person for this run only (its binding is removed at the end).
 */
import { createInterface } from 'node:readline';
import mongoose from 'mongoose';
import { pino } from 'pino';
import type { MessageInterface } from 'wechaty/impls';
import { startBot } from '../bots/index.js';
import { MOCK_PUPPET } from '../bots/puppet.js';
import { Identity } from '../models/index.js';
import { useReadCache } from '../src/cache/readCache.js';
import { createLogger } from '../src/logger.js';
import { configFromEnvironment } from '../src/runtime/cli.js';
import { openDatabase, provisionStorage } from '../src/runtime/storage.js';
import { connectRedis, createRedis } from '../src/storage/redis.js';
import { Refusal, findPerson, parseWho } from './people.js';

/** How long to wait for the bot's answer to a piped line before sending the next. */
const ANSWER_WAIT_MS = 15_000;

async function main(): Promise<void> {
  const who = parseWho('chat');
  const config = configFromEnvironment();
  if (config.env === 'production') throw new Refusal('refusing to run with NODE_ENV=production', 1);
  // The conversation owns stdout; the service's log lines go to stderr, warnings only.
  const logger = createLogger({ logLevel: process.env.LOG_LEVEL ? config.logLevel : 'warn' }, pino.destination({ dest: 2, sync: true }));
  const storage = await provisionStorage(config, logger);
  const redis = await connectRedis(createRedis(config.redis, logger));
  useReadCache(redis);
  await openDatabase(config, storage.mongoUri, logger, storage.postgresqlUrl);
  const bot = await startBot({ config: { ...config, wechaty: { ...config.wechaty, puppet: MOCK_PUPPET } }, logger, mongo: mongoose.connection, redis });
  const person = await findPerson(who, new Date());
  const contact = bot.mocker!.createContact({ name: person.name ?? '居民' });
  const identity = await Identity.create({ provider: 'wechat_bot', subject: contact.id, person: person._id });

  let answered: (() => void) | undefined;
  bot.wechaty.on('message', (message: MessageInterface) => {
    if (!message.self() || message.listener()?.id !== contact.id) return;
    process.stdout.write(`小助手：${message.text().replace(/\n/g, '\n        ')}\n`);
    answered?.();
  });

  const interactive = process.stdin.isTTY;
  process.stdout.write(`已作为「${person.name ?? '居民'}」（${person.roles.join('、')}）连上小助手。输入消息后回车；Ctrl-D 结束。\n`);
  const lines = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, prompt: '你：' });
  if (interactive) lines.prompt();
  try {
    for await (const line of lines) {
      const text = line.trim();
      if (text) {
        if (!interactive) process.stdout.write(`你：${text}\n`);
        const answer = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ANSWER_WAIT_MS);
          answered = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        contact.say(text).to(bot.botUser!);
        await answer;
      }
      if (interactive) lines.prompt();
    }
  } finally {
    await identity.deleteOne();
    await bot.stop();
    useReadCache(null);
    redis.disconnect();
    await mongoose.disconnect();
    await storage.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof Refusal) {
      process.stderr.write(`chat: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`chat failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
