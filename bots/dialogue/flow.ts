import type { Redis } from 'ioredis';
import type { HeldDialogue } from './session.js';
import type { PersonFields } from '../../models/person.js';
import type { AuthUser } from '../../src/auth/user.js';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { Understanding } from '../nlu/index.js';

/** One numbered option: replying its number puts `value` into the slot being asked for. */
export interface Choice {
  label: string;
  value: unknown;
}

/**
 * What a flow says next: ask for one missing slot (with numbered choices when there are
 * some), show the summary and wait for 确认, or answer and end the conversation.
 */
export type Step =
  | { kind: 'ask'; slot: string; text: string; choices?: Choice[]; alternatives?: boolean }
  | { kind: 'confirm'; text: string }
  | { kind: 'done'; text: string };

export interface DialogueDeps {
  config: Config;
  redis: Redis;
  log: Logger;
  /** The contact's dialogue as this message's turn holds it (bots/dialogue/session.ts: oneAtATime). */
  held?: HeldDialogue;
}

/** Who is talking, and when: flows get it with every call. */
export interface Turn {
  deps: DialogueDeps;
  person: PersonFields;
  user: AuthUser;
  now: Date;
  /** The message as typed (a purpose, a note). */
  text: string;
}

/**
 * A conversation for one intent. It holds no business rule: `next` looks at what is known and
 * asks for what is missing (using the same read commands as the API); `alternatives` marks
 * choices offered after a refusal (the nearest free days, the other mode): 确认 takes the first; `execute` calls the
 * same command the API's route calls, whose refusals are AppErrors with Chinese messages.
 */
export interface Flow {
  intent: string;
  /** Copies what this message said into the slots; returns the names of slots it set. */
  absorb(slots: Record<string, unknown>, u: Understanding, turn: Turn): string[];
  next(turn: Turn, slots: Record<string, unknown>): Promise<Step>;
  execute?(turn: Turn, slots: Record<string, unknown>): Promise<string>;
  /** Slots a person may change at the summary (改), with their names in Chinese. */
  changeable?: Array<{ slot: string; label: string; clears?: string[] }>;
}

/** Copies the contract's fields that `names` lists from the understanding into the slots. */
export function absorbFields(slots: Record<string, unknown>, u: Understanding, names: ReadonlyArray<keyof Understanding>): string[] {
  const set: string[] = [];
  for (const name of names) {
    const value = u[name];
    if (value === undefined) continue;
    slots[name] = value;
    set.push(name);
  }
  return set;
}

/** "1. 书画室\n2. 舞蹈室" and the choices behind it. */
export function numbered(choices: Choice[]): string {
  return choices.map((c, i) => `${i + 1}. ${c.label}`).join('\n');
}
