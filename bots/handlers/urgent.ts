import type { AuthUser } from '../../src/auth/user.js';
import type { Config } from '../../src/config.js';
import { acknowledgeUrgentAlert, openUrgentAlertsFor, raiseUrgentHelp } from '../../src/commands/urgentHelp.js';
import { AppError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { Person } from '../../models/person.js';
import { normalise, urgentKindOf, type UrgentKind } from '../nlu/index.js';
import { replies } from '../replies.js';

/** The kind of distress a message says (see bots/nlu/urgent.ts), or undefined. */
export function urgentIn(text: string): UrgentKind | undefined {
  return urgentKindOf(normalise(text));
}

/**
 * 紧急求助 from a contact: the alert is raised through the same command the SOS endpoint
 * calls, and the reply says at once what to do. If raising fails (the database is away) the
 * reply still gives the numbers and says nobody could be told, so nothing is left unsaid.
 */
export async function answerUrgent(
  deps: { config: Config; log: Logger },
  caller: AuthUser | null,
  text: string,
  kind: UrgentKind,
  now = new Date(),
): Promise<string> {
  if (!caller) return replies.urgent(kind, deps.config.urgent.dutyPhone, 'unbound');
  try {
    const { alert, dutyPhone } = await raiseUrgentHelp(deps.config.urgent, caller.person, caller.person._id, text, 'bot', now);
    deps.log.warn({ alertId: String(alert._id), kind }, 'urgent alert raised');
    return replies.urgent(kind, dutyPhone, alert.recipients.length ? 'told' : 'nobody');
  } catch (err) {
    deps.log.error({ kind, errorType: err instanceof Error ? err.name : typeof err }, 'urgent alert failed');
    return replies.urgent(kind, deps.config.urgent.dutyPhone, 'failed');
  }
}

/** What a recipient sends to take an urgent alert they were told of. */
const ACKNOWLEDGE = /^(?:好的?[,，]?)?(?:收到|我去|我来|我来处理|我处理|马上到|马上去|马上过去|我马上去|我马上过去|我过去|我去看看|在路上|已联系|联系上了|我联系|我打电话)(?:了|啦|吧)?[。！!,，]*$/;

/**
 * A recipient's 收到 / 我去 / 马上到: takes the newest open urgent alert they were told of.
 * Undefined when the message is not such an answer or they have none open (the message then
 * goes on to the dialogue).
 */
export async function answerAcknowledgement(user: AuthUser, text: string, now = new Date()): Promise<string | undefined> {
  if (!ACKNOWLEDGE.test(text.trim())) return undefined;
  const [alert] = await openUrgentAlertsFor(user.person._id, 1);
  if (!alert) return undefined;
  try {
    await acknowledgeUrgentAlert(user, alert, now);
  } catch (err) {
    if (err instanceof AppError) return err.message;
    throw err;
  }
  const elder = await Person.findById(alert.person, { name: 1, phone: 1 }).lean();
  return replies.urgentAcknowledged(elder?.name ?? '居民', elder?.phone ?? undefined);
}
