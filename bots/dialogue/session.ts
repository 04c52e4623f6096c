import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Step } from './flow.js';

/** A conversation forgets itself after 30 minutes of silence (issue 9). */
export const DIALOGUE_TTL_SECONDS = 30 * 60;

/** Where a contact's conversation stands: which flow, what it knows, what it last asked. */
export interface DialogueState {
  flow: string;
  slots: Record<string, unknown>;
  /** The order slots were filled in, so 返回 can undo the last answer. */
  filled: string[];
  /** The question or summary the contact is answering. */
  step: Step;
  /** A conversation put aside by a topic change; it resumes when this one ends. */
  paused?: DialogueState;
}

const stateKey = (contactId: string) => `bot-dialogue:${contactId}`;
const lockKey = (contactId: string) => `bot-dialogue-lock:${contactId}`;

export async function loadDialogue(redis: Redis, contactId: string): Promise<DialogueState | null> {
  const raw = await redis.get(stateKey(contactId));
  return raw ? (JSON.parse(raw) as DialogueState) : null;
}

export async function saveDialogue(redis: Redis, contactId: string, state: DialogueState): Promise<void> {
  await redis.set(stateKey(contactId), JSON.stringify(state), 'EX', DIALOGUE_TTL_SECONDS);
}

export async function clearDialogue(redis: Redis, contactId: string): Promise<void> {
  await redis.del(stateKey(contactId));
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const LOCK_MS = 30_000;
const chains = new Map<string, Promise<unknown>>();

/**
 * Runs `work` for one contact at a time: two quick messages are answered in order, never
 * racing over the dialogue state. In this process a promise chain per contact keeps the order;
 * across instances a Redis lock (with expiry, released only by its holder) does.
 */
export function oneAtATime<T>(redis: Redis, contactId: string, work: () => Promise<T>): Promise<T> {
  const previous = chains.get(contactId) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const token = randomUUID();
    const deadline = Date.now() + LOCK_MS;
    while (!(await redis.set(lockKey(contactId), token, 'PX', LOCK_MS, 'NX'))) {
      if (Date.now() > deadline) break; // a holder that died: its lock has expired by now
      await new Promise((r) => setTimeout(r, 25));
    }
    try {
      return await work();
    } finally {
      await redis.eval(RELEASE, 1, lockKey(contactId), token).catch(() => undefined);
    }
  });
  chains.set(contactId, run);
  void run.finally(() => {
    if (chains.get(contactId) === run) chains.delete(contactId);
  }).catch(() => undefined);
  return run;
}
