/**
 * The chat bot under load (issue 9): BENCH_RESIDENTS residents (default 200) chat with the bot
 * at once through Wechaty and the mock puppet, against the real database and Redis, each
 * holding a real conversation one message after the other:
 *
 *   你好 → 后天下午X点到X+1点借活动室，5个人 → <a number> → 确认 → 我的预约
 *
 * It reports replies per second and the time from a message to its reply (p50, p99), per step
 * too, with the database operations and Redis round trips each step made (counts that do not
 * depend on the machine's load), the load average, and checks that every message got exactly
 * one reply and that no room was booked twice.
 *
 *   npm run bench:bot
 *   BENCH_RESIDENTS=400 npm run bench:bot
 *   BENCH_LOCKSTEP=1 npm run bench:bot        each step one burst of all residents, CPU per step
 *   BENCH_LOCKSTEP=1 BENCH_PROFILE_STEP=book BENCH_CPU_PROFILE=<dir> npm run bench:bot
 *   BENCH_RESIDENTS=2 BENCH_TRACE=1 npm run bench:bot   every Redis command, with its key
 *   BENCH_COUNT=0 npm run bench:bot           timings without counting round trips
 *   BENCH_THINK_MS=2000-8000 npm run bench:bot   each resident reads the answer and types the
 *       next message for a random 2–8 s (seeded) before sending it, as people do; by default
 *       (0) every resident sends the next message the instant the answer arrives, so the
 *       residents are 200 clients in a closed loop and the time to an answer is, on average,
 *       200 ÷ the answers per second (Little's law): a measure of the bot's capacity
 * It also prints the CPU ms per message of this process, FerretDB and its PostgreSQL.
 * Results: a table on stdout and bench/results/bot-chat.json.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Redis } from 'ioredis';
import mongoose from 'mongoose';
import type { MessageInterface } from 'wechaty/impls';
import { startBot } from '../bots/index.js';
import { dayjs, shanghaiDay } from '../models/calendar.js';
import { Identity, RoomBooking } from '../models/index.js';
import { envNumber, machine, round, seedFacility, startBenchEnv, startProfiler, summarize, table, writeResults, percentile, runBench } from './support.js';

const RESIDENTS = Math.round(envNumber('BENCH_RESIDENTS', 200));
const ROOMS = 50;
const REPLY_TIMEOUT_MS = 60_000;
/** BENCH_THINK_MS=<min>-<max> (or one number): a resident's pause before each message. */
const THINK_MS = (() => {
  const [min = 0, max = min] = (process.env.BENCH_THINK_MS ?? '0').split('-').map(Number);
  if (!(min >= 0 && max >= min)) throw new Error('BENCH_THINK_MS: <min>-<max> milliseconds, e.g. 2000-8000');
  return { min, max };
})();
/** The same pauses on every run (mulberry32). */
function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Round trips per step of the conversation, counted in this process (the bot runs here): every
 * database operation mongoose sends (its debug hook sees model queries and driver calls through
 * `Model.collection`) and every Redis round trip (a command, or a whole pipeline / MULTI). The
 * step is carried from `contact.say()` to the bot's handler by AsyncLocalStorage. Unlike the
 * timings, these counts do not depend on the machine's load.
 */
const stepOf = new AsyncLocalStorage<string>();
const trips: Record<string, { mongo: number; redis: number; ops: Record<string, number> }> = {};
function count(kind: 'mongo' | 'redis', op: string): void {
  const step = stepOf.getStore() ?? '(outside a message)';
  const t = (trips[step] ??= { mongo: 0, redis: 0, ops: {} });
  t[kind] += 1;
  const name = `${kind} ${op}`;
  t.ops[name] = (t.ops[name] ?? 0) + 1;
}
function countRoundTrips(redis: Redis): void {
  mongoose.set('debug', (collection: string, method: string) => count('mongo', `${collection}.${method}`));
  // Commands sent as such (src/booking/claims.ts: the claims' insert and delete), which the
  // debug hook does not see: named `<collection>.<command>`.
  const db = mongoose.connection.db!;
  const command = db.command.bind(db);
  db.command = ((cmd: Record<string, unknown>, options?: object) => {
    const name = Object.keys(cmd)[0]!;
    count('mongo', typeof cmd[name] === 'string' ? `${String(cmd[name])}.${name} (command)` : `${name} (command)`);
    return command(cmd as never, options as never);
  }) as typeof db.command;
  const pipelines = new WeakSet<object>();
  const send = redis.sendCommand.bind(redis);
  const trace = process.env.BENCH_TRACE === '1'; // BENCH_TRACE=1: every Redis command with its first key (use with few residents)
  redis.sendCommand = ((command: { name: string; args: unknown[] }, stream?: { isPipeline?: boolean }) => {
    if (trace) console.log(`  [${stepOf.getStore() ?? '-'}] redis ${command.name} ${String(command.args[0]).slice(0, 60)}${stream?.isPipeline ? ' (pipelined)' : ''}`);
    if (!stream?.isPipeline) count('redis', command.name);
    else if (!pipelines.has(stream)) {
      pipelines.add(stream);
      count('redis', `pipeline(${command.name}…)`);
    }
    return send(command as never, stream as never);
  }) as Redis['sendCommand'];
}

/**
 * CPU seconds used so far by this process and every process it started (FerretDB, its private
 * PostgreSQL and its backends, a Redis it started), by command name: what the conversations
 * cost the machine, whatever else runs on it. From /proc (Linux); {} elsewhere.
 */
async function cpuByCommand(): Promise<Record<string, number>> {
  const procs = new Map<number, { ppid: number; comm: string; own: number; children: number }>();
  let entries: string[] = [];
  try {
    entries = await readdir('/proc');
  } catch {
    return {};
  }
  await Promise.all(entries.filter((e) => /^\d+$/.test(e)).map(async (e) => {
    try {
      const stat = await readFile(`/proc/${e}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(e), { ppid: Number(f[1]), comm, own: (Number(f[11]) + Number(f[12])) / 100, children: (Number(f[13]) + Number(f[14])) / 100 });
    } catch {
      // gone meanwhile
    }
  }));
  const mine = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 10; hops += 1) {
      if (p === process.pid) return true;
      p = procs.get(p)?.ppid ?? 0;
    }
    return false;
  };
  const out: Record<string, number> = {};
  for (const [pid, p] of procs) {
    if (!mine(pid)) continue;
    const name = pid === process.pid ? 'bot (node)' : p.comm;
    out[name] = (out[name] ?? 0) + p.own + p.children;
  }
  return out;
}

async function main(): Promise<number> {
  console.log(`bot chat: ${RESIDENTS} residents talking to the bot at once (mock puppet), ${THINK_MS.max ? `pausing ${THINK_MS.min}–${THINK_MS.max} ms before each message` : 'each message sent the instant the last answer arrives'}`);
  const env = await startBenchEnv();
  const bot = await startBot({
    config: env.config,
    logger: env.logger,
    mongo: mongoose.connection,
    redis: env.redis,
  });
  try {
    const seeded = await seedFacility({ rooms: ROOMS, residents: RESIDENTS, tag: 'bot' });
    // BENCH_COUNT=0: timings without the counting (nor the AsyncLocalStorage that carries the step).
    const counting = process.env.BENCH_COUNT !== '0';
    if (counting) countRoundTrips(env.redis);
    const mocker = bot.mocker!;
    const contacts = seeded.residents.map((_, i) => mocker.createContact({ name: `压测居民${i + 1}` }));
    await Identity.insertMany(contacts.map((c, i) => ({ provider: 'wechat_bot', subject: c.id, person: seeded.residents[i]! })));

    // One listener routes the bot's replies to the resident waiting for one.
    const waiting = new Map<string, (text: string) => void>();
    let extraReplies = 0;
    bot.wechaty.on('message', (message: MessageInterface) => {
      if (!message.self()) return;
      const to = message.listener()?.id;
      const resolve = to ? waiting.get(to) : undefined;
      if (!resolve) {
        extraReplies += 1;
        return;
      }
      waiting.delete(to!);
      resolve(message.text());
    });
    // BENCH_LOCKSTEP=1: every resident sends a step's message at the same instant, once all
    // have the previous answer: each step is a burst of RESIDENTS messages, and its CPU per
    // message is measured on its own (the bot, FerretDB, PostgreSQL).
    const lockstep = process.env.BENCH_LOCKSTEP === '1';
    const latencies: number[] = [];
    /** Per step of the conversation, to see where the time goes. */
    const bySteps: Record<string, number[]> = {};
    let timeouts = 0;
    const random = seededRandom(17);
    const think = () => (THINK_MS.max > 0 ? new Promise((r) => setTimeout(r, THINK_MS.min + random() * (THINK_MS.max - THINK_MS.min))) : undefined);
    const say = async (i: number, text: string, step: string) => {
      if (!lockstep) await think();
      return new Promise<string>((resolve) => {
        const contact = contacts[i]!;
        const t0 = performance.now();
        const timer = setTimeout(() => {
          waiting.delete(contact.id);
          timeouts += 1;
          resolve('');
        }, REPLY_TIMEOUT_MS);
        waiting.set(contact.id, (reply) => {
          clearTimeout(timer);
          latencies.push(performance.now() - t0);
          (bySteps[step] ??= []).push(performance.now() - t0);
          resolve(reply);
        });
        if (counting) stepOf.run(step, () => contact.say(text).to(bot.botUser!));
        else void contact.say(text).to(bot.botUser!);
      });
    };

    const day = dayjs.utc(shanghaiDay(new Date())).add(2, 'day');
    const dayText = `${day.month() + 1}月${day.date()}号`;
    const outcomes = { booked: 0, refused: 0 };
    const loadBefore = os.loadavg()[0]!;
    // BENCH_CPU_PROFILE=<folder>: a V8 profile of the conversations only (not the start-up).
    // With BENCH_LOCKSTEP=1, BENCH_PROFILE_STEP=<step> profiles that step's burst only.
    const profileStep = process.env.BENCH_LOCKSTEP === '1' ? process.env.BENCH_PROFILE_STEP : undefined;
    const profiler = process.env.BENCH_CPU_PROFILE && !profileStep ? await startProfiler() : undefined;
    let stepProfiler: Awaited<ReturnType<typeof startProfiler>> | undefined;
    const cpuBefore = await cpuByCommand();
    const started = performance.now();
    const stepCpu: Record<string, Record<string, number>> = {};
    const barrier = (() => {
      let waiting: Array<() => void> = [];
      let arrived = 0;
      let cpu0: Record<string, number> | undefined;
      let step0 = '';
      return async (step: string): Promise<void> => {
        if (!lockstep) return;
        arrived += 1;
        const released = new Promise<void>((r) => waiting.push(r));
        if (arrived === RESIDENTS) {
          const cpu = await cpuByCommand();
          if (cpu0) {
            stepCpu[step0] = Object.fromEntries(Object.entries(cpu).map(([n, sec]) => [n, round(((sec - (cpu0![n] ?? 0)) * 1000) / RESIDENTS, 2)])
              .filter(([, ms]) => (ms as number) > 0));
          }
          if (stepProfiler) {
            console.log(`cpu profile of ${step0}: ${await stepProfiler.stop(process.env.BENCH_CPU_PROFILE ?? 'bench/results', `bot-chat-${step0.replace(/ /g, '-')}`)}`);
            stepProfiler = undefined;
          }
          if (step === profileStep) stepProfiler = await startProfiler();
          [cpu0, step0, arrived] = [await cpuByCommand(), step, 0];
          const all = waiting;
          waiting = [];
          for (const r of all) r();
        }
        await released;
      };
    })();
    const residentsDone = await Promise.all(
      Array.from({ length: RESIDENTS }, async (_, i) => {
        const hour = 8 + (i % 11);
        await barrier('menu');
        await say(i, '你好', 'menu');
        await barrier('free rooms');
        const rooms = await say(i, `${dayText}${hour}点到${hour + 1}点借活动室，5个人`, 'free rooms');
        const options = rooms.split('\n').filter((l) => /^\d+\. /.test(l)).length;
        await barrier('summary');
        if (options) await say(i, String(1 + (i % options)), 'summary');
        await barrier('book');
        const result = await say(i, '确认', 'book');
        if (result.includes('预约成功')) outcomes.booked += 1;
        else outcomes.refused += 1;
        await barrier('my bookings');
        await say(i, '我的预约', 'my bookings');
        await barrier('(end)');
      }),
    );
    void residentsDone;
    const seconds = (performance.now() - started) / 1000;
    const loadAfter = os.loadavg()[0]!;
    const cpuAfter = await cpuByCommand();
    /** CPU ms per message of the conversations, by process. */
    const cpuMsPerMessage = Object.fromEntries(Object.entries(cpuAfter)
      .map(([name, s]) => [name, round(((s - (cpuBefore[name] ?? 0)) * 1000) / Math.max(1, latencies.length), 2)] as const)
      .filter(([, ms]) => ms > 0));
    if (profiler) console.log(`cpu profile: ${await profiler.stop(process.env.BENCH_CPU_PROFILE!, 'bot-chat')}`);
    mongoose.set('debug', false);
    await new Promise((r) => setTimeout(r, 500)); // any late, unexpected reply

    const sorted = [...latencies].sort((a, b) => a - b);
    const s = summarize(latencies);
    const bookings = await RoomBooking.find({ facility: seeded.facility._id, status: 'confirmed' }, { room: 1, start: 1 }).lean();
    const doubleBooked = bookings.length - new Set(bookings.map((b) => `${b.room}:${b.start.toISOString()}`)).size;
    const result = {
      residents: RESIDENTS,
      thinkMs: lockstep ? undefined : THINK_MS,
      concurrentTurns: env.config.wechaty.concurrentTurns,
      messages: latencies.length + timeouts,
      replies: latencies.length,
      seconds: round(seconds, 2),
      repliesPerSec: round(latencies.length / seconds),
      latencyMs: { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), mean: s.mean, max: s.max },
      timeouts,
      extraReplies,
      loadAverage1m: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
      bookings: { ...outcomes, stored: bookings.length, doubleBooked },
      cpuMsPerMessage,
      ...(lockstep ? { lockstep: true, stepCpuMsPerMessage: stepCpu } : {}),
    };
    console.log(table([
      ['residents', 'messages', 'seconds', 'replies/s', 'p50 ms', 'p99 ms', 'max ms', 'timeouts', 'booked', 'refused', 'double-booked'],
      [RESIDENTS, result.messages, result.seconds, result.repliesPerSec, result.latencyMs.p50, result.latencyMs.p99, round(s.max), timeouts, outcomes.booked, outcomes.refused, doubleBooked],
    ]));
    const steps = Object.fromEntries(Object.entries(bySteps).map(([step, ms]) => {
      const sortedStep = [...ms].sort((a, b) => a - b);
      const t = trips[step];
      const perMessage = (n = 0) => round(n / ms.length, 2);
      return [step, {
        n: ms.length, p50: round(percentile(sortedStep, 50)), p99: round(percentile(sortedStep, 99)),
        mongoPerMessage: perMessage(t?.mongo), redisPerMessage: perMessage(t?.redis),
        ops: Object.fromEntries(Object.entries(t?.ops ?? {}).sort(([, a], [, b]) => b - a).map(([op, n]) => [op, perMessage(n)])),
      }];
    }));
    console.log(`load average (1 min): ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`);
    console.log(`CPU ms per message: ${Object.entries(cpuMsPerMessage).map(([n, ms]) => `${n} ${ms}`).join(', ')}`);
    for (const [step, cpu] of Object.entries(stepCpu)) {
      console.log(`  ${step}: CPU ms per message ${Object.entries(cpu).map(([n, ms]) => `${n} ${ms}`).join(', ')}`);
    }
    console.log(table([
      ['step', 'messages', 'p50 ms', 'p99 ms', 'db ops / msg', 'redis trips / msg'],
      ...Object.entries(steps).map(([step, v]) => [step, v.n, v.p50, v.p99, v.mongoPerMessage, v.redisPerMessage]),
    ]));
    {
      for (const [step, v] of Object.entries(steps)) {
        console.log(`${step}: ${Object.entries(v.ops).map(([op, n]) => `${op} ${n}`).join(', ')}`);
      }
    }
    const outside = trips['(outside a message)'];
    if (outside) console.log(`outside a message: ${outside.mongo} db ops, ${outside.redis} redis trips`);
    Object.assign(result, { steps });
    console.log(`results: ${await writeResults('bot-chat', { startedAt: new Date().toISOString(), machine: machine(), storage: env.storage, result })}`);
    const ok = timeouts === 0 && extraReplies === 0 && doubleBooked === 0 && outcomes.booked === bookings.length;
    if (!ok) console.error('problems: a message without a reply, an extra reply, or a room booked twice');
    return ok ? 0 : 1;
  } finally {
    await bot.stop();
    await env.teardown();
  }
}


runBench(main);
