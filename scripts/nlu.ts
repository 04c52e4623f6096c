/**
 * `npm run -s nlu -- --now 2026-11-23T10:00:00+08:00 < messages.txt`: what the bot
 * understands of each message (`../shared/nlu/CONTRACT.md`). Reads one message per line on
 * standard input and writes one JSON object per line on standard output, in the same order,
 * nothing else. `--now` is the moment the messages were received: an ISO date-time, read in
 * Asia/Shanghai when it has no offset (2026-11-23T10:00, 2026-11-23 10:00, 2026-11-23);
 * without it, the current time. Needs no database.
 *
 * Exit codes: 0 done, 64 bad arguments.
 */
import { parseArgs } from 'node:util';
import { parseNow } from '../bots/nlu/days.js';
import { understand } from '../bots/nlu/index.js';

const USAGE = 'usage: npm run -s nlu -- [--now 2026-11-23T10:00:00+08:00] < messages.txt';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<number> {
  let now = new Date();
  try {
    const { values } = parseArgs({ options: { now: { type: 'string' } }, strict: true });
    if (values.now !== undefined) {
      const parsed = parseNow(values.now);
      if (!parsed) throw new Error(`--now is not an ISO date-time: ${values.now}`);
      now = parsed;
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 64;
  }
  const input = await readStdin();
  const lines = input.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  const out = lines.map((line) => JSON.stringify(understand(line, now))).join('\n');
  if (out !== '' || lines.length > 0) process.stdout.write(`${out}\n`);
  return 0;
}

process.exitCode = await main();
