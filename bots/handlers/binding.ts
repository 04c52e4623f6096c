import type { Redis } from 'ioredis';
import { bindBotContact, personIdForContact, type BindingSettings } from '../../src/commands/botBinding.js';
import type { AuthUser } from '../../src/auth/user.js';
import { loadAuthUser } from '../../src/middlewares/authenticate.js';
import { AppError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { replies } from '../replies.js';

export interface TextHandlerDeps {
  redis: Redis;
  binding: BindingSettings;
  log: Logger;
  /** The conversation of a bound person (bots/dialogue). */
  talk(user: AuthUser, contactId: string, text: string): Promise<string>;
  /** Topic of the volunteers' group, where a number replied claims a posted task. */
  volunteerGroup: string;
  /**
   * The sender, looked up before the turn began (bots/index.ts). A burst of first messages
   * waits in the turn queue, and these look-ups are read together while it does. Unbound
   * there means looked up again: an earlier message of the contact may have bound it since.
   */
  caller?: Promise<AuthUser | null>;
}

/** Full-width digits (０-９, as Chinese input methods often type them) become ASCII ones. */
function asciiDigits(text: string): string {
  return text.replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xff10 + 0x30));
}

/**
 * The binding code in a message, when the message is nothing but 6 digits (surrounding
 * spaces, full-width spaces and full-width digits allowed); otherwise undefined.
 */
export function bindingCodeIn(text: string): string | undefined {
  const candidate = asciiDigits(text).trim();
  return /^[0-9]{6}$/.test(candidate) ? candidate : undefined;
}

/**
 * The person bound to a contact, as the caller of the commands (with the elders they act for),
 * or null. An identity left pointing at a deleted or anonymised record binds nobody: the
 * contact is treated as new. Both reads come from the read cache.
 */
export async function callerForContact(contactId: string): Promise<AuthUser | null> {
  const personId = await personIdForContact(contactId);
  if (!personId) return null;
  try {
    return await loadAuthUser(String(personId), 'bot');
  } catch (err) {
    if (err instanceof AppError) return null;
    throw err;
  }
}

/**
 * The answer to a text message from `contactId`. An unbound contact can only bind (send the
 * 6-digit code) or learn how to; a bound one talks to the dialogues (bots/dialogue).
 * Business rules stay in the commands: a refused code comes back as an AppError whose
 * Chinese message is the reply.
 */
export async function answerText(deps: TextHandlerDeps, contactId: string, text: string): Promise<string> {
  const caller = (await deps.caller) ?? (await callerForContact(contactId));
  if (caller) return deps.talk(caller, contactId, text);

  const code = bindingCodeIn(text);
  if (!code) return replies.howToBind;
  try {
    const bound = await bindBotContact(deps.redis, contactId, code, deps.binding);
    deps.log.info({ personId: String(bound._id) }, 'bot contact bound');
    return replies.bindingSucceeded(bound.name);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    // The error's code says why (invalid, too many tries); never the code that was sent.
    deps.log.info({ errorCode: err.code }, 'bot binding refused');
    return err.message;
  }
}
