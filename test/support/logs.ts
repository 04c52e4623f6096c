import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

/**
 * Every log line the code under test writes, as text. Tests assert on it (e.g. that no
 * line holds a phone number or a secret) and it keeps the test output readable.
 */
export const capturedLogLines: string[] = [];

const sink = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    for (const line of chunk.toString().split('\n')) if (line) capturedLogLines.push(line);
    if (capturedLogLines.length > 50_000) capturedLogLines.splice(0, capturedLogLines.length - 50_000);
    if (process.env.TEST_LOGS === '1') process.stderr.write(chunk);
    callback();
  },
});

/** A real pino logger (same redaction as production) writing into capturedLogLines. */
export function createTestLogger(level: 'debug' | 'info' = 'debug'): Logger {
  return createLogger({ logLevel: level }, sink);
}
